// OKX v5 REST: candle request targets, answer classification and the candle/time parsers.
// Sources (OKX API v5 docs, https://www.okx.com/docs-v5/en/):
//  - "Order book trading / Market data / GET Get candlesticks" (/api/v5/market/candles): the
//    latest 1440 bars only, limit <= 300, 40 requests / 2 s per IP.
//  - "... / GET Get candlesticks history" (/api/v5/market/history-candles): any age, limit <= 100
//    (300 in newer revisions), 20 requests / 2 s per IP.
//  - Both: newest first; `after=ts` returns records older than ts, `before=ts` newer than ts;
//    {"code":"0","msg":"","data":[[ts,o,h,l,c,vol,volCcy,volCcyQuote,confirm],...]}.
//  - "Public data / GET Get system time": {"code":"0","msg":"","data":[{"ts":"1597026383085"}]}.
//  - "Error codes": 50011 "Rate limit reached" (HTTP 429), 51001 "Instrument ID does not exist".
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <string>

#include <mdfeed/names.hpp>

#include "okx/candle_row.hpp"
#include "okx/protocol.hpp"

namespace mdfeed::okx {
namespace {

using venue::RestOutcome;
using venue::RestVerdict;

constexpr std::int64_t kRateLimitedCode = 50011;
constexpr std::int64_t kNoSuchInstrumentCode = 51001;
// OKX's limits are per 2 s window: a 429 without Retry-After waits one window.
constexpr std::int64_t kDefaultRetryMs = 2'000;
// /market/candles serves the latest 1440 bars; requests reaching further back than this many
// bars (a margin for the bar forming at the boundary and clock skew) go to history-candles.
constexpr std::int64_t kRecentBars = 1440 - 10;
// 300 rows of ~110 bytes: far below this.
constexpr std::size_t kMaxBodyBytes = std::size_t{1} << 20;

json::PaddedParser& thread_parser() {
  thread_local json::PaddedParser p(kMaxBodyBytes);
  return p;
}

// A kMalformed outcome saying why (printf-style; callers pass literal formats).
template <class... Args>
RestOutcome malformed(const char* fmt, Args... args) {
  char msg[256];
  if constexpr (sizeof...(Args) == 0) std::snprintf(msg, sizeof(msg), "%s", fmt);
  else std::snprintf(msg, sizeof(msg), fmt, args...);
  RestOutcome o;
  o.verdict = RestVerdict::kMalformed;
  o.message = msg;
  return o;
}

// OKX codes are decimal strings ("0", "51001"); a number is accepted too.
error_code get_code(od::value& v, std::int64_t& out) noexcept {
  od::json_type t{};
  if (error_code e = v.type().get(t)) return e;
  if (t == od::json_type::number) return v.get_int64().get(out);
  std::string_view s;
  if (error_code e = v.get_string().get(s)) return e;
  const auto* end = s.data() + s.size();
  if (s.empty() || std::from_chars(s.data(), end, out).ptr != end) return simdjson::INCORRECT_TYPE;
  return simdjson::SUCCESS;
}

// The verdict of a body's non-zero code.
RestOutcome venue_error(std::int64_t code, std::string_view msg) {
  RestOutcome o;
  o.code = code;
  o.message = msg.empty() ? "OKX code " + std::to_string(code) : std::string(msg);
  if (code == kRateLimitedCode) {
    o.verdict = RestVerdict::kRetryAfter;
    o.wait_ms = kDefaultRetryMs;
  } else if (code == kNoSuchInstrumentCode) {
    o.verdict = RestVerdict::kInvalidSymbol;
  } else {
    o.verdict = RestVerdict::kVenueError;
  }
  return o;
}

std::int64_t retry_after_ms(std::string_view header) {
  std::int64_t secs = 0;
  const auto* end = header.data() + header.size();
  if (header.empty() || std::from_chars(header.data(), end, secs).ptr != end || secs < 0)
    return kDefaultRetryMs;
  return std::max<std::int64_t>(secs * 1000, kDefaultRetryMs);
}

RestOutcome http_error(int status) {
  RestOutcome o = malformed("HTTP %d", status);
  o.code = status;
  return o;
}

}  // namespace

venue::KlinesRequest klines_request(std::string_view symbol, std::string_view interval,
                                    std::int64_t start_open_ms, std::int64_t end_open_ms,
                                    int limit, std::int64_t exchange_now_ms) {
  const std::int64_t ms = interval_ms(interval).value_or(60'000);
  const bool recent = exchange_now_ms > 0 && start_open_ms >= exchange_now_ms - kRecentBars * ms;
  std::string t = recent ? "/api/v5/market/candles?instId=" : "/api/v5/market/history-candles?instId=";
  t += symbol;
  t += "&bar=";
  t += okx_interval(interval);
  // Both bounds are exclusive: after = older than, before = newer than.
  t += "&after=";
  t += std::to_string(end_open_ms + 1);
  t += "&before=";
  t += std::to_string(start_open_ms - 1);
  t += "&limit=";
  t += std::to_string(limit);
  return {std::move(t), 1, venue::Paging::kNewestFirst};
}

// 429 (with or without {"code":"50011"}) is a rate limit; otherwise the body's code decides, and
// a body that is not OKX's {"code":..,"msg":..} is malformed, named by its HTTP status.
RestOutcome classify(const venue::HttpAnswer& a) {
  if (a.status == 429) {
    RestOutcome o;
    o.verdict = RestVerdict::kRetryAfter;
    o.wait_ms = retry_after_ms(a.retry_after);
    o.code = a.status;
    o.message = "HTTP 429, retry after " + std::to_string(o.wait_ms) + " ms";
    return o;
  }
  od::document doc;
  od::object obj;
  od::value v;
  std::int64_t code = 0;
  if (!thread_parser().iterate(a.body, doc).empty() || doc.get_object().get(obj) ||
      obj.find_field_unordered("code").get(v) || get_code(v, code))
    return http_error(a.status);
  if (code == 0) return a.status == 200 ? RestOutcome{} : http_error(a.status);
  std::string_view msg;
  if (obj.find_field_unordered("msg").get(v) || v.get_string().get(msg)) msg = {};
  RestOutcome o = venue_error(code, msg);
  if (o.verdict == RestVerdict::kRetryAfter && !a.retry_after.empty())
    o.wait_ms = retry_after_ms(a.retry_after);
  return o;
}

RestOutcome parse_klines(std::string_view body, std::string_view symbol,
                         std::string_view interval, std::vector<Bar>& out) {
  out.clear();
  if (okx_interval(interval).empty()) return malformed("interval %.*s is not served by okx",
                                                       static_cast<int>(interval.size()), interval.data());
  const bool derivative = is_derivative(symbol);
  od::document doc;
  if (std::string why = thread_parser().iterate(body, doc); !why.empty()) {
    RestOutcome o;
    o.verdict = RestVerdict::kMalformed;
    o.message = std::move(why);
    return o;
  }
  od::object obj;
  if (error_code e = doc.get_object().get(obj)) return malformed("body: %s", simdjson::error_message(e));
  std::int64_t code = -1;
  bool has_code = false, has_data = false;
  std::string msg;
  RestOutcome r;
  for (auto member : obj) {
    od::field f;
    if (error_code e = std::move(member).get(f)) { r = malformed("body: %s", simdjson::error_message(e)); break; }
    if (f.key() == "code") {
      if (error_code e = get_code(f.value(), code)) { r = malformed("code: %s", simdjson::error_message(e)); break; }
      has_code = true;
    } else if (f.key() == "msg") {
      std::string_view m;
      if (error_code e = f.value().get_string().get(m)) { r = malformed("msg: %s", simdjson::error_message(e)); break; }
      msg.assign(m);
    } else if (f.key() == "data") {
      has_data = true;
      od::array rows;
      if (error_code e = f.value().get_array().get(rows)) { r = malformed("data: %s", simdjson::error_message(e)); break; }
      std::size_t i = 0;
      for (auto rv : rows) {
        od::value row;
        CandleRow c;
        RowError err;
        if (error_code e = std::move(rv).get(row)) { r = malformed("row %zu: %s", i, simdjson::error_message(e)); break; }
        if (!read_candle_row(row, c, err)) {
          r = err.error ? malformed("row %zu column %d: %s (%s)", i, err.column, err.what,
                                    simdjson::error_message(err.error))
                        : malformed("row %zu column %d: %s", i, err.column, err.what);
          break;
        }
        // Newest first, strictly: anything else is not trusted (the bar book needs order).
        if (!out.empty() && c.ts >= out.back().open_time_ms) {
          r = malformed("row %zu: open time %lld does not precede %lld", i,
                        static_cast<long long>(c.ts), static_cast<long long>(out.back().open_time_ms));
          break;
        }
        out.push_back(to_bar(c, interval, derivative, kBarBackfilled));
        ++i;
      }
      if (!r.ok()) break;
    }
  }
  if (r.ok() && json::has_trailing_content(doc)) r = malformed("trailing content after the JSON body");
  if (r.ok() && !has_code) r = malformed("missing field code");
  if (r.ok() && code != 0) r = venue_error(code, msg);
  if (r.ok() && !has_data) r = malformed("missing field data");
  if (!r.ok()) {
    out.clear();
    return r;
  }
  std::reverse(out.begin(), out.end());
  return r;
}

std::optional<std::int64_t> parse_server_time(std::string_view body) {
  od::document doc;
  od::object obj;
  if (!thread_parser().iterate(body, doc).empty() || doc.get_object().get(obj)) return std::nullopt;
  std::optional<std::int64_t> t;
  std::int64_t code = -1;
  for (auto member : obj) {
    od::field f;
    if (std::move(member).get(f)) return std::nullopt;
    if (f.key() == "code") {
      if (get_code(f.value(), code)) return std::nullopt;
    } else if (f.key() == "data") {
      od::array arr;
      if (f.value().get_array().get(arr)) return std::nullopt;
      for (auto el : arr) {
        od::object o;
        od::value ts;
        std::int64_t x = 0;
        if (std::move(el).get_object().get(o) || o.find_field_unordered("ts").get(ts) ||
            get_int_string(ts, x))
          return std::nullopt;
        if (!t) t = x;
      }
    }
  }
  if (json::has_trailing_content(doc) || code != 0) return std::nullopt;
  return t;
}

}  // namespace mdfeed::okx
