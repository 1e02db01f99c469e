// Output helpers for mdfeed-ctl (see format.hpp).
#include "format.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace mdfeed::ctl {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not one.
std::size_t utf8_len(std::string_view s, std::size_t i) noexcept {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) n = 2;
  else if (b0 >= 0xE0 && b0 <= 0xEF) n = 3;
  else if (b0 >= 0xF0 && b0 <= 0xF4) n = 4;
  else return 0;
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0U) != 0x80U) return 0;
  return n;  // overlong 3/4-byte forms are rare enough in our own strings to let through
}

void append_escape(std::string& out, char c) {
  switch (c) {
    case '"': out += "\\\""; return;
    case '\\': out += "\\\\"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    default: break;
  }
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
  out += buf;
}

const char* ansi(Color c) noexcept {
  switch (c) {
    case Color::kGreen: return "\033[32m";
    case Color::kYellow: return "\033[33m";
    case Color::kRed: return "\033[31m";
    case Color::kBold: return "\033[1m";
    case Color::kNone: break;
  }
  return "";
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == '"' || c == '\\') {
      append_escape(out, s[i]);
      ++i;
      continue;
    }
    const std::size_t n = utf8_len(s, i);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  out += '"';
}

void Json::comma() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_ += ',';
    first_.back() = false;
  }
}

Json& Json::begin_object() {
  comma();
  out_ += '{';
  first_.push_back(true);
  return *this;
}

Json& Json::end_object() {
  out_ += '}';
  first_.pop_back();
  return *this;
}

Json& Json::begin_array() {
  comma();
  out_ += '[';
  first_.push_back(true);
  return *this;
}

Json& Json::end_array() {
  out_ += ']';
  first_.pop_back();
  return *this;
}

Json& Json::key(std::string_view k) {
  comma();
  append_json_string(out_, k);
  out_ += ':';
  after_key_ = true;
  return *this;
}

Json& Json::value(std::string_view v) {
  comma();
  append_json_string(out_, v);
  return *this;
}

Json& Json::value(bool v) {
  comma();
  out_ += v ? "true" : "false";
  return *this;
}

Json& Json::value(std::int64_t v) {
  comma();
  out_ += std::to_string(v);
  return *this;
}

Json& Json::value(std::uint64_t v) {
  comma();
  out_ += std::to_string(v);
  return *this;
}

Json& Json::value(double v) {
  if (!std::isfinite(v)) return null();
  comma();
  out_ += format_double(v);
  return *this;
}

Json& Json::null() {
  comma();
  out_ += "null";
  return *this;
}

bool want_color(int fd) noexcept {
  if (::isatty(fd) != 1) return false;
  const char* no_color = std::getenv("NO_COLOR");  // https://no-color.org
  if (no_color != nullptr && *no_color != '\0') return false;
  const char* term = std::getenv("TERM");
  return term == nullptr || std::strcmp(term, "dumb") != 0;
}

std::string paint(std::string_view s, Color c, bool enabled) {
  if (!enabled || c == Color::kNone) return std::string(s);
  return std::string(ansi(c)) + std::string(s) + "\033[0m";
}

Table::Table(std::vector<std::string> headers, std::vector<bool> right_aligned)
    : headers_(std::move(headers)), right_(std::move(right_aligned)) {
  right_.resize(headers_.size(), false);
}

void Table::add(std::vector<std::string> cells, Color color) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
  colors_.push_back(color);
}

std::string Table::render(bool color) const {
  std::vector<std::size_t> width(headers_.size());
  for (std::size_t c = 0; c < headers_.size(); ++c) width[c] = headers_[c].size();
  for (const auto& row : rows_)
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const std::string pad(width[c] - cells[c].size(), ' ');
      const bool last = c + 1 == cells.size();
      s += right_[c] ? pad + cells[c] : cells[c] + (last ? "" : pad);
      if (!last) s += "  ";
    }
    return s;
  };
  std::string out = paint(line(headers_), Color::kBold, color) + "\n";
  for (std::size_t r = 0; r < rows_.size(); ++r) out += paint(line(rows_[r]), colors_[r], color) + "\n";
  return out;
}

std::string iso_utc(std::int64_t ms) {
  if (ms == 0) return "-";
  const std::int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  const auto frac = static_cast<int>(ms - secs * 1000);
  const auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string s = buf;
  if (frac != 0) {
    std::snprintf(buf, sizeof buf, ".%03d", frac);
    s += buf;
  }
  return s + "Z";
}

std::string human_duration(std::int64_t ms) {
  char buf[48];
  if (ms < 0) return "-";
  if (ms < 1000) {
    std::snprintf(buf, sizeof buf, "%" PRId64 "ms", ms);
  } else if (ms < 60'000) {
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
  } else if (ms < 3'600'000) {
    std::snprintf(buf, sizeof buf, "%" PRId64 "m%02" PRId64 "s", ms / 60'000, ms / 1000 % 60);
  } else if (ms < 86'400'000) {
    std::snprintf(buf, sizeof buf, "%" PRId64 "h%02" PRId64 "m", ms / 3'600'000, ms / 60'000 % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%" PRId64 "d%02" PRId64 "h", ms / 86'400'000, ms / 3'600'000 % 24);
  }
  return buf;
}

// Shortest round-trip digits, in fixed notation when that fits: prices read 0.00000123, not
// 1.23e-06, and parse back to the same double.
std::string format_double(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  if (r.ec != std::errc()) r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string hex_u64(std::uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

}  // namespace mdfeed::ctl
