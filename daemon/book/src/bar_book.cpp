// The bar book's decisions: what to publish, what to hold, what to drop, what to fetch.
//
// Model. next_expected_ is the open time of the next closed bar the ring needs; every bar before
// it is final (published, or an explicit gap). Closed bars after a hole wait in pending_. The
// stream tells us two different things about a bar that is not closed yet:
//   * it showed the bar (forming) but no close came: the close may just be late, so wait until
//     close_time + close_grace_ms on the exchange clock, then fetch it (kLateClose);
//   * it never showed the bar (a jump in open time, or a new connection / restart starting
//     later): the stream will never send it, so fetch at once (kGap). need_before_ marks this.
// REST is authoritative for a bar that had ended before the request was issued.
#include "mdfeed/book/bar_book.hpp"

#include <algorithm>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <utility>

namespace mdfeed {

BookSink::~BookSink() = default;
void BookSink::on_explicit_gap(const ExplicitGap& /*gap*/) {}

const char* to_string(FetchReason r) noexcept {
  switch (r) {
    case FetchReason::kBackfill: return "backfill";
    case FetchReason::kGap: return "gap";
    case FetchReason::kLateClose: return "late_close";
  }
  return "?";
}

const char* to_string(BookState s) noexcept {
  switch (s) {
    case BookState::kBackfilling: return "backfilling";
    case BookState::kLive: return "live";
    case BookState::kGapFilling: return "gap_filling";
    case BookState::kFailed: return "failed";
  }
  return "?";
}

const char* to_string(UpdateResult r) noexcept {
  switch (r) {
    case UpdateResult::kForming: return "forming";
    case UpdateResult::kClosed: return "closed";
    case UpdateResult::kHeld: return "held";
    case UpdateResult::kDuplicate: return "duplicate";
    case UpdateResult::kStale: return "stale";
    case UpdateResult::kOutOfOrder: return "out_of_order";
    case UpdateResult::kMissing: return "missing";
    case UpdateResult::kIgnored: return "ignored";
  }
  return "?";
}

namespace {

void validate(const BookOptions& o) {
  if (o.close_grace_ms < 0) throw std::invalid_argument("close_grace_ms < 0");
  if (o.retry_min_ms <= 0 || o.retry_max_ms < o.retry_min_ms)
    throw std::invalid_argument("need 0 < retry_min_ms <= retry_max_ms");
  if (o.max_fetch_bars == 0) throw std::invalid_argument("max_fetch_bars == 0");
  // A page whose first bar is still missing is held whole; it must never overflow on its own.
  if (o.max_pending < o.max_fetch_bars) throw std::invalid_argument("max_pending < max_fetch_bars");
}

}  // namespace

BarBook::BarBook(std::string interval, BookOptions opt, BookSink& sink)
    : interval_(std::move(interval)), grid_(interval_), opt_(opt), sink_(sink) {
  validate(opt_);
}

void BarBook::start_fresh() {
  start_ = opt_.backfill_bars > 0 ? Start::kBackfill : Start::kFromStream;
}

void BarBook::resume_after(std::int64_t last_closed_open_ms) {
  start_ = Start::kResumed;
  last_published_ = last_closed_open_ms;
  next_expected_ = grid_.next(last_closed_open_ms);
  // Whatever ended while the daemon was down will never come from the stream.
  catch_up_ = true;
}

void BarBook::on_reconnect() {
  first_after_connect_ = true;
  catch_up_ = true;
}

void BarBook::mark_failed(std::string reason) {
  failed_ = true;
  failure_reason_ = std::move(reason);
  in_flight_.reset();
}

// ---------------------------------------------------------------------------------------------
// Stream side

UpdateResult BarBook::on_stream_update(const Bar& bar, std::int64_t event_time_ms) {
  ++counters_.updates;
  if (failed_ || start_ == Start::kNotStarted) return UpdateResult::kIgnored;
  const std::int64_t open = bar.open_time_ms;
  if (start_ == Start::kFromStream && !next_expected_) next_expected_ = open;
  if (next_expected_ && open < *next_expected_) return drop_finished(bar);
  note_stream_open(open);
  return bar.closed() ? accept_closed(bar) : accept_forming(bar, event_time_ms);
}

UpdateResult BarBook::drop_finished(const Bar& bar) {
  if (in_explicit_gap(bar.open_time_ms)) {
    ++counters_.missing_dropped;
    return UpdateResult::kMissing;
  }
  if (bar.closed()) {
    ++counters_.duplicates_dropped;
    return UpdateResult::kDuplicate;
  }
  ++counters_.stale_dropped;
  return UpdateResult::kStale;
}

UpdateResult BarBook::accept_closed(const Bar& bar) {
  if (pending_.count(bar.open_time_ms) != 0) {
    ++counters_.duplicates_dropped;
    return UpdateResult::kDuplicate;
  }
  Bar closed = bar;
  closed.flags = kBarClosed | (bar.flags & kBarNoTrades);
  const bool contiguous = next_expected_ && bar.open_time_ms == *next_expected_;
  if (contiguous) {
    publish(closed);
    drain();
  } else {
    hold(closed);
  }
  retire_forming();
  return contiguous ? UpdateResult::kClosed : UpdateResult::kHeld;
}

UpdateResult BarBook::accept_forming(const Bar& bar, std::int64_t event_time_ms) {
  if (pending_.count(bar.open_time_ms) != 0) {
    ++counters_.stale_dropped;
    return UpdateResult::kStale;
  }
  if (forming_is_newer_than(bar, event_time_ms)) {
    ++counters_.out_of_order_dropped;
    return UpdateResult::kOutOfOrder;
  }
  Bar forming = bar;
  forming.flags = bar.flags & kBarNoTrades;
  forming_event_ms_ = event_time_ms;
  set_forming(forming);
  return UpdateResult::kForming;
}

// The forming slot only moves forward: to a newer bar, or to a later state of the same bar.
// A closed bar newer than this one also makes it old news (the stream has moved past it).
bool BarBook::forming_is_newer_than(const Bar& bar, std::int64_t event_time_ms) const {
  const std::int64_t open = bar.open_time_ms;
  if (!pending_.empty() && open < pending_.rbegin()->first) return true;
  if (!forming_) return false;
  if (open != forming_->open_time_ms) return open < forming_->open_time_ms;
  return event_time_ms < forming_event_ms_ || regresses(bar, *forming_);
}

// A later state of the same bar never has fewer trades or less volume. Trades are compared when
// both sides count them; venues that do not (OKX, Bybit) are judged by volume alone. A message
// without an event time (OKX) compares as kNoTime, the minimum, so only these checks apply.
bool BarBook::regresses(const Bar& update, const Bar& shown) noexcept {
  if (update.trades_known() && shown.trades_known() && update.trades < shown.trades) return true;
  return update.volume < shown.volume;
}

// Jump detection. A bar the stream never showed will never be closed by it, so the bars before
// the first one a new connection shows, and the bars a jump skips, are wanted without grace.
void BarBook::note_stream_open(std::int64_t open_ms) {
  if (first_after_connect_) {
    first_after_connect_ = false;
    // This bar is what the connection really starts with, so it settles the catch-up: bars
    // before it are wanted now, from it on the stream delivers (with grace for late closes).
    catch_up_ = false;
    need_bars_before(open_ms);
  } else if (highest_seen_ && open_ms > grid_.next(*highest_seen_)) {
    need_bars_before(open_ms);
  }
  if (!highest_seen_ || open_ms > *highest_seen_) highest_seen_ = open_ms;
}

void BarBook::need_bars_before(std::int64_t open_ms) {
  // Count an episode once: extending an outstanding hole is not a new gap.
  if (next_expected_ && open_ms > *next_expected_ && !missing_now()) ++counters_.gaps_detected;
  if (!need_before_ || open_ms > *need_before_) need_before_ = open_ms;
}

bool BarBook::missing_now() const noexcept {
  return next_expected_ && need_before_ && *need_before_ > *next_expected_;
}

// ---------------------------------------------------------------------------------------------
// REST side

std::optional<FetchRequest> BarBook::next_fetch(const ExchangeClock& clock, std::int64_t mono_ms) {
  if (failed_ || in_flight_) return std::nullopt;
  if (retry_at_ && mono_ms < *retry_at_) return std::nullopt;
  const std::optional<std::int64_t> now = clock.now(mono_ms);
  if (!now) return std::nullopt;
  std::optional<FetchRequest> req = next_expected_ ? plan_fill(*now) : plan_backfill(*now);
  if (req) {
    req->issued_exchange_ms = *now;
    in_flight_ = req;
  }
  return req;
}

// The backfill_bars bars just before the oldest closed bar the stream gave us, or before the
// current bar, oldest page first. Anchoring on held bars keeps the window put while retries go
// on; without any, the clock moves it so a late success still asks for recent bars. Once a
// page has been answered the window is fixed.
std::optional<FetchRequest> BarBook::plan_backfill(std::int64_t now_ms) {
  if (start_ != Start::kBackfill) return std::nullopt;
  if (!backfill_from_) {
    backfill_end_ = grid_.open_containing(now_ms);
    if (!pending_.empty()) backfill_end_ = std::min(backfill_end_, pending_.begin()->first);
  }
  FetchRequest req;
  req.reason = FetchReason::kBackfill;
  req.start_open_ms = backfill_from_
                          ? *backfill_from_
                          : grid_.advance(backfill_end_, -std::int64_t{opt_.backfill_bars});
  req.end_open_ms = req.start_open_ms;
  req.bar_count = 1;
  for (std::int64_t open = grid_.next(req.start_open_ms);
       open < backfill_end_ && req.bar_count < opt_.max_fetch_bars; open = grid_.next(open)) {
    req.end_open_ms = open;
    ++req.bar_count;
  }
  return req;
}

// A backfill page is answered. No closed row yet: the symbol may have been listed later, so
// ask for the next page without anchoring (pre-listing time is not an exchange hole), or, past
// the window, start the series at its end. An empty page proves nothing while its last bar is
// within the grace (REST may lag): then it is asked again after a backoff. Anchored: the rest
// of the window is wanted now.
void BarBook::after_backfill_page(const FetchRequest& req) {
  if (!next_expected_) {
    if (!provably_missing(req.end_open_ms, req.issued_exchange_ms)) return;
    const std::int64_t after = grid_.next(req.end_open_ms);
    if (after < backfill_end_) {
      backfill_from_ = after;
    } else {
      anchor_at(backfill_end_);
    }
    return;
  }
  if (!need_before_ || *need_before_ < backfill_end_) need_before_ = backfill_end_;
}

std::optional<std::int64_t> BarBook::next_due_mono_ms(const ExchangeClock& clock,
                                                      std::int64_t mono_ms) const {
  if (failed_ || in_flight_) return std::nullopt;
  if (retry_at_ && mono_ms < *retry_at_) return *retry_at_;
  const std::optional<std::int64_t> now = clock.now(mono_ms);
  if (!now) return std::nullopt;
  if (!next_expected_) return start_ == Start::kBackfill ? std::optional<std::int64_t>(mono_ms) : std::nullopt;
  const std::int64_t start = *next_expected_;
  if (catch_up_ || (need_before_ && start < *need_before_)) return mono_ms;
  // The late-close rule of wanted_now(), turned into local time: the exchange clock advances
  // with the monotonic clock, so the deadline is that far ahead of mono_ms.
  const std::int64_t deadline = grid_.close_time(start) + opt_.close_grace_ms;
  return mono_ms + std::max<std::int64_t>(0, deadline - *now);
}

// From next_expected_ up to the last bar wanted now, at most one page, stopping before the
// first held bar (already known; the next request starts after it once it is drained). Both
// conditions in wanted_now() are monotone in the open time, so wanted bars form a prefix.
std::optional<FetchRequest> BarBook::plan_fill(std::int64_t now_ms) {
  const std::int64_t start = *next_expected_;
  if (catch_up_) {
    catch_up_ = false;
    need_bars_before(grid_.first_unended(start, now_ms));
  }
  if (!wanted_now(start, now_ms)) return std::nullopt;
  FetchRequest req;
  req.start_open_ms = start;
  req.end_open_ms = start;
  req.bar_count = 1;
  req.reason = missing_now() ? FetchReason::kGap : FetchReason::kLateClose;
  const std::int64_t held =
      pending_.empty() ? std::numeric_limits<std::int64_t>::max() : pending_.begin()->first;
  for (std::int64_t open = grid_.next(start);
       open < held && req.bar_count < opt_.max_fetch_bars && wanted_now(open, now_ms);
       open = grid_.next(open)) {
    req.end_open_ms = open;
    ++req.bar_count;
  }
  return req;
}

// Late-close rule: judged on exchange time only. `>=` matches "should have closed by now".
bool BarBook::wanted_now(std::int64_t open_ms, std::int64_t now_ms) const {
  if (need_before_ && open_ms < *need_before_) return true;
  return now_ms >= grid_.close_time(open_ms) + opt_.close_grace_ms;
}

void BarBook::on_fetch_result(const FetchRequest& req, const std::vector<Bar>& rows,
                              std::int64_t mono_ms) {
  if (!in_flight_ || *in_flight_ != req) {
    ++counters_.unexpected_results;
    return;
  }
  in_flight_.reset();
  const std::optional<std::int64_t> before = next_expected_;
  const std::optional<std::int64_t> backfill_before = backfill_from_;
  for (const Bar& row : rows) ingest_rest_row(row, req);
  if (req.reason == FetchReason::kBackfill) after_backfill_page(req);
  if (req.reason == FetchReason::kLateClose) ++counters_.late_closes_fetched;
  settle_range(req);
  retire_forming();
  if (next_expected_ != before || backfill_from_ != backfill_before) {
    backoff_ms_ = 0;
    retry_at_.reset();
  } else {
    // E.g. REST has not caught up with a bar that just ended: asking again at once would spin.
    ++counters_.fetches_without_progress;
    schedule_retry(mono_ms, 0);
  }
}

void BarBook::on_fetch_failed(const FetchRequest& req, std::int64_t mono_ms,
                              std::int64_t retry_after_ms) {
  if (!in_flight_ || *in_flight_ != req) {
    ++counters_.unexpected_results;
    return;
  }
  in_flight_.reset();
  ++counters_.fetch_failures;
  schedule_retry(mono_ms, retry_after_ms);
}

void BarBook::schedule_retry(std::int64_t mono_ms, std::int64_t retry_after_ms) {
  if (retry_after_ms > 0) {
    // The venue said when; earlier is a ban risk (418), later is needless delay.
    retry_at_ = mono_ms + retry_after_ms;
    return;
  }
  backoff_ms_ = backoff_ms_ == 0 ? opt_.retry_min_ms : std::min(backoff_ms_ * 2, opt_.retry_max_ms);
  retry_at_ = mono_ms + backoff_ms_;
}

// A contiguous row is published at once rather than held: holding a whole page first could
// overflow pending_ and evict held stream bars to make room for the very row that frees them.
void BarBook::ingest_rest_row(const Bar& row, const FetchRequest& req) {
  const std::int64_t open = row.open_time_ms;
  if (row.close_time_ms >= req.issued_exchange_ms) {
    offer_rest_forming(row);  // may have been read before it ended: never closes anything
    return;
  }
  const bool outside = open < req.start_open_ms || open > req.end_open_ms;
  // Backfill: rows ascend, so the first closed one in the window is the oldest bar the
  // exchange has there (later than the window start if the symbol was listed since: no hole).
  if (!outside && !next_expected_) anchor_at(open);
  const bool known = (next_expected_ && open < *next_expected_) || pending_.count(open) != 0;
  if (outside || known) {
    ++counters_.duplicates_dropped;
    return;
  }
  Bar closed = row;
  closed.flags = kBarClosed | kBarBackfilled | (row.flags & kBarNoTrades);
  if (open == *next_expected_) {
    publish(closed);
    drain();
  } else {
    hold(closed);
  }
}

// A REST forming row may refresh the forming slot, but never rewind what the stream showed.
// It keeps forming_event_ms_ as is: REST rows carry no event time, and stamping one from our
// clock could make the stream's next (genuinely newer) update look out of order.
void BarBook::offer_rest_forming(const Bar& row) {
  const std::int64_t open = row.open_time_ms;
  if (next_expected_ && open < *next_expected_) return;
  if (pending_.count(open) != 0) return;
  if (!pending_.empty() && open < pending_.rbegin()->first) return;
  if (forming_ && (open < forming_->open_time_ms ||
                   (open == forming_->open_time_ms && regresses(row, *forming_))))
    return;
  Bar forming = row;
  forming.flags = kBarBackfilled | (row.flags & kBarNoTrades);
  set_forming(forming);
}

// Starts the series after a backfill at open_ms, or at a held stream bar if one is older. (The
// clock has seen every held bar's E, so the window ends before them; the min is defensive.)
void BarBook::anchor_at(std::int64_t open_ms) {
  next_expected_ = pending_.empty() ? open_ms : std::min(open_ms, pending_.begin()->first);
  // Bars between the window and the stream's first bar were skipped while anchorless (the
  // rest of the window itself is not a gap, just further backfill pages).
  if (need_before_ && *need_before_ > std::max(backfill_end_, *next_expected_))
    ++counters_.gaps_detected;
  drain();
}

// Publishes what became contiguous, and records as explicit gaps the bars of the range REST
// had no row for although they had ended close_grace_ms before the request: the exchange has
// no bar there, and waiting longer would stall the ring for good.
void BarBook::settle_range(const FetchRequest& req) {
  const std::int64_t now = req.issued_exchange_ms;
  drain();
  while (next_expected_ && *next_expected_ >= req.start_open_ms &&
         *next_expected_ <= req.end_open_ms && provably_missing(*next_expected_, now)) {
    const std::int64_t first = *next_expected_;
    std::int64_t last = first;
    for (std::int64_t open = grid_.next(last);
         open <= req.end_open_ms && pending_.count(open) == 0 && provably_missing(open, now);
         open = grid_.next(open))
      last = open;
    record_gap(first, last);
    drain();
  }
}

// "REST has no row for this bar" means "the exchange has none" only once the bar ended
// close_grace_ms before the request was issued.
bool BarBook::provably_missing(std::int64_t open_ms, std::int64_t now_ms) const {
  return now_ms >= grid_.close_time(open_ms) + opt_.close_grace_ms;
}

void BarBook::record_gap(std::int64_t first_open_ms, std::int64_t last_open_ms) {
  const ExplicitGap gap{first_open_ms, last_open_ms};
  // A maintenance window found one late-close fetch at a time is one gap, not one per bar.
  // (Adjacent means nothing was published in between: next_expected_ went straight across.)
  const bool extends = !gaps_.empty() && grid_.next(gaps_.back().last_open_ms) == first_open_ms;
  if (extends) {
    gaps_.back().last_open_ms = last_open_ms;
  } else {
    ++counters_.explicit_gaps;
    gaps_.push_back(gap);
    if (gaps_.size() > kGapHistory) gaps_.pop_front();
  }
  next_expected_ = grid_.next(last_open_ms);
  sink_.on_explicit_gap(gap);
}

// ---------------------------------------------------------------------------------------------
// Shared

void BarBook::hold(const Bar& closed) {
  if (pending_.size() >= opt_.max_pending) {
    // Keep the oldest: they are needed first. The dropped bar is known to be final, so it is
    // wanted without grace: REST supplies it when the series gets there.
    const auto newest = std::prev(pending_.end());
    const bool drop_new = closed.open_time_ms > newest->first;
    const std::int64_t dropped = drop_new ? closed.open_time_ms : newest->first;
    ++counters_.pending_overflow_dropped;
    need_bars_before(grid_.next(dropped));
    if (drop_new) return;
    pending_.erase(newest);
  }
  pending_.emplace(closed.open_time_ms, closed);
}

std::size_t BarBook::drain() {
  std::size_t published = 0;
  while (next_expected_ && !pending_.empty()) {
    const auto it = pending_.begin();
    if (it->first > *next_expected_) break;
    // Older than the series can only be an off-grid open time: never publishable.
    if (it->first == *next_expected_) {
      publish(it->second);
      ++published;
    } else {
      ++counters_.duplicates_dropped;
    }
    pending_.erase(it);
  }
  return published;
}

void BarBook::publish(const Bar& closed) {
  sink_.publish_closed(closed);
  ++counters_.closed_published;
  if (closed.backfilled()) ++counters_.bars_filled;
  last_published_ = closed.open_time_ms;
  next_expected_ = grid_.next(closed.open_time_ms);
}

void BarBook::set_forming(const Bar& bar) {
  forming_ = bar;
  sink_.publish_forming(bar);
  ++counters_.forming_published;
}

// The forming slot must never show a bar whose close is known (published or held).
void BarBook::retire_forming() {
  if (!forming_) return;
  const std::int64_t open = forming_->open_time_ms;
  const bool final = (next_expected_ && open < *next_expected_) || pending_.count(open) != 0;
  if (!final) return;
  forming_.reset();
  sink_.clear_forming();
}

bool BarBook::in_explicit_gap(std::int64_t open_ms) const noexcept {
  return std::any_of(gaps_.begin(), gaps_.end(), [open_ms](const ExplicitGap& g) {
    return open_ms >= g.first_open_ms && open_ms <= g.last_open_ms;
  });
}

BookState BarBook::state() const noexcept {
  if (failed_) return BookState::kFailed;
  if (!next_expected_) return BookState::kBackfilling;
  const bool gap_fetch = in_flight_ && in_flight_->reason == FetchReason::kGap;
  if (missing_now() || !pending_.empty() || gap_fetch) return BookState::kGapFilling;
  return BookState::kLive;
}

}  // namespace mdfeed
