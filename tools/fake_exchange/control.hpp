// Client control messages on a stream connection, Binance style:
//   {"method":"SUBSCRIBE","params":["btcusdt@kline_1m"],"id":1}   -> {"result":null,"id":1}
//   {"method":"UNSUBSCRIBE",...}                                   -> {"result":null,"id":N}
//   {"method":"LIST_SUBSCRIPTIONS","id":3}                         -> {"result":[...],"id":3}
//   {"method":"SET_PROPERTY","params":["combined",true],"id":5}    -> {"result":null,"id":5}
//   {"method":"GET_PROPERTY","params":["combined"],"id":2}         -> {"result":true,"id":2}
// Errors: {"error":{"code":N,"msg":"..."},"id":N} (code 0 unknown property, 1 bad value type,
// 2 invalid request, 3 invalid JSON).
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mdfeed::fake {

enum class ControlMethod {
  kSubscribe,
  kUnsubscribe,
  kListSubscriptions,
  kSetProperty,
  kGetProperty
};

inline constexpr std::size_t kMaxControlParams = 1024;

struct ControlRequest {
  ControlMethod method = ControlMethod::kListSubscriptions;
  std::vector<std::string> params;  // SUBSCRIBE/UNSUBSCRIBE stream names, property name
  std::optional<bool> bool_value;   // SET_PROPERTY's value
  std::string id_json = "null";     // the id, re-serialised, echoed in the reply
};

struct ControlParse {
  std::optional<ControlRequest> request;
  std::string error_reply;  // a ready-to-send error message when request is empty
};

// Parses one complete client text message. Never throws; a malformed message yields an error
// reply. The parser is reused across messages (bounded by its max capacity).
[[nodiscard]] ControlParse parse_control(simdjson::dom::parser& parser, std::string_view message);

[[nodiscard]] std::string result_reply(std::string_view result_json, std::string_view id_json);
[[nodiscard]] std::string list_reply(const std::vector<std::string>& names,
                                     std::string_view id_json);
[[nodiscard]] std::string error_reply(int code, std::string_view msg, std::string_view id_json);

// Minimal JSON string escaping for names and messages we echo.
void append_json_string(std::string& out, std::string_view s);

}  // namespace mdfeed::fake
