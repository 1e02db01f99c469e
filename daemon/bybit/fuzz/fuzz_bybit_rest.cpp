// Fuzz target: one body through the Bybit REST functions: classify() (as a 200 answer), the
// klines parser (1m and 1M) and the server-time parser. Bars that come back must be strictly
// ascending, backfilled, without trade counts; a failed parse leaves none.
#include <cmath>
#include <string_view>
#include <vector>

#include "bybit/spec.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& rest = mdfeed::bybit::kSpotSpec.rest;
  const std::string_view body(reinterpret_cast<const char*>(data), size);

  mdfeed::venue::HttpAnswer a;
  a.status = 200;
  a.body = body;
  a.reset_header = body.substr(0, 16);
  a.exchange_now_ms = 1'700'000'000'000;
  const auto c = rest.classify(a);
  MDFEED_FUZZ_CHECK(c.wait_ms >= 0);
  MDFEED_FUZZ_CHECK(c.ok() == c.message.empty());

  std::vector<mdfeed::Bar> out;
  for (const char* interval : {"1m", "1M"}) {
    const auto r = rest.parse_klines(body, "BTCUSDT", interval, out);
    if (!r.ok()) {
      MDFEED_FUZZ_CHECK(out.empty());
      MDFEED_FUZZ_CHECK(!r.message.empty());
      continue;
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
      MDFEED_FUZZ_CHECK(out[i].flags == (mdfeed::kBarBackfilled | mdfeed::kBarNoTrades));
      MDFEED_FUZZ_CHECK(std::isnan(out[i].taker_buy_volume));
      if (i > 0) MDFEED_FUZZ_CHECK(out[i].open_time_ms > out[i - 1].open_time_ms);
    }
  }
  static_cast<void>(rest.parse_server_time(body));
  return 0;
}
