// simdjson helpers shared by the Binance parsers. Private to daemon/binance: includes simdjson.
#pragma once

#include <simdjson.h>

#include "adapter/types.hpp"

namespace mdfeed::binance::json {

namespace od = simdjson::ondemand;
using simdjson::error_code;

static_assert(adapter::kParsePadding == simdjson::SIMDJSON_PADDING);

// Binance sends prices and volumes as decimal strings; simdjson parses them with correct
// rounding. The quote check matters: get_double_in_string() assumes the opening quote is there,
// so a bare number would otherwise fail with a misleading error (or, in malformed JSON, parse).
[[gnu::always_inline]] inline error_code get_decimal(od::value& v, double& out) noexcept {
  if (*v.raw_json_token().data() != '"') return simdjson::INCORRECT_TYPE;  // peeks only
  return v.get_double_in_string().get(out);
}

// True when bytes follow the root value ({..}} or [..]x): simdjson On-Demand stops at the end of
// the root value, and a location still in bounds means more tokens. Call after consuming the root.
inline bool has_trailing_content(od::document& doc) noexcept {
  return !doc.current_location().error();
}

}  // namespace mdfeed::binance::json
