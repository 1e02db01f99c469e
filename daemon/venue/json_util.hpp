// simdjson helpers shared by the venue parsers (daemon/<venue>/): decimal strings, trailing
// content. Includes simdjson, so only venue sources include it.
#pragma once

#include <simdjson.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "venue/types.hpp"

namespace mdfeed::venue::json {

namespace od = simdjson::ondemand;
using simdjson::error_code;

static_assert(kParsePadding == simdjson::SIMDJSON_PADDING);

// Venues send prices and volumes as decimal strings; simdjson parses them with correct
// rounding. The quote check matters: get_double_in_string() assumes the opening quote is there,
// so a bare number would otherwise fail with a misleading error (or, in malformed JSON, parse).
[[gnu::always_inline]] inline error_code get_decimal(od::value& v, double& out) noexcept {
  if (*v.raw_json_token().data() != '"') return simdjson::INCORRECT_TYPE;  // peeks only
  return v.get_double_in_string().get(out);
}

// Integers sent as strings ("1670608800000": Bybit and OKX times), with the same quote check.
[[gnu::always_inline]] inline error_code get_integer_in_string(od::value& v,
                                                               std::int64_t& out) noexcept {
  if (*v.raw_json_token().data() != '"') return simdjson::INCORRECT_TYPE;  // peeks only
  return v.get_int64_in_string().get(out);
}

// True when bytes follow the root value ({..}} or [..]x): simdjson On-Demand stops at the end of
// the root value, and a location still in bounds means more tokens. Call after consuming the root.
inline bool has_trailing_content(od::document& doc) noexcept {
  return !doc.current_location().error();
}

// The preconditions of parsing one WebSocket message: not empty, within max_bytes, and followed
// by simdjson's padding (capacity counts from data). On failure writes why into err[n] and
// returns false.
inline bool check_message(const char* data, std::size_t len, std::size_t capacity,
                          std::size_t max_bytes, char* err, std::size_t n) noexcept {
  if (data == nullptr || len == 0) {
    std::snprintf(err, n, "empty message");
  } else if (len > max_bytes) {
    std::snprintf(err, n, "message of %zu bytes exceeds the %zu byte limit", len, max_bytes);
  } else if (capacity < len + simdjson::SIMDJSON_PADDING) {
    std::snprintf(err, n, "buffer of %zu bytes lacks %zu bytes of padding after %zu bytes",
                  capacity, simdjson::SIMDJSON_PADDING, len);
  } else {
    return true;
  }
  return false;
}

// Walks obj's fields in order, calling fn(key, value), which returns false to stop (having
// recorded its own reason). Returns the first simdjson error, else SUCCESS; stopped tells whether
// fn stopped the walk. After either, the document must not be used again.
template <class Fn>
inline error_code for_each_field(od::object& obj, bool& stopped, Fn&& fn) noexcept {
  stopped = false;
  for (auto member : obj) {
    od::field f;
    if (error_code e = std::move(member).get(f)) return e;
    if (!fn(f.key(), f.value())) {
      stopped = true;
      return simdjson::SUCCESS;
    }
  }
  return simdjson::SUCCESS;
}

// Each element of a JSON array (a REST kline row) in order: fn(column, value) returns an
// error_code, SUCCESS to go on. On return `column` is the number of columns read, or where it
// failed; kNotAnArray when the value is not an array at all.
inline constexpr std::size_t kNotAnArray = ~std::size_t{0};
template <class Fn>
inline error_code for_each_column(od::value& row, std::size_t& column, Fn&& fn) noexcept {
  column = kNotAnArray;
  od::array cols;
  if (error_code e = row.get_array().get(cols)) return e;
  column = 0;
  for (auto col : cols) {
    od::value v;
    if (error_code e = std::move(col).get(v)) return e;
    if (error_code e = fn(column, v)) return e;
    ++column;
  }
  return simdjson::SUCCESS;
}

// A bounded, reusable On-Demand parser for bodies that arrive without simdjson's padding (REST
// answers in plain strings): the body is copied into an owned padded buffer, grown
// geometrically up to max_bytes and then reused. Not thread-safe: one per thread.
class PaddedParser {
 public:
  explicit PaddedParser(std::size_t max_bytes) : parser_(max_bytes), max_bytes_(max_bytes) {}

  // Starts iterating body into doc. Returns "" on success, else why (and doc is unusable).
  [[nodiscard]] std::string iterate(std::string_view body, od::document& doc) {
    if (body.empty()) return "empty body";
    if (body.size() > max_bytes_)
      return "body of " + std::to_string(body.size()) + " bytes exceeds the " +
             std::to_string(max_bytes_) + " byte limit";
    const std::size_t need = body.size() + simdjson::SIMDJSON_PADDING;
    if (cap_ < need) {
      cap_ = std::max(need, 2 * cap_);
      buf_ = std::make_unique<char[]>(cap_);
    }
    std::memcpy(buf_.get(), body.data(), body.size());
    std::memset(buf_.get() + body.size(), 0, simdjson::SIMDJSON_PADDING);
    if (error_code e = parser_.iterate(buf_.get(), body.size(), cap_).get(doc))
      return std::string("body: ") + simdjson::error_message(e);
    return {};
  }

 private:
  od::parser parser_;
  std::size_t max_bytes_;
  std::unique_ptr<char[]> buf_;
  std::size_t cap_ = 0;
};

}  // namespace mdfeed::venue::json
