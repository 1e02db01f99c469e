// Fuzz target: one Binance WebSocket message through KlineParser::parse, called the way
// ws_session.cpp calls it: one parser reused for every message, and a receive buffer reused too,
// so the padding past the message holds leftovers of earlier messages. The input is parsed twice,
// with zero padding and with garbage padding; the results must agree (the padding is only ever
// read, never interpreted). The buffer is exactly len + kParsePadding so ASan flags any read past.
#include <cstring>
#include <memory>
#include <string>

#include "binance/kline_parser.hpp"
#include "venue/types.hpp"
#include "fuzz_check.hpp"

namespace {

using mdfeed::Bar;
using mdfeed::venue::kParsePadding;
using mdfeed::binance::KlineMsg;
using mdfeed::binance::MsgKind;

// What one parse produced, copied out of the views before the next parse invalidates them.
struct Outcome {
  MsgKind kind = MsgKind::kError;
  std::string error, stream, symbol, interval, control_msg;
  std::int64_t event_time_ms = 0, control_id = 0, control_code = 0;
  bool control_ok = false;
  Bar bar{};
  mdfeed::binance::AggTrade trade{};
};

Outcome parse(mdfeed::binance::KlineParser& p, const char* buf, std::size_t len) {
  KlineMsg m;
  Outcome o;
  o.kind = p.parse(buf, len, len + kParsePadding, m);
  o.error = p.last_error();
  // The contract: last_error() says why exactly when the result is kError.
  MDFEED_FUZZ_CHECK((o.kind == MsgKind::kError) == !o.error.empty());
  switch (o.kind) {
    case MsgKind::kKline:
      o.stream = m.stream;
      o.symbol = m.symbol;
      o.interval = m.interval;
      o.event_time_ms = m.event_time_ms;
      o.bar = m.bar;
      MDFEED_FUZZ_CHECK((m.bar.flags & ~mdfeed::kBarClosed) == 0);
      break;
    case MsgKind::kTrade:
      o.stream = m.stream;
      o.symbol = m.symbol;
      o.event_time_ms = m.event_time_ms;
      o.trade = m.trade;
      MDFEED_FUZZ_CHECK(m.trade.first_id <= m.trade.last_id);
      break;
    case MsgKind::kNotKline:
      o.stream = m.stream;
      break;
    case MsgKind::kControlReply:
      o.control_id = m.control.id;
      o.control_ok = m.control.ok;
      o.control_code = m.control.error_code;
      o.control_msg = m.control.error_msg;
      break;
    case MsgKind::kServerShutdown:
      o.event_time_ms = m.event_time_ms;
      break;
    case MsgKind::kError:
      break;
  }
  return o;
}

bool same(const Outcome& a, const Outcome& b) {
  return a.kind == b.kind && a.error == b.error && a.stream == b.stream && a.symbol == b.symbol &&
         a.interval == b.interval && a.control_msg == b.control_msg &&
         a.event_time_ms == b.event_time_ms && a.control_id == b.control_id &&
         a.control_code == b.control_code && a.control_ok == b.control_ok &&
         std::memcmp(&a.bar, &b.bar, sizeof(Bar)) == 0 &&
         a.trade.agg_id == b.trade.agg_id && a.trade.first_id == b.trade.first_id &&
         a.trade.last_id == b.trade.last_id && a.trade.trade_time_ms == b.trade.trade_time_ms &&
         a.trade.buyer_is_maker == b.trade.buyer_is_maker &&
         std::memcmp(&a.trade.price, &b.trade.price, sizeof(double)) == 0 &&
         std::memcmp(&a.trade.quantity, &b.trade.quantity, sizeof(double)) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static mdfeed::binance::KlineParser parser;  // reused, as on a live connection
  const std::unique_ptr<char[]> buf(new char[size + kParsePadding]);
  if (size > 0) std::memcpy(buf.get(), data, size);

  std::memset(buf.get() + size, 0, kParsePadding);
  const Outcome clean = parse(parser, buf.get(), size);

  // Leftovers of a longer earlier message: here, the message's own bytes again.
  for (std::size_t i = 0; i < kParsePadding; ++i)
    buf[size + i] = size > 0 ? static_cast<char>(data[i % size]) : '"';
  const Outcome dirty = parse(parser, buf.get(), size);
  MDFEED_FUZZ_CHECK(same(clean, dirty));

  // A buffer one byte short of the padding is refused, never read past.
  if (size > 0) {
    KlineMsg m;
    const MsgKind k = parser.parse(buf.get(), size, size + kParsePadding - 1, m);
    MDFEED_FUZZ_CHECK(k == MsgKind::kError);
  }
  return 0;
}
