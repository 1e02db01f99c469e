// Binance WebSocket stream names and control messages.
#include "binance/streams.hpp"

namespace mdfeed::binance {

namespace {
std::string lower_symbol_at(std::string_view symbol, std::string_view suffix) {
  std::string s;
  s.reserve(symbol.size() + suffix.size());
  for (char c : symbol) s += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  s += suffix;
  return s;
}
}  // namespace

std::string stream_name(std::string_view symbol, std::string_view interval) {
  std::string s = lower_symbol_at(symbol, "@kline_");
  s += interval;
  return s;
}

std::string trade_stream_name(std::string_view symbol) { return lower_symbol_at(symbol, "@aggTrade"); }

std::string combined_path(const std::vector<std::string>& streams) {
  std::string p = "/stream?streams=";
  for (std::size_t i = 0; i < streams.size(); ++i) {
    if (i != 0) p += '/';
    p += streams[i];
  }
  return p;
}

std::string subscribe_message(std::string_view method, std::int64_t id,
                              const std::vector<std::string>& streams) {
  std::string m = "{\"method\":\"";
  m += method;
  m += "\",\"params\":[";
  for (std::size_t i = 0; i < streams.size(); ++i) {
    if (i != 0) m += ',';
    m += '"';
    m += streams[i];
    m += '"';
  }
  m += "],\"id\":";
  m += std::to_string(id);
  m += '}';
  return m;
}

}  // namespace mdfeed::binance
