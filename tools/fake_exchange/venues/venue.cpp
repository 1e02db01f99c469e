// Helpers shared by the venue protocols (venue.hpp).
#include "fake_exchange/venues/venue.hpp"

#include <algorithm>
#include <charconv>
#include <mdfeed/names.hpp>

#include "fake_exchange/control.hpp"

namespace mdfeed::fake {

bool symbol_listed(const MarketView& m, std::string_view symbol) {
  return !m.invalid_symbols || std::find(m.invalid_symbols->begin(), m.invalid_symbols->end(),
                                         symbol) == m.invalid_symbols->end();
}

std::vector<std::int64_t> open_times_desc(std::string_view interval,
                                          std::optional<std::int64_t> from_ms,
                                          std::optional<std::int64_t> to_ms, int limit,
                                          bool newest_pick, const MarketView& m) {
  std::vector<std::int64_t> out;
  if (!valid_interval(interval) || limit < 1) return out;
  std::int64_t first = bar_open_at(interval, m.history_start_ms);
  if (first < m.history_start_ms) first = next_open_ms(interval, first);
  if (from_ms) {
    std::int64_t f = bar_open_at(interval, *from_ms);
    if (f < *from_ms) f = next_open_ms(interval, f);
    first = std::max(first, f);
  }
  std::int64_t last = bar_open_at(interval, m.sim_now_ms);
  if (to_ms) last = std::min(last, bar_open_at(interval, *to_ms));
  if (newest_pick) {
    for (std::int64_t t = last; t >= first && static_cast<int>(out.size()) < limit;
         t = bar_open_at(interval, t - 1))
      out.push_back(t);
    return out;
  }
  for (std::int64_t t = first; t <= last && static_cast<int>(out.size()) < limit;
       t = next_open_ms(interval, t))
    out.push_back(t);
  std::reverse(out.begin(), out.end());
  return out;
}

bool bar_is_forming(std::string_view interval, std::int64_t open_ms, const MarketView& m) {
  return open_ms == bar_open_at(interval, m.sim_now_ms);
}

BarUnits rest_bar(std::string_view symbol, std::string_view interval, std::int64_t open_ms,
                  const MarketView& m) {
  return bar_is_forming(interval, open_ms, m)
             ? forming_units(symbol, interval, open_ms, m.sim_now_ms)
             : truth_units(symbol, interval, open_ms);
}

std::optional<std::string_view> to_canonical(const IntervalName* table, std::size_t n,
                                             std::string_view venue) {
  for (std::size_t i = 0; i < n; ++i)
    if (table[i].venue == venue) return table[i].canonical;
  return std::nullopt;
}

void append_quoted(std::string& out, std::string_view s) {
  out += '"';
  out += s;
  out += '"';
}

void append_quoted_units(std::string& out, std::int64_t units) {
  out += '"';
  append_units(out, units);
  out += '"';
}

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

std::string conn_id_string(std::uint64_t id) {
  static const char kHex[] = "0123456789abcdef";
  std::uint64_t x = id * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL;
  std::string s;
  for (int i = 0; i < 16; ++i) {
    if (i == 8) s += '-';
    s += kHex[x & 15];
    x >>= 4;
  }
  return s;
}

bool RequestWindow::allow(std::int64_t real_ms, std::int64_t& retry_ms) {
  const std::int64_t window = real_ms / window_ms_;
  if (window != window_) {
    window_ = window;
    used_ = 0;
  }
  ++used_;
  retry_ms = (window + 1) * window_ms_ - real_ms;
  return limit_ <= 0 || used_ <= limit_;
}

}  // namespace mdfeed::fake
