// Latency-probe klines (see probe.hpp).
#include "fake_exchange/probe.hpp"

#include <time.h>

#include "fake_exchange/market.hpp"

namespace mdfeed::fake {

std::uint64_t probe_now_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

std::string probe_kline_message(std::string_view symbol, std::string_view interval,
                                std::int64_t event_time_ms, std::int64_t open_ms,
                                std::uint64_t seq, std::uint64_t send_ns, bool combined) {
  const std::string sym(symbol);
  std::string upper = sym;
  for (char& ch : upper)
    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
  const std::string s = std::to_string(seq) + ".00000000";
  const std::string ns = std::to_string(send_ns) + ".00000000";
  std::string out;
  out.reserve(512);
  if (combined) out += R"({"stream":")" + kline_stream_name(upper, interval) + R"(","data":)";
  out += R"({"e":"kline","E":)" + std::to_string(event_time_ms) + R"(,"s":")" + upper +
         R"(","k":{"t":)" + std::to_string(open_ms) +
         R"(,"T":)" + std::to_string(bar_close_time(interval, open_ms)) + R"(,"s":")" + upper +
         R"(","i":")" + std::string(interval) + R"(","f":1,"L":)" + std::to_string(seq) +
         R"(,"o":"1.00000000","c":")" + s + R"(","h":")" + s + R"(","l":"1.00000000","v":")" + ns +
         R"(","n":)" + std::to_string(seq) + R"(,"x":false,"q":")" + ns +
         R"(","V":"0.00000000","Q":"0.00000000","B":"0"}})";
  if (combined) out += '}';
  return out;
}

}  // namespace mdfeed::fake
