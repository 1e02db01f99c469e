// Fuzz target: an OKX REST answer through classify(), parse_klines() (spot and swap) and
// parse_server_time(). Invariants: a failed parse leaves no bars; a successful one gives
// strictly ascending open times, backfilled and trade-count-less bars with NaN taker fields.
#include <cmath>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "okx/spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto& rest = mdfeed::okx::kSpec.rest;
  mdfeed::venue::HttpAnswer a;
  a.status = 200;
  a.body = body;
  const auto c = rest.classify(a);
  MDFEED_FUZZ_CHECK(c.ok() == c.message.empty());  // errors always say why
  a.status = 429;
  MDFEED_FUZZ_CHECK(rest.classify(a).verdict == mdfeed::venue::RestVerdict::kRetryAfter);

  std::vector<mdfeed::Bar> out;
  for (std::string_view symbol : {"BTC-USDT", "BTC-USDT-SWAP"}) {
    const auto o = rest.parse_klines(body, symbol, "1m", out);
    if (!o.ok()) {
      MDFEED_FUZZ_CHECK(out.empty());
      MDFEED_FUZZ_CHECK(!o.message.empty() || o.verdict == mdfeed::venue::RestVerdict::kVenueError ||
                        o.verdict == mdfeed::venue::RestVerdict::kInvalidSymbol ||
                        o.verdict == mdfeed::venue::RestVerdict::kRetryAfter);
      continue;
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
      const auto& b = out[i];
      if (i > 0) MDFEED_FUZZ_CHECK(out[i - 1].open_time_ms < b.open_time_ms);
      MDFEED_FUZZ_CHECK(b.flags == (mdfeed::kBarBackfilled | mdfeed::kBarNoTrades));
      MDFEED_FUZZ_CHECK(std::isnan(b.taker_buy_volume) && std::isnan(b.taker_buy_quote_volume));
      MDFEED_FUZZ_CHECK(b.close_time_ms == b.open_time_ms + 60'000 - 1);
    }
  }
  static_cast<void>(rest.parse_server_time(body));
  return 0;
}
