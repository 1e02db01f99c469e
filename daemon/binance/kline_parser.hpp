// Binance WebSocket message parser: bytes in, a kline (or "not a kline", a control reply, a
// shutdown notice, an error) out. Pure: no I/O, no logging, no allocation per message.
#pragma once

#include <cstddef>
#include <memory>

#include "binance/messages.hpp"

namespace mdfeed::binance {


// One per connection (not thread-safe). Holds one simdjson On-Demand parser whose buffers grow
// geometrically up to max_bytes and are then reused; a larger message is an error and never
// makes it allocate more.
//
// Accepts the combined-stream envelope {"stream":..,"data":{..}}, raw events {"e":"kline",..},
// control replies {"result":..,"id":..} / {"error":{..},"id":..}, and serverShutdown at the top
// level, inside "data" or inside "event". Market data other than klines is recognised from the
// stream name (or raw event type) by a byte scan and skipped without running simdjson; such a
// message is therefore not validated.
class KlineParser {
 public:
  explicit KlineParser(std::size_t max_bytes = std::size_t{1} << 20);
  ~KlineParser();
  KlineParser(KlineParser&&) noexcept;
  KlineParser& operator=(KlineParser&&) noexcept;
  KlineParser(const KlineParser&) = delete;
  KlineParser& operator=(const KlineParser&) = delete;

  // capacity >= len + venue::kParsePadding (64): the caller guarantees the padding bytes exist.
  // On kKline every kline field has been checked for presence and type. On kNotKline from the
  // byte-scan skip, out.stream names the stream. On kError, last_error() says why, the other
  // fields of out are unspecified, and the parser is ready for the next message.
  [[nodiscard]] MsgKind parse(const char* data, std::size_t len, std::size_t capacity,
                              KlineMsg& out) noexcept;

  // Why the last parse returned kError; "" after any other result.
  [[nodiscard]] const char* last_error() const noexcept;
  [[nodiscard]] std::size_t max_bytes() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;  // keeps simdjson.h out of this header
};

}  // namespace mdfeed::binance
