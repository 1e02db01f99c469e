// Bybit v5 REST (spot and linear): the kline request, answer classification, the kline and
// server-time parsers (simdjson On-Demand over a thread-local venue::PaddedParser).
//
// Every v5 answer is an envelope {"retCode":0,"retMsg":"OK","result":{..},"retExtInfo":{},
// "time":..}; errors come as HTTP 200 with retCode != 0 (https://bybit-exchange.github.io/docs/v5/
// error), except the IP limit, which is HTTP 403 "access too frequent"
// (https://bybit-exchange.github.io/docs/v5/rate-limit).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>

#include <mdfeed/names.hpp>

#include "bybit/protocol.hpp"
#include "venue/json_util.hpp"

namespace mdfeed::bybit {
namespace {

using namespace venue::json;  // od, error_code, get_decimal, PaddedParser, ...
using venue::RestOutcome;
using venue::RestVerdict;

constexpr std::size_t kMaxBodyBytes = std::size_t{4} << 20;  // 1000 rows are ~100 KB
constexpr std::size_t kRowColumns = 7;  // [start, open, high, low, close, volume, turnover]
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

PaddedParser& thread_parser() {
  thread_local PaddedParser p(kMaxBodyBytes);
  return p;
}

RestOutcome malformed(std::string why) {
  RestOutcome o;
  o.verdict = RestVerdict::kMalformed;
  o.message = std::move(why);
  return o;
}

bool contains_nocase(std::string_view hay, std::string_view needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
         }) != hay.end();
}

// The verdict for a non-zero retCode.
RestOutcome venue_error(std::int64_t code, std::string_view msg, const venue::HttpAnswer* http) {
  RestOutcome o;
  o.code = code;
  o.message.assign(msg);
  if (o.message.empty()) o.message = "retCode " + std::to_string(code);  // never a silent error
  if (code == kTooManyVisitsCode) {
    // "Too many visits!": wait until X-Bapi-Limit-Reset-Timestamp (ms since the epoch).
    o.verdict = RestVerdict::kRetryAfter;
    o.wait_ms = kDefaultRetryMs;
    std::int64_t reset = 0;
    if (http != nullptr && !http->reset_header.empty()) {
      const char* end = http->reset_header.data() + http->reset_header.size();
      if (std::from_chars(http->reset_header.data(), end, reset).ptr == end)
        o.wait_ms = std::clamp<std::int64_t>(reset - http->exchange_now_ms, 0, kMaxRetryMs);
    }
  } else if (code == kParamErrorCode && contains_nocase(msg, "symbol") &&
             (contains_nocase(msg, "not supported") || contains_nocase(msg, "invalid"))) {
    o.verdict = RestVerdict::kInvalidSymbol;  // {"retCode":10001,"retMsg":"Not supported symbols"}
  } else {
    o.verdict = RestVerdict::kVenueError;
  }
  return o;
}

// Walks the envelope: retCode and retMsg into code/msg, and hands "result" to on_result when
// retCode (which Bybit sends first) is already known to be 0. Returns "" or why it failed.
template <class OnResult>
std::string walk_envelope(od::document& doc, std::int64_t& code, std::string_view& msg,
                          bool& has_code, OnResult&& on_result) {
  od::object top;
  if (error_code e = doc.get_object().get(top)) return std::string("body: ") + simdjson::error_message(e);
  for (auto member : top) {
    od::field f;
    if (error_code e = std::move(member).get(f)) return std::string("body: ") + simdjson::error_message(e);
    const od::raw_json_string key = f.key();
    if (key == "retCode") {
      if (error_code e = f.value().get_int64().get(code)) return std::string("retCode: ") + simdjson::error_message(e);
      has_code = true;
    } else if (key == "retMsg") {
      if (error_code e = f.value().get_string().get(msg)) return std::string("retMsg: ") + simdjson::error_message(e);
    } else if (key == "result" && has_code && code == 0) {
      std::string why = on_result(f.value());
      if (!why.empty()) return why;
    }
  }
  if (has_trailing_content(doc)) return "trailing content after the JSON body";
  if (!has_code) return "body without retCode";
  return {};
}

// One row ["1670608800000","17071","17073","17027","17055.5","268611","15.74462667"].
std::string parse_row(od::value& row, std::size_t i, Bar& b) {
  std::size_t j = 0;
  const error_code e = for_each_column(row, j, [&b](std::size_t col, od::value& v) -> error_code {
    switch (col) {
      case 0: return get_integer_in_string(v, b.open_time_ms);
      case 1: return get_decimal(v, b.open);
      case 2: return get_decimal(v, b.high);
      case 3: return get_decimal(v, b.low);
      case 4: return get_decimal(v, b.close);
      case 5: return get_decimal(v, b.volume);        // base (coins; contracts = coins on linear)
      case 6: return get_decimal(v, b.quote_volume);  // turnover, quote
      default: return simdjson::SUCCESS;              // later columns: skipped
    }
  });
  if (e && j == kNotAnArray) return "row " + std::to_string(i) + ": " + simdjson::error_message(e);
  if (e)
    return "row " + std::to_string(i) + " column " + std::to_string(j) + ": " +
           simdjson::error_message(e);
  if (j < kRowColumns)
    return "row " + std::to_string(i) + " has " + std::to_string(j) + " columns, expected 7";
  return {};
}

// result{"category":..,"symbol":..,"list":[[..],..]}: rows newest first, into out as read.
std::string parse_result(od::value& result, std::vector<Bar>& out, bool& has_list) {
  od::object obj;
  if (error_code e = result.get_object().get(obj)) return std::string("result: ") + simdjson::error_message(e);
  for (auto member : obj) {
    od::field f;
    if (error_code e = std::move(member).get(f)) return std::string("result: ") + simdjson::error_message(e);
    if (!(f.key() == "list")) continue;
    has_list = true;
    od::array rows;
    if (error_code e = f.value().get_array().get(rows)) return std::string("list: ") + simdjson::error_message(e);
    std::size_t i = 0;
    for (auto r : rows) {
      od::value row;
      if (error_code e = std::move(r).get(row)) return "row " + std::to_string(i) + ": " + simdjson::error_message(e);
      Bar b{};
      if (std::string why = parse_row(row, i, b); !why.empty()) return why;
      // Newest first: each row must open strictly before the one above it.
      if (!out.empty() && b.open_time_ms >= out.back().open_time_ms)
        return "row " + std::to_string(i) + ": open time " + std::to_string(b.open_time_ms) +
               " does not precede " + std::to_string(out.back().open_time_ms);
      out.push_back(b);
      ++i;
    }
  }
  return {};
}

}  // namespace

venue::KlinesRequest klines_request(std::string_view category, std::string_view symbol,
                                    std::string_view interval, std::int64_t start_open_ms,
                                    std::int64_t end_open_ms, int limit) {
  std::string t = "/v5/market/kline?category=";
  t += category;
  t += "&symbol=";
  t += symbol;
  t += "&interval=";
  t += venue_interval(interval).value_or(interval);
  t += "&start=" + std::to_string(start_open_ms);
  t += "&end=" + std::to_string(end_open_ms);
  t += "&limit=" + std::to_string(limit);
  // One request of the IP's 600 per 5 s whatever the limit; rows come back newest first.
  return {std::move(t), 1, venue::Paging::kNewestFirst};
}

RestOutcome classify(const venue::HttpAnswer& a) {
  if (a.status == 403) {
    RestOutcome o;
    o.verdict = RestVerdict::kBanned;
    o.code = 403;
    o.wait_ms = kBanMs;  // Bybit states no end; "at least 10 minutes"
    o.message = "HTTP 403 (access too frequent: IP banned), staying away " + std::to_string(kBanMs) + " ms";
    return o;
  }
  od::document doc;
  std::int64_t code = 0;
  std::string_view msg;
  bool has_code = false;
  std::string why = thread_parser().iterate(a.body, doc);
  if (why.empty()) why = walk_envelope(doc, code, msg, has_code, [](od::value&) { return std::string(); });
  if (why.empty() && code != 0) return venue_error(code, msg, &a);
  if (why.empty() && a.status == 200) return {};
  RestOutcome o = malformed("HTTP " + std::to_string(a.status));
  o.code = a.status;
  return o;
}

RestOutcome parse_klines(std::string_view body, std::string_view, std::string_view interval,
                         std::vector<Bar>& out) {
  out.clear();
  od::document doc;
  std::int64_t code = 0;
  std::string_view msg;
  bool has_code = false, has_list = false;
  std::string why = thread_parser().iterate(body, doc);
  if (why.empty())
    why = walk_envelope(doc, code, msg, has_code,
                        [&](od::value& r) { return parse_result(r, out, has_list); });
  if (why.empty() && code != 0) {
    out.clear();
    return venue_error(code, msg, nullptr);
  }
  if (why.empty() && !has_list) why = "result without list";
  if (!why.empty()) {
    out.clear();
    return malformed(std::move(why));
  }
  std::reverse(out.begin(), out.end());
  for (Bar& b : out) {
    b.close_time_ms = next_open_ms(interval, b.open_time_ms) - 1;
    b.taker_buy_volume = b.taker_buy_quote_volume = kNaN;
    b.trades = 0;
    b.flags = kBarBackfilled | kBarNoTrades;
  }
  return {};
}

// {"retCode":0,"retMsg":"OK","result":{"timeSecond":"1688639403","timeNano":"1688639403423213947"},
//  "retExtInfo":{},"time":1688639403423}
std::optional<std::int64_t> parse_server_time(std::string_view body) {
  od::document doc;
  std::int64_t code = 0, nanos = -1;
  std::string_view msg;
  bool has_code = false;
  if (!thread_parser().iterate(body, doc).empty()) return std::nullopt;
  const std::string why = walk_envelope(doc, code, msg, has_code, [&](od::value& r) -> std::string {
    od::object obj;
    if (r.get_object().get(obj)) return "result";
    for (auto member : obj) {
      od::field f;
      if (std::move(member).get(f)) return "result";
      if (f.key() == "timeNano" && get_integer_in_string(f.value(), nanos)) return "timeNano";
    }
    return {};
  });
  if (!why.empty() || code != 0 || nanos < 0) return std::nullopt;
  return nanos / 1'000'000;
}

}  // namespace mdfeed::bybit
