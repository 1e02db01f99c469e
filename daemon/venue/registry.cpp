// The venue registry: one line per venue. Config validation (exchange:, intervals:) and the
// daemon both look venues up here, and nowhere else.
#include <iterator>

#include "venue/venue.hpp"

#include "binance/spec.hpp"
#include "okx/spec.hpp"
#include "bybit/spec.hpp"

namespace mdfeed::venue {
namespace {

const Spec* const kRegistry[] = {
    &binance::kSpotSpec,
    &binance::kUsdmSpec,
    &okx::kSpec,
    &bybit::kSpotSpec,
    &bybit::kLinearSpec,
};

}  // namespace

const Spec* find(std::string_view name) noexcept {
  for (const Spec* s : kRegistry)
    if (s->name == name) return s;
  return nullptr;
}

SpecList all() noexcept { return {kRegistry, std::size(kRegistry)}; }

}  // namespace mdfeed::venue
