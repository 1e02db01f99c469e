// The bar book: one per (feed, symbol, interval) stream. It turns an unreliable kline stream plus
// REST answers into the ring's contract: closed bars in open-time order, contiguous, each exactly
// once, final. Pure logic: no I/O, no clock reads; every time is passed in.
//
// How the daemon drives it (one thread per book, like the ring writer):
//   start_fresh() or resume_after(last)            once, before anything else
//   on_stream_update(bar, E)                       every parsed kline (after clock.observe(E))
//   next_fetch(clock, mono)                        after updates/results and on a periodic tick
//   on_fetch_result / on_fetch_failed(req, ...)    when the REST request it returned finishes
//   on_reconnect()                                 when the stream's connection was replaced
//
// Invariants (asserted by the randomized test in tests/unit/book):
//   * publish_closed gets strictly increasing open times, each = BarGrid::next(previous), except
//     right after on_explicit_gap, which reports the open times the exchange has no bar for.
//   * publish_forming never shows a bar at or before the last closed one.
//   * at most one FetchRequest is in flight; none is issued before a scheduled retry time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mdfeed/book/bar_grid.hpp"
#include "mdfeed/book/exchange_clock.hpp"
#include "mdfeed/layout.hpp"

namespace mdfeed {

// A run of bars the exchange has no data for (REST returned nothing for it, long after it ended).
struct ExplicitGap {
  std::int64_t first_open_ms = 0;
  std::int64_t last_open_ms = 0;  // inclusive
  friend bool operator==(const ExplicitGap& a, const ExplicitGap& b) noexcept {
    return a.first_open_ms == b.first_open_ms && a.last_open_ms == b.last_open_ms;
  }
};

// Where the book's output goes: the ring writer in the daemon, a recorder in tests.
class BookSink {
 public:
  virtual ~BookSink();
  virtual void publish_closed(const Bar& bar) = 0;   // flags: kBarClosed [| kBarBackfilled]
  virtual void publish_forming(const Bar& bar) = 0;  // flags: 0 or kBarBackfilled (from REST)
  virtual void clear_forming() = 0;
  // The next closed bar follows this hole. Default: nothing (the counters still record it).
  virtual void on_explicit_gap(const ExplicitGap& gap);
};

enum class FetchReason : std::uint8_t {
  kBackfill,   // startup: the last backfill_bars closed bars, oldest page first
  kGap,        // bars the stream skipped (jump, reconnect, restart): fetched without grace
  kLateClose,  // a bar ended close_grace_ms ago (exchange time) and its close never came
};
[[nodiscard]] const char* to_string(FetchReason r) noexcept;

// One REST klines request: bars with open time in [start_open_ms, end_open_ms].
struct FetchRequest {
  std::int64_t start_open_ms = 0;
  std::int64_t end_open_ms = 0;  // inclusive: the open time of the last bar wanted
  std::uint32_t bar_count = 0;   // bars in the range, <= BookOptions::max_fetch_bars: the `limit`
  FetchReason reason = FetchReason::kGap;
  // Exchange clock when the request was issued. The server answers later than this, so a row
  // whose close_time is before it is certainly final when the server reads it; a row judged
  // against the clock at *arrival* could have been read while still forming.
  std::int64_t issued_exchange_ms = 0;

  friend bool operator==(const FetchRequest& a, const FetchRequest& b) noexcept {
    return a.start_open_ms == b.start_open_ms && a.end_open_ms == b.end_open_ms &&
           a.bar_count == b.bar_count && a.reason == b.reason &&
           a.issued_exchange_ms == b.issued_exchange_ms;
  }
  friend bool operator!=(const FetchRequest& a, const FetchRequest& b) noexcept {
    return !(a == b);
  }
};

struct BookOptions {
  std::int64_t close_grace_ms = 15'000;  // config close_grace_s
  std::uint32_t backfill_bars = 1000;    // config backfill_bars; 0: start at the stream's bar
  std::int64_t retry_min_ms = 1'000;     // first backoff after a failed or fruitless fetch
  std::int64_t retry_max_ms = 60'000;    // backoff doubles up to this
  std::uint32_t max_fetch_bars = 1000;   // Binance's klines limit: one request is one page
  // Closed bars held behind a hole. Beyond this the newest held bar is dropped (counted): it is
  // final on the exchange, so the book fetches it again once the hole is filled. Dropping the
  // oldest instead would discard the bars needed first. Must be >= max_fetch_bars.
  std::size_t max_pending = 8192;
};

enum class BookState : std::uint8_t {
  kBackfilling,  // no series anchor yet (startup backfill pending, or waiting for the stream)
  kLive,         // contiguous; at most a late-close fetch outstanding
  kGapFilling,   // bars known missing now, or closed bars held behind a hole
  kFailed,       // mark_failed(): the daemon gave up on this stream (e.g. invalid symbol)
};
[[nodiscard]] const char* to_string(BookState s) noexcept;

// What happened to one stream update (informational; the counters carry the same facts).
enum class UpdateResult : std::uint8_t {
  kForming,     // published as the forming bar
  kClosed,      // closed and published (possibly with held bars behind it)
  kHeld,        // closed but not contiguous yet: held until the hole before it is filled
  kDuplicate,   // a closed bar already published or held
  kStale,       // a forming update for a bar whose close is already known
  kOutOfOrder,  // older than the forming bar already shown (event time, trades or open time)
  kMissing,     // for a bar already recorded as an explicit gap
  kIgnored,     // the book is failed, or neither start_fresh() nor resume_after() was called
};
[[nodiscard]] const char* to_string(UpdateResult r) noexcept;

struct BookCounters {
  std::uint64_t updates = 0;                   // stream updates received
  std::uint64_t closed_published = 0;          // closed bars sent to the sink (any source)
  std::uint64_t forming_published = 0;         // forming bars sent to the sink
  std::uint64_t duplicates_dropped = 0;        // closed bar already published/held; REST overlap
  std::uint64_t stale_dropped = 0;             // forming update for an already closed bar
  std::uint64_t out_of_order_dropped = 0;      // forming update older than the one shown
  std::uint64_t missing_dropped = 0;           // update for a bar recorded as an explicit gap
  std::uint64_t gaps_detected = 0;             // episodes of bars found missing (not retries)
  std::uint64_t bars_filled = 0;               // closed bars published from REST
  std::uint64_t late_closes_fetched = 0;       // completed kLateClose fetches
  std::uint64_t explicit_gaps = 0;             // exchange-side holes recorded (merged runs)
  std::uint64_t fetch_failures = 0;            // on_fetch_failed calls
  std::uint64_t fetches_without_progress = 0;  // results that advanced nothing (then backoff)
  std::uint64_t pending_overflow_dropped = 0;  // held closed bars dropped (re-fetched later)
  std::uint64_t unexpected_results = 0;        // results/failures for a request not in flight
};

class BarBook {
 public:
  // Throws std::invalid_argument for an unknown interval or inconsistent options.
  BarBook(std::string interval, BookOptions opt, BookSink& sink);
  BarBook(const BarBook&) = delete;
  BarBook& operator=(const BarBook&) = delete;

  // Empty ring. With backfill_bars > 0, next_fetch() with a known clock asks for the
  // backfill_bars closed bars before the current bar (or before the oldest closed bar the
  // stream already gave), oldest page first; stream updates meanwhile are held (forming is
  // published) and merged after. With 0, the first bar the stream shows anchors the series.
  void start_fresh();
  // The ring already holds closed bars up to last_closed_open_ms (daemon restart). Bars that
  // ended since are fetched (kGap) as soon as the clock is known.
  void resume_after(std::int64_t last_closed_open_ms);

  // One parsed kline. `bar.flags & kBarClosed` iff final; kBarNoTrades is kept when the venue
  // does not count trades. event_time_ms is the message's exchange time, or
  // std::numeric_limits<int64_t>::min() (venue::kNoTime) when the venue sends none.
  // Not [[nodiscard]]: the result only explains a decision the counters already record.
  UpdateResult on_stream_update(const Bar& bar, std::int64_t event_time_ms);

  // The next REST request to make, if any: nothing while one is in flight, before a scheduled
  // retry, before the exchange clock is known, or when no bar is wanted. Cheap when idle
  // (O(1)); a returned request costs O(bar_count) to size.
  [[nodiscard]] std::optional<FetchRequest> next_fetch(const ExchangeClock& clock,
                                                       std::int64_t mono_ms);

  // When next_fetch() may next return a request if nothing else happens (no stream update, no
  // fetch answer, no reconnect): a local monotonic time <= or > mono_ms, or nullopt for "only
  // after an event" (a request is in flight, the book failed, the clock is unknown, or it waits
  // for the stream). Lets the daemon keep a due-time queue instead of polling every stream.
  [[nodiscard]] std::optional<std::int64_t> next_due_mono_ms(const ExchangeClock& clock,
                                                            std::int64_t mono_ms) const;

  // The answer to `req`: REST rows ascending by open time, as the exchange sent them (the last
  // may be the forming bar; rows may overlap what is known or lie outside the range). Contract
  // with the REST client: every bar the exchange has in [start, end] is in `rows` (it pages
  // if needed; bar_count never exceeds one page). A bar missing from a range that ended
  // close_grace_ms before req.issued_exchange_ms is taken as an exchange-side hole.
  void on_fetch_result(const FetchRequest& req, const std::vector<Bar>& rows, std::int64_t mono_ms);

  // The request failed. Retry after exactly retry_after_ms if > 0 (429/418 Retry-After), else
  // after an exponential backoff between retry_min_ms and retry_max_ms.
  void on_fetch_failed(const FetchRequest& req, std::int64_t mono_ms,
                       std::int64_t retry_after_ms = 0);

  // The stream may have missed updates: its first bar after this is checked for a jump, and
  // bars that ended before the next tick are fetched without waiting for the grace.
  void on_reconnect();

  // The daemon has given up on this stream (e.g. invalid symbol): no more fetches or updates.
  void mark_failed(std::string reason);

  [[nodiscard]] BookState state() const noexcept;
  [[nodiscard]] const BookCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] std::optional<std::int64_t> last_closed_open_ms() const noexcept {
    return last_published_;
  }
  // Open time of the next closed bar the ring needs (nullopt until anchored).
  [[nodiscard]] std::optional<std::int64_t> next_expected_open_ms() const noexcept {
    return next_expected_;
  }
  [[nodiscard]] const std::optional<Bar>& forming() const noexcept { return forming_; }
  [[nodiscard]] std::size_t held_bars() const noexcept { return pending_.size(); }
  [[nodiscard]] std::optional<std::int64_t> oldest_held_open_ms() const noexcept {
    if (pending_.empty()) return std::nullopt;
    return pending_.begin()->first;
  }
  [[nodiscard]] const std::optional<FetchRequest>& in_flight() const noexcept { return in_flight_; }
  [[nodiscard]] std::optional<std::int64_t> retry_at_mono_ms() const noexcept { return retry_at_; }
  // The most recent explicit gaps, oldest first (at most kGapHistory).
  [[nodiscard]] const std::deque<ExplicitGap>& explicit_gaps() const noexcept { return gaps_; }
  [[nodiscard]] const std::string& failure_reason() const noexcept { return failure_reason_; }
  [[nodiscard]] const std::string& interval() const noexcept { return interval_; }
  [[nodiscard]] const BarGrid& grid() const noexcept { return grid_; }

  static constexpr std::size_t kGapHistory = 16;

 private:
  enum class Start : std::uint8_t { kNotStarted, kBackfill, kFromStream, kResumed };

  // Stream side.
  UpdateResult drop_finished(const Bar& bar);
  UpdateResult accept_closed(const Bar& bar);
  UpdateResult accept_forming(const Bar& bar, std::int64_t event_time_ms);
  [[nodiscard]] bool forming_is_newer_than(const Bar& bar, std::int64_t event_time_ms) const;
  [[nodiscard]] static bool regresses(const Bar& update, const Bar& shown) noexcept;
  void note_stream_open(std::int64_t open_ms);
  void need_bars_before(std::int64_t open_ms);

  // REST side.
  [[nodiscard]] std::optional<FetchRequest> plan_backfill(std::int64_t now_ms);
  void after_backfill_page(const FetchRequest& req);
  [[nodiscard]] std::optional<FetchRequest> plan_fill(std::int64_t now_ms);
  [[nodiscard]] bool wanted_now(std::int64_t open_ms, std::int64_t now_ms) const;
  void ingest_rest_row(const Bar& row, const FetchRequest& req);
  void offer_rest_forming(const Bar& row);
  void anchor_at(std::int64_t open_ms);
  void settle_range(const FetchRequest& req);
  [[nodiscard]] bool provably_missing(std::int64_t open_ms, std::int64_t now_ms) const;
  void record_gap(std::int64_t first_open_ms, std::int64_t last_open_ms);
  void schedule_retry(std::int64_t mono_ms, std::int64_t retry_after_ms);

  // Shared.
  void hold(const Bar& closed);
  std::size_t drain();
  void publish(const Bar& closed);
  void set_forming(const Bar& bar);
  void retire_forming();
  [[nodiscard]] bool in_explicit_gap(std::int64_t open_ms) const noexcept;
  [[nodiscard]] bool missing_now() const noexcept;

  std::string interval_;
  BarGrid grid_;
  BookOptions opt_;
  BookSink& sink_;
  Start start_ = Start::kNotStarted;

  // The series: next_expected_ is the anchor; everything before it is final.
  std::optional<std::int64_t> next_expected_;
  std::optional<std::int64_t> last_published_;
  std::map<std::int64_t, Bar> pending_;  // closed bars after a hole, by open time
  std::optional<Bar> forming_;
  std::int64_t forming_event_ms_ =
      std::numeric_limits<std::int64_t>::min();  // E of the last stream update shown as forming

  // What the stream has shown, to tell "skipped" (fetch now) from "not closed yet" (wait grace).
  std::optional<std::int64_t> highest_seen_;  // newest open time the stream has shown
  std::optional<std::int64_t> need_before_;   // bars before this open time are wanted now
  bool first_after_connect_ = true;           // next update opens a new connection's view
  bool catch_up_ = false;                     // bars ended by the next tick are wanted now

  // Startup backfill window [.., backfill_end_) and, after an empty page, the next page start.
  std::int64_t backfill_end_ = 0;
  std::optional<std::int64_t> backfill_from_;

  // REST.
  std::optional<FetchRequest> in_flight_;
  std::optional<std::int64_t> retry_at_;
  std::int64_t backoff_ms_ = 0;

  bool failed_ = false;
  std::string failure_reason_;
  std::deque<ExplicitGap> gaps_;
  BookCounters counters_;
};

}  // namespace mdfeed
