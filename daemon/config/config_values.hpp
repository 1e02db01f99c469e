// Internal to the loader: a value before conversion (Raw, from YAML or the environment), the
// Converter that checks it against a key's type, bounds and rules, and the diagnostics list.
// Included only by config_load.cpp.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "config/config.hpp"
#include "config/config_keys.hpp"

namespace mdfeed::config_detail::load {

inline std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

inline std::string_view trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

inline bool starts_with(std::string_view s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// yaml-cpp marks are 0-based, and -1 when absent (which becomes "no position").
inline Loc loc_of(const YAML::Mark& m) { return Loc{m.line + 1, m.column + 1, {}}; }

// Collects errors in the order found; take() puts them in file order, unpositioned ones last.
class Diag {
 public:
  explicit Diag(std::string file) : file_(std::move(file)) {}

  void error(const Loc& loc, const std::string& message) {
    errors_.push_back(ConfigError{file_, loc.line, loc.column,
                                  loc.env.empty() ? message : "$" + loc.env + ": " + message});
  }

  [[nodiscard]] std::vector<ConfigError> take() {
    std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
      const int la = a.line > 0 ? a.line : INT_MAX;
      const int lb = b.line > 0 ? b.line : INT_MAX;
      return la != lb ? la < lb : a.column < b.column;
    });
    return std::move(errors_);
  }

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
};

// A value before conversion. YAML nodes and environment variables both become a Raw, so both
// go through the same type checks and rules.
struct Raw {
  enum class Shape : std::uint8_t { Null, Scalar, List, Map };
  Shape shape = Shape::Null;
  std::string text;                                // Scalar
  std::vector<std::pair<std::string, Loc>> items;  // List (scalar items only)
  Loc loc;
};

inline const char* shape_name(Raw::Shape s) {
  switch (s) {
    case Raw::Shape::Null:
      return "nothing";
    case Raw::Shape::Scalar:
      return "a single value";
    case Raw::Shape::List:
      return "a list";
    case Raw::Shape::Map:
      return "a mapping";
  }
  return "?";
}

// `key_loc` stands in for a null value's position: yaml-cpp marks an empty value at the next
// token, which may be lines further down.
inline Raw raw_from_yaml(const YAML::Node& v, const Loc& key_loc, const std::string& path, Diag& diag) {
  Raw r;
  r.loc = v.IsNull() ? key_loc : loc_of(v.Mark());
  if (v.IsScalar()) {
    r.shape = Raw::Shape::Scalar;
    r.text = v.Scalar();
  } else if (v.IsMap()) {
    r.shape = Raw::Shape::Map;
  } else if (v.IsSequence()) {
    r.shape = Raw::Shape::List;
    for (const auto& item : v) {
      if (item.IsScalar())
        r.items.emplace_back(item.Scalar(), loc_of(item.Mark()));
      else
        diag.error(loc_of(item.Mark()), path + ": list items must be single values");
    }
  }
  return r;
}

// Environment values are trimmed; a list is comma-separated with empty items skipped.
inline Raw raw_from_env(std::string_view var, std::string_view value, bool list) {
  Raw r;
  r.loc.env = std::string(var);
  if (!list) {
    r.shape = Raw::Shape::Scalar;
    r.text = std::string(trim(value));
    return r;
  }
  r.shape = Raw::Shape::List;
  while (!value.empty()) {
    const auto comma = value.find(',');
    const auto item = trim(value.substr(0, comma));
    if (!item.empty()) r.items.emplace_back(std::string(item), r.loc);
    value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
  }
  return r;
}

using Value = std::variant<std::string, std::uint32_t, double, std::vector<std::string>>;

template <class P>
struct MemberOf;
template <class C, class M>
struct MemberOf<M C::*> {
  using type = M;
};
template <class P>
using member_t = typename MemberOf<P>::type;

template <class T>
bool is_list(const KeyDef<T>& k) {
  return std::holds_alternative<std::vector<std::string> T::*>(k.field);
}

// The conversions below report at the value and return nullopt on any error, so a bad value
// never reaches the Config and the default stays in place for the cross-key rules.
template <class T>
class Converter {
 public:
  Converter(const KeyDef<T>& k, const RuleContext& ctx, Diag& diag)
      : k_(k), ctx_(ctx), diag_(diag) {}

  std::optional<Value> operator()(const Raw& raw) const {
    return std::visit(
        [&](auto member) -> std::optional<Value> {
          using M = member_t<decltype(member)>;
          if constexpr (std::is_same_v<M, std::string>) return wrap(to_string(raw));
          if constexpr (std::is_same_v<M, std::uint32_t>) return wrap(to_uint32(raw));
          if constexpr (std::is_same_v<M, double>) return wrap(to_number(raw, false));
          if constexpr (std::is_same_v<M, std::vector<std::string>>) return wrap(to_list(raw));
          return std::nullopt;  // the feed list is walked, not converted
        },
        k_.field);
  }

 private:
  template <class V>
  static std::optional<Value> wrap(std::optional<V> v) {
    if (!v) return std::nullopt;
    return Value(std::move(*v));
  }

  void fail(const Loc& loc, const std::string& msg) const {
    diag_.error(loc, std::string(k_.path) + ": " + msg);
  }

  std::optional<std::string> to_string(const Raw& raw) const {
    if (raw.shape == Raw::Shape::List || raw.shape == Raw::Shape::Map) {
      fail(raw.loc, std::string("expected a single value, got ") + shape_name(raw.shape));
      return std::nullopt;
    }
    std::string v = raw.text;  // a null value is the empty string
    return apply_rule(v, raw.loc) ? std::optional<std::string>(std::move(v)) : std::nullopt;
  }

  bool apply_rule(std::string& v, const Loc& loc) const {
    if (k_.str_rule == nullptr) return true;
    const std::string msg = k_.str_rule(v, ctx_);
    if (!msg.empty()) fail(loc, msg);
    return msg.empty();
  }

  std::optional<std::uint32_t> to_uint32(const Raw& raw) const {
    const auto v = to_number(raw, true);
    if (!v) return std::nullopt;
    return static_cast<std::uint32_t>(*v);  // within bounds, and every bound fits 32 bits
  }

  std::optional<double> to_number(const Raw& raw, bool integer) const {
    const char* kind = integer ? "an integer" : "a number";
    if (raw.shape != Raw::Shape::Scalar) {
      fail(raw.loc, std::string("expected ") + kind + ", got " + shape_name(raw.shape));
      return std::nullopt;
    }
    const auto v = parse_number(raw.text, integer);
    if (!v) {
      fail(raw.loc, std::string("expected ") + kind + ", got " + quoted(raw.text));
      return std::nullopt;
    }
    if (!in_bounds(*v)) {
      fail(raw.loc, bounds_text() + ", got " + raw.text);
      return std::nullopt;
    }
    if (k_.num_rule != nullptr) {
      if (const std::string msg = k_.num_rule(*v); !msg.empty()) {
        fail(raw.loc, msg);
        return std::nullopt;
      }
    }
    return v;
  }

  // Integers go through int64 so "-1" and "99999999999" are range errors, not type errors.
  static std::optional<double> parse_number(const std::string& s, bool integer) {
    const char* first = s.data();
    const char* last = first + s.size();
    if (integer) {
      std::int64_t n = 0;
      const auto [p, ec] = std::from_chars(first, last, n);
      if (ec == std::errc::result_out_of_range) return HUGE_VAL;
      if (ec != std::errc() || p != last) return std::nullopt;
      return static_cast<double>(n);
    }
    double d = 0;
    const auto [p, ec] = std::from_chars(first, last, d);
    if (ec != std::errc() || p != last || !std::isfinite(d)) return std::nullopt;
    return d;
  }

  bool in_bounds(double v) const {
    const Bounds& b = k_.bounds;
    return (b.min_open ? v > b.min : v >= b.min) && v <= b.max;
  }

  std::string bounds_text() const {
    const Bounds& b = k_.bounds;
    if (b.min_open)
      return "must be greater than " + format_number(b.min) + " and at most " +
             format_number(b.max);
    return "must be between " + format_number(b.min) + " and " + format_number(b.max);
  }

  // Lists must be non-empty and free of duplicates: both hold for symbols and intervals.
  std::optional<std::vector<std::string>> to_list(const Raw& raw) const {
    if (raw.shape == Raw::Shape::Scalar) {
      fail(raw.loc, "expected a list, got a single value (write [" + raw.text + "])");
      return std::nullopt;
    }
    if (raw.shape != Raw::Shape::List) {
      fail(raw.loc, std::string("expected a list, got ") + shape_name(raw.shape));
      return std::nullopt;
    }
    bool ok = true;
    std::vector<std::string> out;
    std::map<std::string, Loc, std::less<>> first;
    for (const auto& [text, loc] : raw.items) {
      std::string v = text;
      if (!apply_rule(v, loc)) {
        ok = false;
        continue;
      }
      if (const auto it = first.find(v); it != first.end()) {
        fail(loc, "duplicate " + quoted(v) + duplicate_of(it->second));
        ok = false;
        continue;
      }
      first.emplace(v, loc);
      out.push_back(std::move(v));
    }
    if (ok && out.empty()) fail(raw.loc, "must not be empty");
    if (!ok) return std::nullopt;
    return out;
  }

  static std::string duplicate_of(const Loc& first) {
    if (!first.env.empty()) return " (listed twice)";
    return " (first at " + where(first) + ")";
  }

  const KeyDef<T>& k_;
  const RuleContext& ctx_;
  Diag& diag_;
};

template <class T>
void assign(const KeyDef<T>& k, const Value& v, T& target) {
  std::visit(
      [&](auto member) {
        using M = member_t<decltype(member)>;
        if constexpr (!std::is_same_v<M, std::vector<FeedConfig>>) target.*member = std::get<M>(v);
      },
      k.field);
}

}  // namespace mdfeed::config_detail::load
