// Binance WebSocket message parser (simdjson On-Demand). See kline_parser.hpp for the contract.
//
// Three paths, chosen by a byte scan of the message head (route()):
//  - skip: a market stream other than klines ("btcusdt@depth@100ms"); simdjson never runs.
//  - kline: "<symbol>@kline_<interval>" streams and raw {"e":"kline"} events. Fields are looked up by name in
//    Binance's order, then the rest of the document is skipped to its closing brace, so
//    truncation and trailing bytes are still caught.
//  - generic: anything else (control replies, serverShutdown, unusual layouts) walks the
//    top-level object once and classifies it.
// Every path returns at the first simdjson error without touching the document again.
#include "binance/kline_parser.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "venue/json_util.hpp"

namespace mdfeed::binance {
namespace {

namespace json = venue::json;
namespace od = json::od;
using json::error_code;
using json::get_decimal;

// A kline envelope nests three objects deep; the bound only sizes simdjson's depth buffers.
constexpr std::size_t kMaxDepth = 32;
// First buffer size: a kline message is ~450 bytes, so steady state never grows past this.
constexpr std::size_t kInitialCapacity = 16 * 1024;

// Binance writes no whitespace and puts "stream" first; anything else takes the generic path.
constexpr char kEnvelopePrefix[] = R"({"stream":")";
constexpr char kRawEventPrefix[] = R"({"e":")";
constexpr std::size_t kEnvelopePrefixLen = sizeof(kEnvelopePrefix) - 1;
constexpr std::size_t kRawEventPrefixLen = sizeof(kRawEventPrefix) - 1;

enum class Route {
  kSkip,           // market data other than klines and trades: not parsed at all
  kGeneric,        // unknown shape: parse and classify
  kKlineEnvelope,  // {"stream":"x@kline_1m",...}: a kline, or an error
  kKlineRaw,       // {"e":"kline",...}: the same without the envelope
  kTradeEnvelope,  // {"stream":"x@aggTrade",...}: an aggTrade, or an error
  kTradeRaw,       // {"e":"aggTrade",...}
};

// Reads the stream name starting at p up to its closing quote. A name with '@' is a market
// stream ("btcusdt@depth@100ms"), and it carries klines iff its type, right after the first
// '@', is "kline_<interval>". A name without '@' is not a market stream, so it may carry a
// venue event (serverShutdown) and is parsed. Unterminated or escaped names are left to
// simdjson. memchr rather than a byte loop: this is the whole cost of skipping a message.
Route scan_stream(const char* p, const char* end, std::string_view& name) noexcept {
  const auto* quote =
      static_cast<const char*>(std::memchr(p, '"', static_cast<std::size_t>(end - p)));
  if (quote == nullptr) return Route::kGeneric;
  const auto n = static_cast<std::size_t>(quote - p);
  if (std::memchr(p, '\\', n) != nullptr) return Route::kGeneric;
  const auto* at = static_cast<const char*>(std::memchr(p, '@', n));
  if (at == nullptr) return Route::kGeneric;
  name = {p, n};
  constexpr std::size_t kKlineLen = 6;  // "kline_"
  const bool kline = quote - at > static_cast<std::ptrdiff_t>(kKlineLen) &&
                     std::memcmp(at + 1, "kline_", kKlineLen) == 0;
  if (kline) return Route::kKlineEnvelope;
  const std::string_view type(at + 1, static_cast<std::size_t>(quote - at - 1));
  return type == "aggTrade" ? Route::kTradeEnvelope : Route::kSkip;
}

// A raw event is skipped unless its type is kline, aggTrade or serverShutdown.
Route scan_event(const char* p, const char* end) noexcept {
  const char* q = p;
  while (q < end && *q != '"' && *q != '\\') ++q;
  if (q == end || *q == '\\') return Route::kGeneric;
  const std::string_view type(p, static_cast<std::size_t>(q - p));
  if (type == "kline") return Route::kKlineRaw;
  if (type == "aggTrade") return Route::kTradeRaw;
  return type == "serverShutdown" ? Route::kGeneric : Route::kSkip;
}

// The cheap pre-filter: looks at the first few dozen bytes only.
Route route(const char* data, std::size_t len, std::string_view& stream) noexcept {
  const char* end = data + len;
  if (len > kEnvelopePrefixLen && std::memcmp(data, kEnvelopePrefix, kEnvelopePrefixLen) == 0)
    return scan_stream(data + kEnvelopePrefixLen, end, stream);
  if (len > kRawEventPrefixLen && std::memcmp(data, kRawEventPrefix, kRawEventPrefixLen) == 0)
    return scan_event(data + kRawEventPrefixLen, end);
  return Route::kGeneric;
}

// A one-letter key; escaped keys never match (no Binance key needs escaping).
char short_key(const od::raw_json_string& key) noexcept {
  const char* k = key.raw();
  return (k[0] != '\\' && k[0] != '"' && k[1] == '"') ? k[0] : '\0';
}

constexpr const char* kInteger = "an integer";
constexpr const char* kString = "a string";
constexpr const char* kObject = "an object";
constexpr const char* kDecimal = "a decimal string";

// Reads fields of one object in turn and stops at the first failure, remembering which field
// failed and what it should have been. Forced inline so each key is a compile-time constant
// (no strlen/memcmp calls per field); the bookkeeping happens only on failure.
class FieldReader {
 public:
  explicit FieldReader(od::object& obj) noexcept : obj_(obj) {}

  [[gnu::always_inline]] void int64(const char* key, std::int64_t& dst) noexcept {
    if (!e_) check(obj_.find_field_unordered(key).get_int64().get(dst), key, kInteger);
  }
  [[gnu::always_inline]] void uint64(const char* key, std::uint64_t& dst) noexcept {
    if (!e_) check(obj_.find_field_unordered(key).get_uint64().get(dst), key, "an unsigned integer");
  }
  [[gnu::always_inline]] void string(const char* key, std::string_view& dst) noexcept {
    if (!e_) check(obj_.find_field_unordered(key).get_string().get(dst), key, kString);
  }
  // A string compared in place, without unescaping it into the parser's buffer.
  [[gnu::always_inline]] void raw_string(const char* key, od::raw_json_string& dst) noexcept {
    if (!e_) check(obj_.find_field_unordered(key).get_raw_json_string().get(dst), key, kString);
  }
  [[gnu::always_inline]] void boolean(const char* key, bool& dst) noexcept {
    if (!e_) check(obj_.find_field_unordered(key).get_bool().get(dst), key, "a boolean");
  }
  [[gnu::always_inline]] void object(const char* key, od::object& dst) noexcept {
    if (!e_) check(obj_.find_field_unordered(key).get_object().get(dst), key, kObject);
  }
  [[gnu::always_inline]] void value(const char* key, od::value& dst) noexcept {
    if (!e_) check(obj_.find_field_unordered(key).get(dst), key, kObject);
  }
  [[gnu::always_inline]] void decimal(const char* key, double& dst) noexcept {
    od::value v;
    if (!e_ && !check(obj_.find_field_unordered(key).get(v), key, kDecimal))
      check(get_decimal(v, dst), key, kDecimal);
  }

  [[nodiscard]] error_code error() const noexcept { return e_; }
  [[nodiscard]] const char* key() const noexcept { return key_; }
  [[nodiscard]] const char* want() const noexcept { return want_; }

 private:
  [[gnu::always_inline]] error_code check(error_code e, const char* key, const char* want) noexcept {
    if (e) {
      e_ = e;
      key_ = key;
      want_ = want;
    }
    return e;
  }

  od::object& obj_;
  error_code e_{};
  const char* key_ = "";
  const char* want_ = "";
};

// What the generic path saw at the top level and in "data"/"event".
struct Seen {
  std::string_view type;  // event type "e"
  bool has_type = false;
  bool type_in_data = false;  // "e" came from "data", not the top level
  bool has_time = false;
  bool has_kline = false;
  bool result = false;  // control reply keys
  bool error = false;
};

}  // namespace

struct KlineParser::Impl {
  od::parser parser;
  std::size_t max_bytes;
  char error[256] = {};
  char stream_copy[128] = {};  // the generic path's stream name, across a rewind

  explicit Impl(std::size_t max) : parser(max), max_bytes(max) {
    // Best effort: a failure here is retried, and reported, by the first parse that needs it.
    const error_code e = parser.allocate(std::min(max_bytes, kInitialCapacity), kMaxDepth);
    static_cast<void>(e);
  }

  MsgKind parse(const char* data, std::size_t len, std::size_t capacity, KlineMsg& out) noexcept;

  // --- error reporting: formats into error[], never allocates. These return false so bool
  // helpers can `return fail(...)`; MsgKind paths wrap them in error_kind().
  bool fail(const char* fmt, ...) noexcept __attribute__((format(printf, 2, 3)));
  bool json_fail(const char* where, error_code e) noexcept;
  bool field_fail(const char* field, const char* want, error_code e) noexcept;
  static MsgKind error_kind(bool /*always false*/) noexcept { return MsgKind::kError; }

  error_code ensure_capacity(std::size_t len) noexcept;

  // --- the kline and aggTrade paths: the envelope (or none) around one event ---
  using EventParser = bool (Impl::*)(od::object& ev, KlineMsg& out) noexcept;
  template <EventParser ParseEvent, MsgKind Kind>
  MsgKind parse_event_message(od::document& doc, std::string_view stream, bool envelope,
                              KlineMsg& out) noexcept;
  bool parse_kline_event(od::object& ev, KlineMsg& out) noexcept;
  bool parse_kline(od::value& v, KlineMsg& out) noexcept;
  bool parse_trade_event(od::object& ev, KlineMsg& out) noexcept;
  MsgKind parse_kline_message(od::document& doc, std::string_view stream, bool envelope,
                              KlineMsg& out) noexcept {
    return parse_event_message<&Impl::parse_kline_event, MsgKind::kKline>(doc, stream, envelope, out);
  }
  MsgKind parse_trade_message(od::document& doc, std::string_view stream, bool envelope,
                              KlineMsg& out) noexcept {
    return parse_event_message<&Impl::parse_trade_event, MsgKind::kTrade>(doc, stream, envelope, out);
  }

  // --- the generic path ---
  MsgKind parse_generic(od::document& doc, KlineMsg& out) noexcept;
  bool top_field(od::field& f, Seen& seen, KlineMsg& out) noexcept;
  bool parse_event(od::value& v, Seen& seen, KlineMsg& out) noexcept;
  bool event_field(char key, od::value& v, Seen& seen, KlineMsg& out) noexcept;
  bool control_field(const od::raw_json_string& key, od::value& v, Seen& seen,
                     ControlReply& c) noexcept;
  bool parse_control_error(od::value& v, ControlReply& c) noexcept;
  bool get_control_id(od::value& v, std::int64_t& id) noexcept;
  MsgKind classify(const Seen& seen) noexcept;
};

MsgKind KlineParser::Impl::parse(const char* data, std::size_t len, std::size_t capacity,
                                 KlineMsg& out) noexcept {
  error[0] = '\0';
  out.stream = out.symbol = out.interval = {};
  out.event_time_ms = 0;
  out.control = ControlReply{};
  if (data == nullptr || len == 0) return error_kind(fail("empty message"));
  if (len > max_bytes)
    return error_kind(fail("message of %zu bytes exceeds the %zu byte limit", len, max_bytes));
  if (capacity < len + simdjson::SIMDJSON_PADDING)
    return error_kind(fail("buffer of %zu bytes lacks %zu bytes of padding after %zu bytes",
                           capacity, simdjson::SIMDJSON_PADDING, len));
  std::string_view stream;
  const Route r = route(data, len, stream);
  if (r == Route::kSkip) {
    out.stream = stream;
    return MsgKind::kNotKline;
  }
  if (error_code e = ensure_capacity(len)) return error_kind(json_fail("parser buffers", e));
  od::document doc;
  if (error_code e = parser.iterate(data, len, capacity).get(doc))
    return error_kind(json_fail("message", e));
  if (r == Route::kGeneric) return parse_generic(doc, out);
  if (r == Route::kTradeEnvelope || r == Route::kTradeRaw)
    return parse_trade_message(doc, stream, r == Route::kTradeEnvelope, out);
  return parse_kline_message(doc, stream, r == Route::kKlineEnvelope, out);
}

bool KlineParser::Impl::fail(const char* fmt, ...) noexcept {
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(error, sizeof(error), fmt, ap);
  va_end(ap);
  return false;
}

bool KlineParser::Impl::json_fail(const char* where, error_code e) noexcept {
  return fail("%s: %s", where, simdjson::error_message(e));
}

bool KlineParser::Impl::field_fail(const char* field, const char* want, error_code e) noexcept {
  if (e == simdjson::NO_SUCH_FIELD) return fail("missing field %s", field);
  return fail("%s: expected %s (%s)", field, want, simdjson::error_message(e));
}

// Grows the buffers geometrically so a run of slightly larger messages does not reallocate each
// time; never beyond max_bytes.
error_code KlineParser::Impl::ensure_capacity(std::size_t len) noexcept {
  if (parser.capacity() >= len) return simdjson::SUCCESS;
  const std::size_t want =
      std::min(max_bytes, std::max({len, 2 * parser.capacity(), kInitialCapacity}));
  return parser.allocate(want, kMaxDepth);
}

// ---------------------------------------------------------------------------------------------
// The kline path. find_field_unordered() costs nothing extra while the fields come in the
// order asked for (Binance's), and still finds them if the venue reorders.

// stream: the name route() read (unescaped, so it is the JSON string's value), or the generic
// path's copy of it; empty for a raw event. A template, so each path's event parser inlines.
template <KlineParser::Impl::EventParser ParseEvent, MsgKind Kind>
MsgKind KlineParser::Impl::parse_event_message(od::document& doc, std::string_view stream,
                                               bool envelope, KlineMsg& out) noexcept {
  od::object top;
  if (error_code e = doc.get_object().get(top)) return error_kind(json_fail("message", e));
  out.stream = stream;  // never a view the generic path's second pass may have overwritten
  if (envelope) {
    od::object data;
    FieldReader r(top);
    r.object("data", data);
    if (r.error()) return error_kind(field_fail(r.key(), r.want(), r.error()));
    if (!(this->*ParseEvent)(data, out)) return MsgKind::kError;
  } else if (!(this->*ParseEvent)(top, out)) {
    return MsgKind::kError;
  }
  // Skipping the rest of the document (B, the closing braces: however deep we are) is what
  // catches a message cut short after the last field we read.
  if (error_code e = top.raw_json().error()) return error_kind(json_fail("message", e));
  if (json::has_trailing_content(doc))
    return error_kind(fail("trailing content after the JSON object"));
  return Kind;
}

bool KlineParser::Impl::parse_kline_event(od::object& ev, KlineMsg& out) noexcept {
  od::raw_json_string type;
  od::value k;
  FieldReader r(ev);
  r.raw_string("e", type);
  if (!r.error() && !(type == "kline")) {
    const char* t = type.raw();
    return fail("stream '%.*s' carries event '%.*s', not a kline",
                static_cast<int>(out.stream.size()), out.stream.data(),
                static_cast<int>(std::strcspn(t, "\"\\")), t);
  }
  r.int64("E", out.event_time_ms);
  r.value("k", k);
  if (r.error()) return field_fail(r.key(), r.want(), r.error());
  return parse_kline(k, out);
}

// k{t,T,s,i,f,L,o,c,h,l,v,n,x,q,V,Q,B}: every field we use must be present with its type.
bool KlineParser::Impl::parse_kline(od::value& v, KlineMsg& out) noexcept {
  od::object k;
  if (error_code e = v.get_object().get(k)) return field_fail("k", kObject, e);
  Bar& b = out.bar;
  b = Bar{};
  bool closed = false;
  FieldReader r(k);
  r.int64("t", b.open_time_ms);
  r.int64("T", b.close_time_ms);
  r.string("s", out.symbol);
  r.string("i", out.interval);
  r.decimal("o", b.open);
  r.decimal("c", b.close);
  r.decimal("h", b.high);
  r.decimal("l", b.low);
  r.decimal("v", b.volume);
  r.uint64("n", b.trades);
  r.boolean("x", closed);
  r.decimal("q", b.quote_volume);
  r.decimal("V", b.taker_buy_volume);
  r.decimal("Q", b.taker_buy_quote_volume);
  if (r.error()) {
    char field[8];
    std::snprintf(field, sizeof(field), "k.%s", r.key());
    return field_fail(field, r.want(), r.error());
  }
  b.flags = closed ? kBarClosed : 0;
  return true;
}

// ---------------------------------------------------------------------------------------------
// The aggTrade path: {"e":"aggTrade","E":..,"s":..,"a":..,"p":..,"q":..,"f":..,"l":..,"T":..,
// "m":..,"M":..} (USD-M futures: no "M"; we do not use it). Same discipline as klines: every
// field we use present with its type, the rest skipped to the closing brace.

bool KlineParser::Impl::parse_trade_event(od::object& ev, KlineMsg& out) noexcept {
  od::raw_json_string type;
  AggTrade& t = out.trade;
  t = AggTrade{};
  FieldReader r(ev);
  r.raw_string("e", type);
  if (!r.error() && !(type == "aggTrade")) {
    const char* ty = type.raw();
    return fail("stream '%.*s' carries event '%.*s', not an aggTrade",
                static_cast<int>(out.stream.size()), out.stream.data(),
                static_cast<int>(std::strcspn(ty, "\"\\")), ty);
  }
  r.int64("E", out.event_time_ms);
  r.string("s", out.symbol);
  r.uint64("a", t.agg_id);
  r.decimal("p", t.price);
  r.decimal("q", t.quantity);
  r.uint64("f", t.first_id);
  r.uint64("l", t.last_id);
  r.int64("T", t.trade_time_ms);
  r.boolean("m", t.buyer_is_maker);
  if (r.error()) return field_fail(r.key(), r.want(), r.error());
  if (t.last_id < t.first_id)
    return fail("aggTrade %llu: last trade id %llu before first %llu",
                static_cast<unsigned long long>(t.agg_id), static_cast<unsigned long long>(t.last_id),
                static_cast<unsigned long long>(t.first_id));
  return true;
}

// ---------------------------------------------------------------------------------------------
// The generic path: walks the top-level object once, in whatever key order it comes.

MsgKind KlineParser::Impl::parse_generic(od::document& doc, KlineMsg& out) noexcept {
  od::object top;
  if (error_code e = doc.get_object().get(top)) return error_kind(json_fail("message", e));
  Seen seen;
  for (auto member : top) {
    od::field f;
    if (error_code e = std::move(member).get(f)) return error_kind(json_fail("message", e));
    if (!top_field(f, seen, out)) return MsgKind::kError;
  }
  if (json::has_trailing_content(doc)) return error_kind(fail("trailing content after the JSON object"));
  if (seen.has_type && seen.type == "aggTrade") {
    // An aggTrade in an unusual layout: read it again on the trade path. The stream name lives
    // in the parser's string buffer, which the second pass reuses, so it is copied first.
    if (out.stream.size() > sizeof(stream_copy)) return error_kind(fail("stream name too long"));
    if (!out.stream.empty()) std::memcpy(stream_copy, out.stream.data(), out.stream.size());
    const std::string_view stream(stream_copy, out.stream.size());
    doc.rewind();
    return parse_trade_message(doc, stream, seen.type_in_data, out);
  }
  const MsgKind kind = classify(seen);
  if (kind == MsgKind::kControlReply) out.control.ok = !seen.error;
  return kind;
}

bool KlineParser::Impl::top_field(od::field& f, Seen& seen, KlineMsg& out) noexcept {
  const od::raw_json_string key = f.key();
  od::value& v = f.value();
  if (char k = short_key(key)) return event_field(k, v, seen, out);  // a raw event's fields
  if (key == "stream") {
    if (error_code e = v.get_string().get(out.stream)) return field_fail("stream", kString, e);
    return true;
  }
  if (key == "data" || key == "event") {
    const bool had_type = seen.has_type;
    if (!parse_event(v, seen, out)) return false;
    // Where the type came from decides how an aggTrade is read again (the trade path reads
    // "data"; an aggTrade inside "event" is not a layout Binance uses and stays an error).
    if (!had_type && seen.has_type) seen.type_in_data = key == "data";
    return true;
  }
  return control_field(key, v, seen, out.control);
}

MsgKind KlineParser::Impl::classify(const Seen& seen) noexcept {
  if (seen.has_type && seen.type == "kline") {
    if (!seen.has_kline) return error_kind(fail("missing field k"));
    if (!seen.has_time) return error_kind(fail("missing field E"));
    return MsgKind::kKline;
  }
  if (seen.has_type && seen.type == "serverShutdown") return MsgKind::kServerShutdown;
  if (seen.has_kline && !seen.has_type) return error_kind(fail("k without an event type e"));
  if (seen.result || seen.error) return MsgKind::kControlReply;
  return MsgKind::kNotKline;
}

bool KlineParser::Impl::parse_event(od::value& v, Seen& seen, KlineMsg& out) noexcept {
  od::object obj;
  if (error_code e = v.get_object().get(obj)) return field_fail("data", kObject, e);
  for (auto member : obj) {
    od::field f;
    if (error_code e = std::move(member).get(f)) return json_fail("data", e);
    if (char k = short_key(f.key()))
      if (!event_field(k, f.value(), seen, out)) return false;
  }
  return true;
}

bool KlineParser::Impl::event_field(char key, od::value& v, Seen& seen, KlineMsg& out) noexcept {
  // Once the event type is known, only klines and shutdowns are read: other events may use
  // these keys with other shapes (futures continuous_kline has its own "k"; an aggTrade is read
  // again on its own path).
  if (seen.has_type && seen.type != "kline" && seen.type != "serverShutdown") return true;
  switch (key) {
    case 'e':
      if (error_code e = v.get_string().get(seen.type)) return field_fail("e", kString, e);
      seen.has_type = true;
      return true;
    case 'E':
      if (error_code e = v.get_int64().get(out.event_time_ms)) return field_fail("E", kInteger, e);
      seen.has_time = true;
      return true;
    case 'k':
      seen.has_kline = true;
      return parse_kline(v, out);
    default:
      return true;
  }
}

// Top-level keys of control replies: {"result":null,"id":1}, stream errors
// {"code":2,"msg":"Invalid request: ..","id":1} and WebSocket-API errors {"error":{..},"id":1}.
bool KlineParser::Impl::control_field(const od::raw_json_string& key, od::value& v, Seen& seen,
                                      ControlReply& c) noexcept {
  if (key == "result") {
    seen.result = true;  // null, a list or a bool: the value does not matter here
  } else if (key == "id") {
    return get_control_id(v, c.id);
  } else if (key == "code") {
    seen.error = true;
    if (error_code e = v.get_int64().get(c.error_code)) return field_fail("code", kInteger, e);
  } else if (key == "msg") {
    if (error_code e = v.get_string().get(c.error_msg)) return field_fail("msg", kString, e);
  } else if (key == "error") {
    seen.error = true;
    return parse_control_error(v, c);
  }
  return true;
}

// We send integer ids; an id of another type (null, string) is not ours and stays -1.
bool KlineParser::Impl::get_control_id(od::value& v, std::int64_t& id) noexcept {
  od::json_type t{};
  if (error_code e = v.type().get(t)) return json_fail("id", e);
  if (t != od::json_type::number) return true;
  if (error_code e = v.get_int64().get(id)) return field_fail("id", kInteger, e);
  return true;
}

bool KlineParser::Impl::parse_control_error(od::value& v, ControlReply& c) noexcept {
  od::object obj;
  if (error_code e = v.get_object().get(obj)) return field_fail("error", kObject, e);
  for (auto member : obj) {
    od::field f;
    if (error_code e = std::move(member).get(f)) return json_fail("error", e);
    if (f.key() == "code") {
      if (error_code e = f.value().get_int64().get(c.error_code))
        return field_fail("error.code", kInteger, e);
    } else if (f.key() == "msg") {
      if (error_code e = f.value().get_string().get(c.error_msg))
        return field_fail("error.msg", kString, e);
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------

KlineParser::KlineParser(std::size_t max_bytes) : impl_(std::make_unique<Impl>(max_bytes)) {}
KlineParser::~KlineParser() = default;
KlineParser::KlineParser(KlineParser&&) noexcept = default;
KlineParser& KlineParser::operator=(KlineParser&&) noexcept = default;

MsgKind KlineParser::parse(const char* data, std::size_t len, std::size_t capacity,
                           KlineMsg& out) noexcept {
  return impl_->parse(data, len, capacity, out);
}

const char* KlineParser::last_error() const noexcept { return impl_->error; }
std::size_t KlineParser::max_bytes() const noexcept { return impl_->max_bytes; }

}  // namespace mdfeed::binance
