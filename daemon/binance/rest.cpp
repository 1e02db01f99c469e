// Binance spot REST request targets and response parsers (simdjson On-Demand).
#include "binance/rest.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "venue/json_util.hpp"

namespace mdfeed::binance {
namespace {

namespace json = venue::json;
namespace od = json::od;
using json::error_code;
using json::get_decimal;

constexpr std::size_t kRowFields = 11;  // the 12th ("ignore") and any later ones are skipped

RestResult error_result(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
RestResult error_result(const char* fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  return RestResult{RestStatus::kError, 0, msg};
}

RestResult json_error(const char* where, std::size_t row, error_code e) {
  return error_result("%s %zu: %s", where, row, simdjson::error_message(e));
}

// Column j of a kline row into the bar; columns past the ones we use are skipped.
error_code row_column(std::size_t j, od::value& v, Bar& b) noexcept {
  switch (j) {
    case 0: return v.get_int64().get(b.open_time_ms);
    case 1: return get_decimal(v, b.open);
    case 2: return get_decimal(v, b.high);
    case 3: return get_decimal(v, b.low);
    case 4: return get_decimal(v, b.close);
    case 5: return get_decimal(v, b.volume);
    case 6: return v.get_int64().get(b.close_time_ms);
    case 7: return get_decimal(v, b.quote_volume);
    case 8: return v.get_uint64().get(b.trades);
    case 9: return get_decimal(v, b.taker_buy_volume);
    case 10: return get_decimal(v, b.taker_buy_quote_volume);
    default: return simdjson::SUCCESS;
  }
}

RestResult parse_row(od::value& row, std::size_t i, Bar& b) {
  od::array cols;
  if (error_code e = row.get_array().get(cols)) return json_error("row", i, e);
  std::size_t j = 0;
  for (auto col : cols) {
    od::value v;
    if (error_code e = std::move(col).get(v)) return json_error("row", i, e);
    if (error_code e = row_column(j, v, b))
      return error_result("row %zu column %zu: %s", i, j, simdjson::error_message(e));
    ++j;
  }
  if (j < kRowFields) return error_result("row %zu has %zu columns, expected 12", i, j);
  b.flags = kBarBackfilled;
  return {};
}

RestResult parse_rows(od::document& doc, std::vector<Bar>& out) {
  od::array rows;
  if (error_code e = doc.get_array().get(rows)) return json_error("body", 0, e);
  std::size_t i = 0;
  for (auto r : rows) {
    od::value row;
    if (error_code e = std::move(r).get(row)) return json_error("row", i, e);
    Bar b{};
    if (RestResult res = parse_row(row, i, b); !res.ok()) return res;
    // The bar book relies on ascending open times; a response breaking that is not trusted.
    if (!out.empty() && b.open_time_ms <= out.back().open_time_ms)
      return error_result("row %zu: open time %lld does not follow %lld", i,
                          static_cast<long long>(b.open_time_ms),
                          static_cast<long long>(out.back().open_time_ms));
    out.push_back(b);
    ++i;
  }
  return {};
}

// {"code":-1121,"msg":"Invalid symbol."}
RestResult parse_api_error(od::document& doc) {
  od::object obj;
  if (error_code e = doc.get_object().get(obj)) return json_error("error body", 0, e);
  RestResult r{RestStatus::kApiError, 0, {}};
  bool has_code = false;
  for (auto member : obj) {
    od::field f;
    if (error_code e = std::move(member).get(f)) return json_error("error body", 0, e);
    if (f.key() == "code") {
      if (error_code e = f.value().get_int64().get(r.code)) return json_error("error code", 0, e);
      has_code = true;
    } else if (f.key() == "msg") {
      std::string_view msg;
      if (error_code e = f.value().get_string().get(msg)) return json_error("error msg", 0, e);
      r.message.assign(msg);
    }
  }
  if (!has_code) return error_result("object body without an error code");
  if (r.code == kInvalidSymbolCode) r.status = RestStatus::kInvalidSymbol;
  return r;
}

}  // namespace

std::string klines_target(std::string_view path, std::string_view symbol, std::string_view interval,
                          std::int64_t start_ms, std::optional<std::int64_t> end_ms, int limit) {
  std::string t(path);
  t += "?symbol=";
  for (char c : symbol) t += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  t += "&interval=";
  t += interval;
  t += "&startTime=";
  t += std::to_string(start_ms);
  if (end_ms) {
    t += "&endTime=";
    t += std::to_string(*end_ms);
  }
  t += "&limit=";
  t += std::to_string(limit);
  return t;
}

struct RestParser::Impl {
  json::PaddedParser padded;

  explicit Impl(std::size_t max) : padded(max) {}

  RestResult iterate(std::string_view body, od::document& doc) {
    std::string why = padded.iterate(body, doc);
    if (!why.empty()) return RestResult{RestStatus::kError, 0, std::move(why)};
    return {};
  }

  RestResult parse_klines(std::string_view body, std::vector<Bar>& out) {
    out.clear();
    od::document doc;
    RestResult r = iterate(body, doc);
    od::json_type type{};
    if (r.ok()) {
      if (error_code e = doc.type().get(type)) r = json_error("body", 0, e);
    }
    if (r.ok()) {
      if (type == od::json_type::array) r = parse_rows(doc, out);
      else if (type == od::json_type::object) r = parse_api_error(doc);
      else r = error_result("body is neither a kline array nor an error object");
    }
    if (r.status != RestStatus::kError && json::has_trailing_content(doc))
      r = error_result("trailing content after the JSON body");
    if (!r.ok()) out.clear();
    return r;
  }

  std::optional<std::int64_t> parse_server_time(std::string_view body) {
    od::document doc;
    od::object obj;
    if (!iterate(body, doc).ok() || doc.get_object().get(obj)) return std::nullopt;
    std::optional<std::int64_t> t;
    for (auto member : obj) {
      od::field f;
      if (std::move(member).get(f)) return std::nullopt;
      if (f.key() == "serverTime") {
        std::int64_t v = 0;
        if (f.value().get_int64().get(v)) return std::nullopt;
        t = v;
      }
    }
    if (json::has_trailing_content(doc)) return std::nullopt;
    return t;
  }
};

RestParser::RestParser(std::size_t max_bytes) : impl_(std::make_unique<Impl>(max_bytes)) {}
RestParser::~RestParser() = default;
RestParser::RestParser(RestParser&&) noexcept = default;
RestParser& RestParser::operator=(RestParser&&) noexcept = default;

RestResult RestParser::parse_klines(std::string_view body, std::vector<Bar>& out) {
  return impl_->parse_klines(body, out);
}

std::optional<std::int64_t> RestParser::parse_server_time(std::string_view body) {
  return impl_->parse_server_time(body);
}

namespace {
RestParser& thread_parser() {
  thread_local RestParser p;
  return p;
}
}  // namespace

RestResult parse_klines_response(std::string_view body, std::vector<Bar>& out) {
  return thread_parser().parse_klines(body, out);
}

std::optional<std::int64_t> parse_server_time(std::string_view body) {
  return thread_parser().parse_server_time(body);
}

}  // namespace mdfeed::binance
