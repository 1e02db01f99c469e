// Output helpers for mdfeed-ctl: a small JSON writer, aligned tables with optional ANSI color,
// and time/number formatting. Locale-independent (to_chars), so output parses the same anywhere.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mdfeed::ctl {

// Compact JSON, built in order. Doubles use the shortest round-trip form; NaN/inf become null
// (JSON has no spelling for them). Strings are escaped, invalid UTF-8 becomes U+FFFD.
class Json {
 public:
  Json& begin_object();
  Json& end_object();
  Json& begin_array();
  Json& end_array();
  Json& key(std::string_view k);
  Json& value(std::string_view v);
  Json& value(const char* v) { return value(std::string_view(v)); }
  Json& value(const std::string& v) { return value(std::string_view(v)); }
  Json& value(bool v);
  Json& value(std::int64_t v);
  Json& value(std::uint64_t v);
  Json& value(std::uint32_t v) { return value(static_cast<std::uint64_t>(v)); }
  Json& value(double v);
  Json& null();
  [[nodiscard]] const std::string& str() const noexcept { return out_; }

 private:
  void comma();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

void append_json_string(std::string& out, std::string_view s);

enum class Color { kNone, kGreen, kYellow, kRed, kBold };

// ANSI escapes only when enabled: stdout is a terminal, NO_COLOR is unset and TERM is not dumb.
[[nodiscard]] bool want_color(int fd) noexcept;
[[nodiscard]] std::string paint(std::string_view s, Color c, bool enabled);

// Left-aligned columns padded to the widest cell; right-aligned for the marked columns. A row's
// color wraps the padded text, so colored and plain rows stay aligned.
class Table {
 public:
  explicit Table(std::vector<std::string> headers, std::vector<bool> right_aligned = {});
  void add(std::vector<std::string> cells, Color color = Color::kNone);
  [[nodiscard]] std::string render(bool color) const;

 private:
  std::vector<std::string> headers_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<Color> colors_;
};

// 2024-01-02T03:04:05Z, with .mmm when the milliseconds are not zero; "-" for 0.
[[nodiscard]] std::string iso_utc(std::int64_t ms);
// 350ms, 12.3s, 5m07s, 2h03m, 3d04h: compact, for ages and uptimes.
[[nodiscard]] std::string human_duration(std::int64_t ms);
[[nodiscard]] std::string format_double(double v);
[[nodiscard]] std::string hex_u64(std::uint64_t v);

}  // namespace mdfeed::ctl
