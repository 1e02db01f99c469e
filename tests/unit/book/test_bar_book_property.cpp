// Randomized ground-truth test. A synthetic exchange generates every bar; the book is fed a
// stream of its updates that is delayed, reordered, duplicated, dropped and cut by disconnects,
// and REST answers that over-fetch, repeat rows, include the forming bar, fail and rate-limit.
// Maintenance windows leave holes. Whatever the seed, the sink must end up with exactly the
// exchange's history: contiguous, no duplicates, bit-equal final bars, explicit gaps only where
// the exchange has no bar. Seeded and bounded: a failure names its seed.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <queue>
#include <sstream>
#include <string>
#include <vector>

#include "book_test_util.hpp"
#include "mdfeed/book/bar_book.hpp"

using namespace mdfeed;
using namespace mdfeed::test;

namespace {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() { return splitmix64(s_++ * 0x2545F4914F6CDD1DULL); }
  std::int64_t range(std::int64_t lo, std::int64_t hi) {  // inclusive
    const auto span = static_cast<std::uint64_t>(hi - lo) + 1;
    return lo + static_cast<std::int64_t>(next() % span);
  }
  bool chance(int percent) { return range(0, 99) < percent; }

 private:
  std::uint64_t s_;
};

enum class Kind { kTick, kDeliver, kReconnect, kResponse };
enum class Outcome { kOk, kFail, kRateLimited };

struct Ev {
  std::int64_t mono = 0;
  std::uint64_t seq = 0;
  Kind kind = Kind::kTick;
  Bar bar{};
  std::int64_t event_ms = 0;
  FetchRequest req{};
  Outcome outcome = Outcome::kOk;
  std::int64_t server_ms = 0;
  std::int64_t retry_after_ms = 0;
};

struct Later {
  bool operator()(const Ev& a, const Ev& b) const {
    return a.mono != b.mono ? a.mono > b.mono : a.seq > b.seq;
  }
};

struct Window {
  std::int64_t from_ms;
  std::int64_t to_ms;
};

class Sim {
 public:
  explicit Sim(std::uint64_t seed)
      : rng_(seed),
        interval_(rng_.chance(30) ? "1s" : "1m"),
        grid_(interval_),
        sink_(interval_),
        market_(interval_),
        opt_(make_options()),
        book_(interval_, opt_, sink_) {
    const std::int64_t epoch = rng_.chance(50) ? kY2030 : kY1990;
    // mono either far below exchange time or far above it: the offset must not matter.
    skew_ = rng_.chance(50) ? epoch - rng_.range(1'000, 10'000'000'000)
                            : -rng_.range(1'000'000'000'000, 9'000'000'000'000);
    t0_ = epoch + rng_.range(0, 10 * 86'400'000LL);
    rest_lag_ms_ = rng_.chance(50) ? 0 : rng_.range(1, 10'000);  // < close_grace_ms
    const std::int64_t bars = interval_ == "1s" ? 1'500 : 150;
    first_bar_ = grid_.open_containing(t0_);
    stream_end_ = first_bar_ + bars * grid_.nominal_ms();
    final_ms_ = stream_end_ + 5 * grid_.nominal_ms() + 60'000;
    make_holes(bars);
    make_windows();
    start_book();
  }

  void run() {
    schedule_stream();
    for (const Window& w : windows_)
      if (w.to_ms < final_ms_) push(Kind::kReconnect, mono(w.to_ms));
    for (std::int64_t t = t0_; t <= final_ms_; t += 250) push(Kind::kTick, mono(t));
    clock_.observe(t0_ - rng_.range(0, 200), mono(t0_));  // GET /api/v3/time at start
    while (!queue_.empty()) {
      const Ev ev = queue_.top();
      queue_.pop();
      handle(ev);
      check_between_calls();
    }
  }

  [[nodiscard]] std::vector<std::string> check() const;
  [[nodiscard]] const BookCounters& counters() const { return book_.counters(); }
  [[nodiscard]] std::string describe_run() const {
    std::ostringstream os;
    os << "interval=" << interval_ << " t0=" << t0_ << " skew=" << skew_
       << " rest_lag=" << rest_lag_ms_ << " start=" << (resume_ ? "resume" : "fresh")
       << " backfill=" << opt_.backfill_bars << " max_fetch=" << opt_.max_fetch_bars
       << " max_pending=" << opt_.max_pending << " holes=" << holes_.size()
       << " windows=" << windows_.size() << " closed=" << sink_.closed.size()
       << " gaps=" << sink_.gaps.size() << " fetches=" << fetches_
       << " failures=" << book_.counters().fetch_failures
       << " held_drop=" << book_.counters().pending_overflow_dropped
       << " dups=" << book_.counters().duplicates_dropped
       << " ooo=" << book_.counters().out_of_order_dropped;
    return os.str();
  }

 private:
  BookOptions make_options() {
    BookOptions o;
    o.close_grace_ms = 15'000;
    o.retry_min_ms = rng_.range(200, 1'000);
    o.retry_max_ms = o.retry_min_ms * 8;
    o.max_fetch_bars = rng_.chance(50) ? 1000 : static_cast<std::uint32_t>(rng_.range(2, 20));
    o.max_pending =
        static_cast<std::size_t>(o.max_fetch_bars) * static_cast<std::size_t>(rng_.range(1, 4));
    o.backfill_bars = static_cast<std::uint32_t>(rng_.chance(20) ? 0 : rng_.range(1, 60));
    return o;
  }

  void make_holes(std::int64_t bars) {
    const std::int64_t runs = rng_.range(0, 3);
    const std::int64_t max_len = interval_ == "1s" ? 40 : 5;
    for (std::int64_t r = 0; r < runs; ++r) {
      const std::int64_t at = rng_.range(10, bars - 10);
      const std::int64_t len = rng_.range(1, max_len);
      for (std::int64_t i = at; i < at + len; ++i) {
        const std::int64_t open = grid_.advance(first_bar_, i);
        market_.add_hole(open);
        holes_.push_back(open);
      }
    }
  }

  void make_windows() {
    const std::int64_t n = rng_.range(0, 4);
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t from = rng_.range(t0_, stream_end_);
      windows_.push_back({from, from + rng_.range(1'000, std::min<std::int64_t>(
                                                             3 * grid_.nominal_ms(), 200'000))});
    }
  }

  void start_book() {
    resume_ = rng_.chance(40);
    if (resume_) {
      resume_last_ = grid_.advance(first_bar_, -rng_.range(1, 30));
      book_.resume_after(resume_last_);
    } else {
      book_.start_fresh();
    }
  }

  [[nodiscard]] std::int64_t mono(std::int64_t exchange_ms) const { return exchange_ms - skew_; }
  [[nodiscard]] std::int64_t exchange(std::int64_t mono_ms) const { return mono_ms + skew_; }

  void push(Kind kind, std::int64_t mono_ms, Ev ev = {}) {
    ev.kind = kind;
    ev.mono = mono_ms;
    ev.seq = seq_++;
    queue_.push(ev);
  }

  [[nodiscard]] bool disconnected(std::int64_t t) const {
    return std::any_of(windows_.begin(), windows_.end(),
                       [t](const Window& w) { return t >= w.from_ms && t < w.to_ms; });
  }

  // Every update the exchange sends, then what the network does to it.
  void schedule_stream() {
    const std::int64_t every = interval_ == "1s" ? 1'000 : 2'000;
    for (std::int64_t open = first_bar_; open < stream_end_; open = grid_.next(open)) {
      if (!market_.exists(open)) continue;
      for (std::int64_t e = std::max(open, t0_); e < grid_.next(open) && e < stream_end_;
           e += every)
        send(market_.at(open, e), e);
      const std::int64_t late = rng_.chance(5) ? rng_.range(1, 40'000) : rng_.range(0, 50);
      const std::int64_t e = grid_.next(open) + late;
      if (e < stream_end_) send(market_.final_bar(open), e);
    }
  }

  void send(const Bar& bar, std::int64_t event_ms) {
    if (rng_.chance(3)) return;  // lost
    const int copies = rng_.chance(3) ? 2 : 1;
    for (int c = 0; c < copies; ++c) {
      std::int64_t at = event_ms + rng_.range(5, 300);
      if (rng_.chance(2)) at += rng_.range(1'000, 20'000);  // stuck in a buffer: reordered
      if (disconnected(at)) continue;
      Ev ev;
      ev.bar = bar;
      ev.event_ms = event_ms;
      push(Kind::kDeliver, mono(at), ev);
    }
  }

  void handle(const Ev& ev) {
    switch (ev.kind) {
      case Kind::kDeliver:
        clock_.observe(ev.event_ms, ev.mono);
        book_.on_stream_update(ev.bar, ev.event_ms);
        break;
      case Kind::kReconnect: book_.on_reconnect(); break;
      case Kind::kTick: tick(ev.mono); break;
      case Kind::kResponse: respond(ev); break;
    }
  }

  // What a reader may see at any moment between two book calls.
  void check_between_calls() {
    if (sink_.forming && !sink_.closed.empty() &&
        sink_.forming->open_time_ms <= sink_.closed.back().open_time_ms)
      fail("forming bar left at or before the last closed bar " + describe(*sink_.forming));
    const auto held = book_.oldest_held_open_ms();
    if (held && held == book_.next_expected_open_ms()) fail("a contiguous bar is left held");
  }

  void tick(std::int64_t mono_ms) {
    // The due-time queue relies on this: no request before the time next_due_mono_ms names,
    // and none at all when it names none.
    const auto due = book_.next_due_mono_ms(clock_, mono_ms);
    const auto req = book_.next_fetch(clock_, mono_ms);
    if (req && (!due || *due > mono_ms)) fail("a request before the due time the book announced");
    if (!req) return;
    if (in_flight_) fail("a second request while one is in flight");
    if (mono_ms < allowed_at_) fail("request before the retry time");
    if (req->reason != FetchReason::kBackfill &&
        book_.next_expected_open_ms() != req->start_open_ms)
      fail("request does not start at the next expected bar");
    if (req->bar_count == 0 || req->bar_count > opt_.max_fetch_bars) fail("bad bar_count");
    in_flight_ = true;
    ++fetches_;
    const std::int64_t now = exchange(mono_ms);
    const std::int64_t rtt = rng_.range(20, 800) + (rng_.chance(3) ? rng_.range(1'000, 5'000) : 0);
    Ev ev;
    ev.req = *req;
    ev.server_ms = now + rtt / 2;
    if (now < stream_end_ && rng_.chance(15)) {
      ev.outcome = rng_.chance(33) ? Outcome::kRateLimited : Outcome::kFail;
      ev.retry_after_ms = ev.outcome == Outcome::kRateLimited ? rng_.range(1'000, 10'000) : 0;
    }
    push(Kind::kResponse, mono_ms + rtt, ev);
  }

  void respond(const Ev& ev) {
    in_flight_ = false;
    if (ev.outcome != Outcome::kOk) {
      book_.on_fetch_failed(ev.req, ev.mono, ev.retry_after_ms);
      allowed_at_ = ev.mono + (ev.retry_after_ms > 0 ? ev.retry_after_ms : opt_.retry_min_ms);
      return;
    }
    // Over-fetch on either side, sometimes up to "now" (the forming bar), sometimes a repeat.
    const std::int64_t from = grid_.advance(ev.req.start_open_ms, -rng_.range(0, 3));
    const std::int64_t to =
        rng_.chance(30) ? ev.server_ms : grid_.advance(ev.req.end_open_ms, rng_.range(0, 3));
    std::vector<Bar> rows = market_.rest(from, to, ev.server_ms, rest_lag_ms_);
    if (!rows.empty() && rng_.chance(10)) {
      const auto i =
          static_cast<std::size_t>(rng_.range(0, static_cast<std::int64_t>(rows.size()) - 1));
      rows.insert(rows.begin() + static_cast<std::ptrdiff_t>(i), rows[i]);
    }
    if (ev.req.reason == FetchReason::kBackfill && !backfill_ok_) backfill_ok_ = ev.req;
    book_.on_fetch_result(ev.req, rows, ev.mono);
  }

  void fail(const std::string& what) {
    if (errors_.size() < 10) errors_.push_back(what);
  }

  Rng rng_;
  std::string interval_;
  BarGrid grid_;
  RecordingSink sink_;
  SynthMarket market_;
  BookOptions opt_;
  BarBook book_;
  ExchangeClock clock_;
  std::int64_t skew_ = 0;
  std::int64_t t0_ = 0;
  std::int64_t rest_lag_ms_ = 0;
  std::int64_t first_bar_ = 0;
  std::int64_t stream_end_ = 0;
  std::int64_t final_ms_ = 0;
  std::vector<std::int64_t> holes_;
  std::vector<Window> windows_;
  bool resume_ = false;
  std::int64_t resume_last_ = 0;
  std::priority_queue<Ev, std::vector<Ev>, Later> queue_;
  std::uint64_t seq_ = 0;
  bool in_flight_ = false;
  std::int64_t allowed_at_ = std::numeric_limits<std::int64_t>::min();
  std::optional<FetchRequest> backfill_ok_;
  std::size_t fetches_ = 0;
  std::vector<std::string> errors_;
};

std::vector<std::string> Sim::check() const {
  std::vector<std::string> errs = errors_;
  auto err = [&errs](const std::string& s) {
    if (errs.size() < 20) errs.push_back(s);
  };
  for (const std::string& v : sink_.violations) err("sink: " + v);
  // Every closed bar is the exchange's final bar, bit for bit.
  for (const Bar& b : sink_.closed) {
    if (!market_.exists(b.open_time_ms))
      err("published a bar the exchange does not have " + describe(b));
    if (!same_bar(b, market_.final_bar(b.open_time_ms), true))
      err("not the final bar " + describe(b));
  }
  // Explicit gaps only where the exchange really has no bar.
  for (const ExplicitGap& g : sink_.gaps)
    for (std::int64_t o = g.first_open_ms; o <= g.last_open_ms; o = grid_.next(o))
      if (market_.exists(o)) err("explicit gap over an existing bar at " + std::to_string(o));
  if (sink_.closed.empty()) {
    err("nothing published");
    return errs;
  }
  // Where the series starts.
  std::int64_t first = sink_.closed.front().open_time_ms;
  if (!sink_.gaps.empty()) first = std::min(first, sink_.gaps.front().first_open_ms);
  if (resume_ && first != grid_.next(resume_last_))
    err("resume: series starts at " + std::to_string(first));
  if (!resume_ && opt_.backfill_bars > 0) {
    if (!backfill_ok_)
      err("no backfill answered");
    else if (first != backfill_ok_->start_open_ms)
      err("backfill: series starts at " + std::to_string(first));
  }
  if (!resume_ && opt_.backfill_bars == 0 && first > grid_.advance(first_bar_, 3))
    err("stream start: series starts late at " + std::to_string(first));
  // Where it ends: everything that ended comfortably before the end of the run.
  const std::int64_t last = std::max(sink_.closed.back().open_time_ms,
                                     sink_.gaps.empty() ? 0 : sink_.gaps.back().last_open_ms);
  const std::int64_t due = grid_.open_containing(final_ms_ - opt_.close_grace_ms - 20'000);
  if (last < grid_.prev(due)) err("series stops early at " + std::to_string(last));
  // The forming slot only moves forward, and only ever shows a state the exchange had.
  for (std::size_t i = 0; i < sink_.forming_history.size(); ++i) {
    const Bar& f = sink_.forming_history[i];
    const std::uint64_t base = market_.at(f.open_time_ms, f.open_time_ms).trades;
    const auto rev = static_cast<std::int64_t>(f.trades - base);
    Bar want = market_.at(f.open_time_ms, f.open_time_ms + rev * 1'000);
    want.flags = f.flags;
    if (f.trades < base || !same_bar(f, want))
      err("forming bar is no exchange state " + describe(f));
    if (i > 0) {
      const Bar& p = sink_.forming_history[i - 1];
      if (f.open_time_ms < p.open_time_ms ||
          (f.open_time_ms == p.open_time_ms && f.trades < p.trades))
        err("forming moved backwards " + describe(f));
    }
  }
  const BookCounters& c = book_.counters();
  if (c.closed_published != sink_.closed.size()) err("closed_published mismatch");
  return errs;
}

}  // namespace

TEST_CASE("unit_book property: sink equals ground truth under a hostile network",
          "[book][property]") {
  // MDFEED_BOOK_SEEDS=N [MDFEED_BOOK_SEED0=S] runs a longer soak; ctest keeps the default.
  const char* n_env = std::getenv("MDFEED_BOOK_SEEDS");
  const char* s_env = std::getenv("MDFEED_BOOK_SEED0");
  const std::uint64_t seeds = n_env != nullptr ? std::strtoull(n_env, nullptr, 10) : 60;
  const std::uint64_t seed0 = s_env != nullptr ? std::strtoull(s_env, nullptr, 10) : 1;
  BookCounters sum;
  for (std::uint64_t seed = seed0; seed < seed0 + seeds; ++seed) {
    Sim sim(seed);
    sim.run();
    const auto errs = sim.check();
    if (!errs.empty()) {
      std::string all = "seed " + std::to_string(seed) + ": " + sim.describe_run() + "\n";
      for (const auto& e : errs) all += "  " + e + "\n";
      FAIL_CHECK(all);
    }
    const BookCounters& c = sim.counters();
    sum.explicit_gaps += c.explicit_gaps;
    sum.fetch_failures += c.fetch_failures;
    sum.out_of_order_dropped += c.out_of_order_dropped;
    sum.duplicates_dropped += c.duplicates_dropped;
    sum.stale_dropped += c.stale_dropped;
    sum.pending_overflow_dropped += c.pending_overflow_dropped;
    sum.late_closes_fetched += c.late_closes_fetched;
    sum.gaps_detected += c.gaps_detected;
    sum.bars_filled += c.bars_filled;
    sum.missing_dropped += c.missing_dropped;
    sum.fetches_without_progress += c.fetches_without_progress;
  }
  // The seeds must actually exercise every path the test claims to cover.
  CHECK(sum.explicit_gaps > 0);
  CHECK(sum.fetch_failures > 0);
  CHECK(sum.out_of_order_dropped > 0);
  CHECK(sum.duplicates_dropped > 0);
  CHECK(sum.stale_dropped > 0);
  CHECK(sum.pending_overflow_dropped > 0);
  CHECK(sum.late_closes_fetched > 0);
  CHECK(sum.gaps_detected > 0);
  CHECK(sum.bars_filled > 0);
  CHECK(sum.fetches_without_progress > 0);
}
