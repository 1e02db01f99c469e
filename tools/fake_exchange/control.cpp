// Parsing and replies for client control messages (see control.hpp). Error values only: the
// caller runs inside an lws callback.
#include "fake_exchange/control.hpp"

#include <algorithm>
#include <cstdio>

namespace mdfeed::fake {
namespace {

constexpr std::size_t kMaxIdStringLen = 36;  // Binance: alphanumeric id strings up to 36 chars

ControlParse fail(int code, std::string_view msg, std::string_view id_json = "null") {
  return ControlParse{std::nullopt, error_reply(code, msg, id_json)};
}

bool valid_id_string(std::string_view s) {
  return !s.empty() && s.size() <= kMaxIdStringLen && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

// The id re-serialised for echoing, or nullopt when it is neither an unsigned integer, a short
// alphanumeric string nor null.
std::optional<std::string> read_id(simdjson::dom::object obj) {
  simdjson::dom::element id;
  if (obj["id"].get(id) != simdjson::SUCCESS) return std::string("null");
  switch (id.type()) {
    case simdjson::dom::element_type::NULL_VALUE:
      return std::string("null");
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::INT64: {
      std::int64_t v = 0;
      if (id.get_int64().get(v) != simdjson::SUCCESS || v < 0) return std::nullopt;
      return std::to_string(v);
    }
    case simdjson::dom::element_type::STRING: {
      std::string_view s;
      if (id.get_string().get(s) != simdjson::SUCCESS || !valid_id_string(s)) return std::nullopt;
      std::string out;
      append_json_string(out, s);
      return out;
    }
    default:
      return std::nullopt;
  }
}

std::optional<ControlMethod> method_from(std::string_view m) {
  if (m == "SUBSCRIBE") return ControlMethod::kSubscribe;
  if (m == "UNSUBSCRIBE") return ControlMethod::kUnsubscribe;
  if (m == "LIST_SUBSCRIPTIONS") return ControlMethod::kListSubscriptions;
  if (m == "SET_PROPERTY") return ControlMethod::kSetProperty;
  if (m == "GET_PROPERTY") return ControlMethod::kGetProperty;
  return std::nullopt;
}

// SUBSCRIBE/UNSUBSCRIBE: params is a non-empty array of strings.
ControlParse read_stream_params(simdjson::dom::object obj, ControlRequest req) {
  simdjson::dom::array params;
  if (obj["params"].get_array().get(params) != simdjson::SUCCESS)
    return fail(2, "Invalid request: params must be an array of stream names", req.id_json);
  if (params.size() == 0) return fail(2, "Invalid request: empty params", req.id_json);
  if (params.size() > kMaxControlParams)
    return fail(2, "Invalid request: too many parameters", req.id_json);
  for (simdjson::dom::element p : params) {
    std::string_view name;
    if (p.get_string().get(name) != simdjson::SUCCESS)
      return fail(1, "Invalid value type: expected String", req.id_json);
    req.params.emplace_back(name);
  }
  return ControlParse{std::move(req), {}};
}

// SET_PROPERTY ["combined", bool] / GET_PROPERTY ["combined"]; the only property Binance has.
ControlParse read_property_params(simdjson::dom::object obj, ControlRequest req) {
  simdjson::dom::array params;
  if (obj["params"].get_array().get(params) != simdjson::SUCCESS || params.size() == 0)
    return fail(2, "Invalid request: missing property name", req.id_json);
  std::string_view name;
  if (params.at(0).get_string().get(name) != simdjson::SUCCESS)
    return fail(2, "Invalid request: property name must be a string", req.id_json);
  if (name != "combined") return fail(0, "Unknown property", req.id_json);
  req.params.emplace_back(name);
  const std::size_t want = req.method == ControlMethod::kSetProperty ? 2 : 1;
  if (params.size() != want) return fail(2, "Invalid request: wrong number of params", req.id_json);
  if (req.method == ControlMethod::kSetProperty) {
    bool value = false;
    if (params.at(1).get_bool().get(value) != simdjson::SUCCESS)
      return fail(1, "Invalid value type: expected Boolean", req.id_json);
    req.bool_value = value;
  }
  return ControlParse{std::move(req), {}};
}

}  // namespace

ControlParse parse_control(simdjson::dom::parser& parser, std::string_view message) {
  simdjson::dom::element doc;
  if (parser.parse(message.data(), message.size()).get(doc) != simdjson::SUCCESS)
    return fail(3, "Invalid JSON: expected value at line 1 column 1");
  simdjson::dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS)
    return fail(3, "Invalid JSON: expected an object");

  ControlRequest req;
  const std::optional<std::string> id = read_id(obj);
  if (!id) return fail(2, "Invalid request: request ID must be an unsigned integer");
  req.id_json = *id;

  std::string_view method_name;
  if (obj["method"].get_string().get(method_name) != simdjson::SUCCESS)
    return fail(2, "Invalid request: missing field `method`", req.id_json);
  const std::optional<ControlMethod> method = method_from(method_name);
  if (!method) return fail(2, "Invalid request: unknown method", req.id_json);
  req.method = *method;

  switch (req.method) {
    case ControlMethod::kSubscribe:
    case ControlMethod::kUnsubscribe:
      return read_stream_params(obj, std::move(req));
    case ControlMethod::kSetProperty:
    case ControlMethod::kGetProperty:
      return read_property_params(obj, std::move(req));
    case ControlMethod::kListSubscriptions:
      break;
  }
  return ControlParse{std::move(req), {}};
}

std::string result_reply(std::string_view result_json, std::string_view id_json) {
  std::string s = R"({"result":)";
  s += result_json;
  s += R"(,"id":)";
  s += id_json;
  s += '}';
  return s;
}

std::string list_reply(const std::vector<std::string>& names, std::string_view id_json) {
  std::string result = "[";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i) result += ',';
    append_json_string(result, names[i]);
  }
  result += ']';
  return result_reply(result, id_json);
}

std::string error_reply(int code, std::string_view msg, std::string_view id_json) {
  std::string s = R"({"error":{"code":)";
  s += std::to_string(code);
  s += R"(,"msg":)";
  append_json_string(s, msg);
  s += R"(},"id":)";
  s += id_json;
  s += '}';
  return s;
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace mdfeed::fake
