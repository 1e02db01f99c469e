// Junk, oversize and serverShutdown messages (see wire.hpp).
#include "fake_exchange/wire.hpp"

#include "fake_exchange/market.hpp"

namespace mdfeed::fake {

std::string garbage_frame(std::uint64_t seq, const StreamKey& key, std::int64_t sim_now_ms) {
  const std::string stream = kline_stream_name(key.symbol, key.interval);
  const std::string envelope = R"({"stream":")" + stream + R"(","data":)";
  const std::string now = std::to_string(sim_now_ms);
  const std::string open = std::to_string(bar_open_at(key.interval, sim_now_ms));
  switch (seq % kGarbageKinds) {
    case 0:
      return "this is not json";
    case 1:
      return envelope + R"({"e":"kline","E":)" + now + R"(,"s":")" + key.symbol + R"(","k":{"t":)";
    case 2:
      return envelope + R"({"e":"kline","E":"now","s":")" + key.symbol +
             R"(","k":{"t":"abc","T":"def","s":")" + key.symbol + R"(","i":")" + key.interval +
             R"(","f":"x","L":null,"o":1.5,"c":true,"h":[],"l":{},"v":"NaN","n":"many",)"
             R"("x":"false","q":"1","V":"1","Q":"1","B":"0"}}})";
    case 3:
      return envelope + R"({"e":"kline","E":)" + now + R"(,"s":")" + key.symbol + R"(","k":{"t":)" +
             open + R"(,"s":")" + key.symbol + R"(","i":")" + key.interval + R"(","x":true}}})";
    case 4: {
      const BarUnits bar = forming_units(key.symbol, key.interval,
                                         bar_open_at(key.interval, sim_now_ms), sim_now_ms);
      std::string full = kline_message(key.symbol, key.interval, sim_now_ms, bar, false);
      full.resize(full.size() / 2);
      return full;
    }
    default:
      return envelope + "null}";
  }
}

std::string oversize_message(std::size_t bytes) {
  static constexpr std::string_view kHead = R"({"stream":"oversize","data":")";
  static constexpr std::string_view kTail = R"("})";
  if (bytes < kHead.size() + kTail.size()) return std::string(bytes, 'x');
  std::string s;
  s.reserve(bytes);
  s += kHead;
  s.append(bytes - kHead.size() - kTail.size(), 'x');
  s += kTail;
  return s;
}

std::string shutdown_event(std::int64_t event_time_ms, bool combined) {
  const std::string event = R"({"e":"serverShutdown","E":)" + std::to_string(event_time_ms) + "}";
  if (!combined) return event;
  return R"({"stream":"!serverShutdown","data":)" + event + "}";
}

}  // namespace mdfeed::fake
