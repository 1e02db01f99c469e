// OKX v5 WebSocket protocol: candle topics, subscribe frames, the text ping heartbeat and the
// message parser (simdjson On-Demand, one bounded parser per connection).
// Sources (OKX API v5 docs, https://www.okx.com/docs-v5/en/):
//  - "Overview / WebSocket / Connect": keep-alive: when nothing arrived for N < 30 s send the
//    string 'ping', expect 'pong'; a connection silent for 30 s is dropped.
//  - "Overview / WebSocket / Subscribe": {"id":"..","op":"subscribe","args":[{channel,instId}]};
//    the args of one request may total at most 64 KB; answer {"event":"subscribe","arg":{..},
//    "connId":".."} per arg, or {"event":"error","code":"60012","msg":"..","connId":".."}.
//  - "Overview / WebSocket / Notification": {"event":"notice","code":"64008","msg":"The
//    connection will soon be closed for a service upgrade..."} shortly before a disconnect.
//  - "Order book trading / Market data / WS / Candlesticks channel" (business endpoint):
//    {"arg":{"channel":"candle1D","instId":"BTC-USDT"},"data":[["1597026383085","8533.02",
//    "8553.74","8527.17","8548.26","45247","529.5858061","529.5858061","0"]]}.
#include <algorithm>
#include <charconv>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>

#include "okx/candle_row.hpp"
#include "okx/protocol.hpp"
#include "venue/error_text.hpp"

namespace mdfeed::okx {
namespace {

using venue::Event;
using venue::EventKind;

constexpr std::size_t kMaxDepth = 32;
// A candle push is ~200 bytes and a books push a few KB: steady state never grows past this.
constexpr std::size_t kInitialCapacity = 16 * 1024;
constexpr std::size_t kTopicReserve = 64;  // "candle12Hutc:" + the longest instrument ids

constexpr char kCandlePrefix[] = "candle";
constexpr std::size_t kCandlePrefixLen = sizeof(kCandlePrefix) - 1;
// OKX writes no whitespace and puts "arg" first in pushes; anything else takes the full path.
constexpr char kPushPrefix[] = R"({"arg":{"channel":")";
constexpr std::size_t kPushPrefixLen = sizeof(kPushPrefix) - 1;

// A push of a channel other than candles (books, trades, tickers) is recognised by a byte scan of
// its head and skipped without running simdjson; such a message is therefore not validated.
bool skippable_push(const char* data, std::size_t len) noexcept {
  if (len <= kPushPrefixLen || std::memcmp(data, kPushPrefix, kPushPrefixLen) != 0) return false;
  const char* p = data + kPushPrefixLen;
  const auto rest = len - kPushPrefixLen;
  const auto* quote = static_cast<const char*>(std::memchr(p, '"', rest));
  if (quote == nullptr) return false;
  const auto n = static_cast<std::size_t>(quote - p);
  if (std::memchr(p, '\\', n) != nullptr) return false;
  return !(n > kCandlePrefixLen && std::memcmp(p, kCandlePrefix, kCandlePrefixLen) == 0);
}

// OKX sends codes and ids as strings ("60012", "7"); a number is accepted too. Anything else
// (null, a non-numeric string) leaves out unchanged.
error_code get_int_like(od::value& v, std::int64_t& out) noexcept {
  od::json_type t{};
  if (error_code e = v.type().get(t)) return e;
  if (t == od::json_type::number) return v.get_int64().get(out);
  if (t != od::json_type::string) return simdjson::SUCCESS;
  std::string_view s;
  if (error_code e = v.get_string().get(s)) return e;
  std::int64_t x = 0;
  const auto* end = s.data() + s.size();
  if (!s.empty() && std::from_chars(s.data(), end, x).ptr == end) out = x;
  return simdjson::SUCCESS;
}

class Ws final : public venue::WsProtocol {
 public:
  explicit Ws(std::size_t max_bytes) : parser_(max_bytes), max_bytes_(max_bytes) {
    // Best effort: a failure here is retried, and reported, by the first parse that needs it.
    const error_code e = parser_.allocate(std::min(max_bytes_, kInitialCapacity), kMaxDepth);
    static_cast<void>(e);
    topic_.reserve(kTopicReserve);
  }

  // "candle1H:BTC-USDT": the OKX channel and the instrument id, as the push's arg carries them.
  std::string kline_topic(std::string_view symbol, std::string_view interval) const override {
    std::string t(kCandlePrefix);
    t += okx_interval(interval);
    t += ':';
    t += symbol;
    return t;
  }

  // Candles are on the business endpoint; every topic is subscribed by message.
  std::string connect_path(const std::vector<std::string>&, std::size_t& in_url) const override {
    in_url = 0;
    return "/ws/v5/business";
  }

  std::vector<std::string> control_frames(const std::vector<std::string>& topics, bool subscribe,
                                          std::int64_t& next_id) const override;

  // Sends `ping` once nothing has arrived for kPingAfterMs, and again only when another
  // kPingAfterMs pass with nothing received since the last ping (an answered ping moves
  // last_rx_ms past it). Core enforces the pong deadline.
  std::optional<std::string> heartbeat(std::int64_t now_ms, std::int64_t last_rx_ms,
                                       std::int64_t period_ms) override {
    if (period_ms <= 0 || now_ms - last_rx_ms < period_ms) return std::nullopt;
    if (last_ping_ms_ >= last_rx_ms && now_ms - last_ping_ms_ < period_ms) return std::nullopt;
    last_ping_ms_ = now_ms;
    return std::string("ping");
  }

  Event parse(const char* data, std::size_t len, std::size_t capacity) noexcept override;

  const char* last_error() const noexcept override { return error_.c_str(); }

 private:
  struct Msg {
    std::string_view event;
    bool has_event = false;
    bool has_arg = false;
    bool kline = false;        // arg names a candle channel mdfeed serves
    bool data_pending = false;  // "data" came before "arg"
    bool has_data = false;
    std::string_view interval;  // canonical
    bool derivative = false;
    std::int64_t code = 0;
    std::string_view msg;
    std::int64_t id = -1;
    Bar bar{};
  };

  // The same for the bool helpers: `return fail(...)`.
  template <class... A>
  bool fail(const char* fmt, A... args) noexcept {
    return error_.fail(false, fmt, args...);
  }
  bool fail_json(const char* where, error_code e) noexcept {
    return fail("%s: %s", where, simdjson::error_message(e));
  }
  error_code ensure_capacity(std::size_t len) noexcept {
    if (parser_.capacity() >= len) return simdjson::SUCCESS;
    const std::size_t want =
        std::min(max_bytes_, std::max({len, 2 * parser_.capacity(), kInitialCapacity}));
    return parser_.allocate(want, kMaxDepth);
  }
  // The kError event for a failed helper: `return as_error(fail(...))` (error_ is set).
  static Event as_error(bool /*always false*/) noexcept {
    Event e;
    e.kind = EventKind::kError;
    return e;
  }
  bool top_field(const od::raw_json_string& key, od::value& v, Msg& m) noexcept;
  bool parse_arg(od::value& v, Msg& m) noexcept;
  bool parse_data(od::value& v, Msg& m) noexcept;
  Event classify(const Msg& m) noexcept;

  od::parser parser_;
  std::size_t max_bytes_;
  venue::ErrorText error_;
  std::string topic_;
  std::int64_t last_ping_ms_ = std::numeric_limits<std::int64_t>::min();
};

std::vector<std::string> Ws::control_frames(const std::vector<std::string>& topics,
                                            bool subscribe, std::int64_t& next_id) const {
  std::vector<std::string> out;
  std::string frame;
  std::size_t args = 0;
  for (const auto& t : topics) {
    const std::string_view topic(t);
    const std::size_t colon = topic.find(':');
    std::string arg = "{\"channel\":\"";
    arg += topic.substr(0, colon);
    arg += "\",\"instId\":\"";
    if (colon != std::string_view::npos) arg += topic.substr(colon + 1);
    arg += "\"}";
    // Close the frame when it is full by count, or when this arg and "]}" would pass 64 KB.
    if (!frame.empty() &&
        (args == kMaxTopicsPerRequest || frame.size() + 1 + arg.size() + 2 > kMaxRequestBytes)) {
      frame += "]}";
      out.push_back(std::move(frame));
      frame.clear();
    }
    if (frame.empty()) {
      frame = "{\"id\":\"";
      frame += std::to_string(next_id++);
      frame += subscribe ? "\",\"op\":\"subscribe\",\"args\":[" : "\",\"op\":\"unsubscribe\",\"args\":[";
      args = 0;
    }
    if (args != 0) frame += ',';
    frame += arg;
    ++args;
  }
  if (!frame.empty()) out.push_back(frame + "]}");
  return out;
}

Event Ws::parse(const char* data, std::size_t len, std::size_t capacity) noexcept {
  error_.clear();
  if (!json::check_message(data, len, capacity, max_bytes_, error_.data(), venue::ErrorText::kSize))
    return as_error(false);
  if (len == 4 && std::memcmp(data, "pong", 4) == 0) {
    Event e;
    e.kind = EventKind::kPong;
    return e;
  }
  if (skippable_push(data, len)) return Event{};  // kIgnored
  if (error_code e = ensure_capacity(len)) return as_error(fail_json("parser buffers", e));
  od::document doc;
  if (error_code e = parser_.iterate(data, len, capacity).get(doc)) return as_error(fail_json("message", e));
  od::object top;
  if (error_code e = doc.get_object().get(top)) return as_error(fail_json("message", e));
  Msg m;
  bool stopped = false;
  if (error_code e = json::for_each_field(top, stopped, [&](const od::raw_json_string& key, od::value& v) {
        return top_field(key, v, m);
      }))
    return as_error(fail_json("message", e));
  if (stopped) return as_error(false);
  if (json::has_trailing_content(doc)) return as_error(fail("trailing content after the JSON object"));
  if (m.data_pending && m.kline) {
    // "data" before "arg": OKX does not do this, but JSON allows it. The document was valid, so
    // a second pass may look the data up; the topic is already copied out of the parser.
    doc.rewind();
    od::value v;
    if (error_code e = doc.find_field_unordered("data").get(v)) return as_error(fail_json("data", e));
    if (!parse_data(v, m)) return as_error(false);
  }
  return classify(m);
}

// One top-level field: event, arg, data, code, msg, id; anything else is skipped.
bool Ws::top_field(const od::raw_json_string& key, od::value& v, Msg& m) noexcept {
  if (key == "event") {
    if (error_code e = v.get_string().get(m.event)) return fail_json("event", e);
    m.has_event = true;
  } else if (key == "arg") {
    return parse_arg(v, m);
  } else if (key == "data") {
    if (!m.has_arg) m.data_pending = true;
    else if (m.kline) return parse_data(v, m);
  } else if (key == "code") {
    if (error_code e = get_int_like(v, m.code)) return fail_json("code", e);
  } else if (key == "msg") {
    if (error_code e = v.get_string().get(m.msg)) return fail_json("msg", e);
  } else if (key == "id") {
    if (error_code e = get_int_like(v, m.id)) return fail_json("id", e);
  }
  return true;
}

// {"channel":"candle1m","instId":"BTC-USDT"} (other keys, such as instType, are skipped).
bool Ws::parse_arg(od::value& v, Msg& m) noexcept {
  od::object arg;
  if (error_code e = v.get_object().get(arg)) return fail_json("arg", e);
  std::string_view channel, inst;
  bool has_channel = false, has_inst = false;
  bool stopped = false;
  if (error_code e = json::for_each_field(arg, stopped, [&](const od::raw_json_string& key, od::value& f) {
        if (key == "channel") {
          if (error_code e2 = f.get_string().get(channel)) return fail_json("arg.channel", e2);
          has_channel = true;
        } else if (key == "instId") {
          if (error_code e2 = f.get_string().get(inst)) return fail_json("arg.instId", e2);
          has_inst = true;
        }
        return true;
      }))
    return fail_json("arg", e);
  if (stopped) return false;
  if (!has_channel) return fail("missing field arg.channel");
  m.has_arg = true;
  if (channel.size() <= kCandlePrefixLen || channel.substr(0, kCandlePrefixLen) != kCandlePrefix)
    return true;
  m.interval = canonical_interval(channel.substr(kCandlePrefixLen));
  if (m.interval.empty()) return true;  // a candle bar mdfeed does not serve: not ours
  if (!has_inst) return fail("missing field arg.instId");
  m.kline = true;
  m.derivative = is_derivative(inst);
  // The topic outlives the parser's string buffer (a rewind reuses it); no allocation once the
  // reserved capacity covers the longest topic seen.
  topic_.assign(channel.data(), channel.size());
  topic_ += ':';
  topic_.append(inst.data(), inst.size());
  return true;
}

// [[row], ...]: the newest row (highest ts) wins; OKX sends one.
bool Ws::parse_data(od::value& v, Msg& m) noexcept {
  od::array rows;
  if (error_code e = v.get_array().get(rows)) return fail_json("data", e);
  std::size_t i = 0;
  CandleRow best;
  for (auto r : rows) {
    od::value row;
    if (error_code e = std::move(r).get(row)) return fail_json("data", e);
    CandleRow c;
    RowError err;
    if (!read_candle_row(row, c, err)) {
      if (err.error)
        return fail("data[%zu][%d]: %s (%s)", i, err.column, err.what,
                    simdjson::error_message(err.error));
      return fail("data[%zu][%d]: %s", i, err.column, err.what);
    }
    if (i == 0 || c.ts >= best.ts) best = c;
    ++i;
  }
  if (i == 0) return fail("data holds no candle");
  m.has_data = true;
  m.bar = to_bar(best, m.interval, m.derivative, best.confirmed ? kBarClosed : 0u);
  return true;
}

Event Ws::classify(const Msg& m) noexcept {
  Event e;
  if (m.has_event) {
    if (m.event == "subscribe" || m.event == "unsubscribe" || m.event == "error") {
      e.kind = EventKind::kControlReply;
      e.control.id = m.id;
      e.control.ok = m.event != "error";
      e.control.error_code = m.code;
      e.control.error_msg = m.msg;
    } else if (m.event == "notice") {
      // 64008: "The connection will soon be closed for a service upgrade. Please reconnect."
      e.kind = EventKind::kShutdown;
      e.text = m.msg.empty() ? m.event : m.msg;
    } else {
      // login, channel-conn-count and whatever OKX adds: worth a log line, nothing else.
      e.kind = EventKind::kNotice;
      e.text = m.msg.empty() ? m.event : m.msg;
    }
    return e;
  }
  if (!m.has_arg) return as_error(fail("neither an event nor a channel push"));
  if (!m.kline) return e;  // kIgnored: books, trades, tickers, candle bars we do not serve
  if (!m.has_data) return as_error(fail("missing field data"));
  e.kind = EventKind::kKline;
  e.topic = topic_;
  e.event_time_ms = venue::kNoTime;  // OKX candle pushes carry only the bar's open time
  e.bar = m.bar;
  return e;
}

}  // namespace

std::unique_ptr<venue::WsProtocol> make_ws(std::size_t max_message_bytes) {
  return std::make_unique<Ws>(max_message_bytes);
}

}  // namespace mdfeed::okx
