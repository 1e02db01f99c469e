// Fuzz target: a REST body through parse_klines_response (and parse_server_time, which shares the
// buffer handling). Bodies arrive in ordinary strings without simdjson's padding, so the input is
// passed as is; libFuzzer's exact-size buffer makes ASan flag any read past the body.
#include <string_view>
#include <vector>

#include "binance/rest.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using mdfeed::binance::RestStatus;
  const std::string_view body(reinterpret_cast<const char*>(data), size);

  std::vector<mdfeed::Bar> bars(3);  // stale content: parse_klines must clear it
  const mdfeed::binance::RestResult r = mdfeed::binance::parse_klines_response(body, bars);
  switch (r.status) {
    case RestStatus::kOk:
      MDFEED_FUZZ_CHECK(r.message.empty());
      for (std::size_t i = 0; i < bars.size(); ++i) {
        MDFEED_FUZZ_CHECK(bars[i].flags == mdfeed::kBarBackfilled);
        // The bar book relies on strictly ascending open times.
        if (i > 0) MDFEED_FUZZ_CHECK(bars[i].open_time_ms > bars[i - 1].open_time_ms);
      }
      break;
    case RestStatus::kInvalidSymbol:
      MDFEED_FUZZ_CHECK(bars.empty() && r.code == mdfeed::binance::kInvalidSymbolCode);
      break;
    case RestStatus::kApiError:
      MDFEED_FUZZ_CHECK(bars.empty() && r.code != mdfeed::binance::kInvalidSymbolCode);
      break;
    case RestStatus::kError:
      MDFEED_FUZZ_CHECK(bars.empty() && !r.message.empty());
      break;
  }

  static_cast<void>(mdfeed::binance::parse_server_time(body));
  return 0;
}
