// The adapter registry: one line per venue.
#include "adapter/adapter.hpp"

#include <iterator>

#include "binance/binance_adapter.hpp"

namespace mdfeed::adapter {
namespace {

// A venue is one folder in daemon/ plus one line here (and its header above).
const Adapter* const kRegistry[] = {
    &binance::kAdapter,
};

}  // namespace

const Adapter* find_adapter(std::string_view name) noexcept {
  for (const Adapter* a : kRegistry)
    if (a->name == name) return a;
  return nullptr;
}

std::pair<const Adapter* const*, std::size_t> all_adapters() noexcept {
  return {kRegistry, std::size(kRegistry)};
}

}  // namespace mdfeed::adapter
