// Test doubles for the bar book: a sink that records everything and checks the ring contract
// as it goes, and a synthetic exchange whose every bar state is a pure function of (open, t).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "mdfeed/book/bar_book.hpp"
#include "mdfeed/layout.hpp"

namespace mdfeed::test {

inline constexpr std::int64_t kMinute = 60'000;
inline constexpr std::int64_t kY2030 = 1'893'456'000'000;  // 2030-01-01T00:00:00Z
inline constexpr std::int64_t kY1990 = 631'152'000'000;    // 1990-01-01T00:00:00Z

// Field-by-field equality (bit-exact doubles). `ignore_backfilled`: the same final bar may
// legitimately come from the stream or from REST.
inline bool same_bar(const Bar& a, const Bar& b, bool ignore_backfilled = false) {
  const std::uint32_t mask = ignore_backfilled ? ~kBarBackfilled : ~0u;
  return a.open_time_ms == b.open_time_ms && a.close_time_ms == b.close_time_ms &&
         a.open == b.open && a.high == b.high && a.low == b.low && a.close == b.close &&
         a.volume == b.volume && a.quote_volume == b.quote_volume &&
         a.taker_buy_volume == b.taker_buy_volume &&
         a.taker_buy_quote_volume == b.taker_buy_quote_volume && a.trades == b.trades &&
         (a.flags & mask) == (b.flags & mask);
}

inline std::string describe(const Bar& b) {
  std::ostringstream os;
  os << "{open=" << b.open_time_ms << " close_t=" << b.close_time_ms << " c=" << b.close
     << " trades=" << b.trades << " flags=" << b.flags << "}";
  return os.str();
}

// Records the book's output and checks, on every call, the invariants the ring relies on:
// closed bars strictly contiguous (except right after a reported explicit gap), closed flag
// set, forming never at or before the last closed bar.
class RecordingSink : public BookSink {
 public:
  explicit RecordingSink(const std::string& interval) : grid_(interval) {}

  void publish_closed(const Bar& bar) override {
    if (!bar.closed()) violation("closed bar without kBarClosed", bar);
    if (!closed.empty()) {
      const std::int64_t want = grid_.next(after_gap_ ? gap_last_ : closed.back().open_time_ms);
      if (bar.open_time_ms != want) violation("closed bar not contiguous", bar);
    }
    after_gap_ = false;
    closed.push_back(bar);
    ++events;
  }
  void publish_forming(const Bar& bar) override {
    if (bar.closed()) violation("forming bar with kBarClosed", bar);
    if (!closed.empty() && bar.open_time_ms <= closed.back().open_time_ms)
      violation("forming bar not after the last closed bar", bar);
    forming_history.push_back(bar);
    forming = bar;
    ++events;
  }
  void clear_forming() override {
    forming.reset();
    ++clears;
    ++events;
  }
  void on_explicit_gap(const ExplicitGap& gap) override {
    const std::int64_t want =
        after_gap_ ? grid_.next(gap_last_)
                   : (closed.empty() ? gap.first_open_ms : grid_.next(closed.back().open_time_ms));
    if (gap.first_open_ms != want || gap.last_open_ms < gap.first_open_ms) {
      std::ostringstream os;
      os << "explicit gap [" << gap.first_open_ms << "," << gap.last_open_ms << "] expected at "
         << want;
      violations.push_back(os.str());
    }
    gaps.push_back(gap);
    after_gap_ = true;
    gap_last_ = gap.last_open_ms;
    ++events;
  }

  [[nodiscard]] std::vector<std::int64_t> closed_opens() const {
    std::vector<std::int64_t> v;
    for (const Bar& b : closed) v.push_back(b.open_time_ms);
    return v;
  }

  std::vector<Bar> closed;
  std::vector<Bar> forming_history;
  std::optional<Bar> forming;
  std::vector<ExplicitGap> gaps;
  std::vector<std::string> violations;
  std::size_t clears = 0;
  std::size_t events = 0;

 private:
  void violation(const char* what, const Bar& bar) {
    violations.push_back(std::string(what) + " " + describe(bar));
  }
  BarGrid grid_;
  bool after_gap_ = false;
  std::int64_t gap_last_ = 0;
};

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The exchange's ground truth. A bar's state at exchange time t is a pure function of its open
// time and the whole seconds elapsed in it ("rev"); its final state (t past close_time) has a
// rev no forming state reaches. Every field depends on both, so a mixed-up or partial bar shows.
class SynthMarket {
 public:
  explicit SynthMarket(const std::string& interval) : grid_(interval) {}

  void add_hole(std::int64_t open_ms) { holes_.insert(open_ms); }
  [[nodiscard]] bool exists(std::int64_t open_ms) const { return holes_.count(open_ms) == 0; }
  [[nodiscard]] const BarGrid& grid() const { return grid_; }

  // The exchange's view of bar `open_ms` at time t_ms (requires t_ms >= open_ms).
  [[nodiscard]] Bar at(std::int64_t open_ms, std::int64_t t_ms) const {
    const std::int64_t close_t = grid_.close_time(open_ms);
    const bool final = t_ms > close_t;
    const auto rev = static_cast<std::uint64_t>(final ? (close_t - open_ms) / 1000 + 1
                                                      : (t_ms - open_ms) / 1000);
    const std::uint64_t h = splitmix64(static_cast<std::uint64_t>(open_ms));
    const double r = static_cast<double>(rev);
    Bar b{};
    b.open_time_ms = open_ms;
    b.close_time_ms = close_t;
    b.open = 100.0 + static_cast<double>(h % 4096) / 8.0;
    b.close = b.open + r * 0.125 - static_cast<double>((h >> 12) % 7);
    b.high = b.open + 0.5 + r * 0.25;
    b.low = b.open - 7.5 - r * 0.0625;
    b.volume = 0.5 + r * 1.5 + static_cast<double>((h >> 20) % 100) / 16.0;
    b.quote_volume = b.volume * b.open;
    b.taker_buy_volume = b.volume / 4.0;
    b.taker_buy_quote_volume = b.quote_volume / 4.0;
    b.trades = (h >> 32) % 100'000 + rev;
    b.flags = 0;
    return b;
  }
  // Final bar as the stream's x:true update carries it.
  [[nodiscard]] Bar final_bar(std::int64_t open_ms) const {
    Bar b = at(open_ms, grid_.next(open_ms));
    b.flags = kBarClosed;
    return b;
  }
  // GET /api/v3/klines answered at exchange time t_ms: every existing bar with open in
  // [start, end] that has opened, in its state at t_ms, ascending. No flags: the REST parser
  // cannot know closedness, the book decides it from close_time. A bar that ended less than
  // lag_ms ago is not served yet (REST lagging the matching engine).
  [[nodiscard]] std::vector<Bar> rest(std::int64_t start, std::int64_t end, std::int64_t t_ms,
                                      std::int64_t lag_ms = 0) const {
    std::vector<Bar> rows;
    for (std::int64_t o = start; o <= end && o <= t_ms; o = grid_.next(o)) {
      const std::int64_t close_t = grid_.close_time(o);
      const bool lagging = close_t < t_ms && t_ms <= close_t + lag_ms;
      if (exists(o) && !lagging) rows.push_back(at(o, t_ms));
    }
    return rows;
  }

 private:
  BarGrid grid_;
  std::set<std::int64_t> holes_;
};

}  // namespace mdfeed::test
