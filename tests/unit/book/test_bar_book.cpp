// Bar book scenarios: steady state, drops, gaps, late closes, backfill, restart, failures.
// Exchange time runs in 2030 (or 1990) while mono sits near zero: the book must never need the
// wall clock, and a host/exchange skew must change nothing.
#include <catch2/catch.hpp>
#include <vector>

#include "book_harness.hpp"

using namespace mdfeed;
using namespace mdfeed::test;

namespace {

// Every 2 s forming update of bar `open`, then its x:true.
void full_bar(Harness& h, std::int64_t open) {
  for (std::int64_t e = open; e < open + kMinute; e += 2'000)
    CHECK(h.forming(open, e) == UpdateResult::kForming);
  CHECK(h.close(open) == UpdateResult::kClosed);
}

std::vector<std::int64_t> opens(std::int64_t first, std::int64_t last) {
  std::vector<std::int64_t> v;
  for (std::int64_t i = first; i <= last; ++i) v.push_back(T(i));
  return v;
}

void check_truth(const Harness& h) {
  CHECK(h.sink.violations.empty());
  for (const Bar& b : h.sink.closed) {
    INFO(describe(b));
    CHECK(same_bar(b, h.market.final_bar(b.open_time_ms), /*ignore_backfilled=*/true));
  }
}

}  // namespace

TEST_CASE("unit_book steady state publishes every close in order, fetches nothing", "[book]") {
  Harness h;
  h.book.resume_after(T(-1));
  for (std::int64_t i = 0; i < 5; ++i) {
    full_bar(h, T(i));
    CHECK_FALSE(h.fetch_at(T(i + 1) + 1));
  }
  CHECK(h.sink.closed_opens() == opens(0, 4));
  for (const Bar& b : h.sink.closed) CHECK(b.flags == kBarClosed);  // from the stream
  check_truth(h);
  CHECK(h.sink.clears == 5);
  CHECK_FALSE(h.sink.forming);
  const BookCounters& c = h.book.counters();
  CHECK(c.updates == 5 * 31);
  CHECK(c.forming_published == 5 * 30);
  CHECK(c.closed_published == 5);
  CHECK(c.bars_filled == 0);
  CHECK(c.duplicates_dropped + c.stale_dropped + c.out_of_order_dropped == 0);
  CHECK(h.book.state() == BookState::kLive);
  CHECK(h.book.last_closed_open_ms() == T(4));
}

TEST_CASE("unit_book duplicate and stale updates are dropped and counted", "[book]") {
  Harness h;
  h.book.resume_after(T(-1));
  full_bar(h, T(0));
  CHECK(h.close(T(0)) == UpdateResult::kDuplicate);
  Bar altered = h.market.final_bar(T(0));
  altered.close += 1.0;  // a closed bar is final: a different "final" version changes nothing
  CHECK(h.stream(altered, T(1) + 5) == UpdateResult::kDuplicate);
  CHECK(h.forming(T(0), T(0) + 59'000) == UpdateResult::kStale);
  CHECK(h.stream(h.market.final_bar(T(-3)), T(1) + 6) == UpdateResult::kDuplicate);
  CHECK(h.forming(T(-2), T(1) + 7) == UpdateResult::kStale);
  const BookCounters& c = h.book.counters();
  CHECK(c.duplicates_dropped == 3);
  CHECK(c.stale_dropped == 2);
  CHECK(h.sink.closed_opens() == opens(0, 0));
  check_truth(h);

  SECTION("a forming update for a bar whose close is held is stale") {
    CHECK(h.forming(T(2), T(2)) == UpdateResult::kForming);  // jump: bar 1 missing
    CHECK(h.close(T(2)) == UpdateResult::kHeld);
    CHECK(h.forming(T(2), T(2) + 30'000) == UpdateResult::kStale);
    CHECK(h.close(T(2)) == UpdateResult::kDuplicate);
    CHECK(h.book.counters().stale_dropped == 3);
  }
}

TEST_CASE("unit_book out-of-order forming updates are dropped", "[book]") {
  Harness h;
  h.book.resume_after(T(-1));
  CHECK(h.forming(T(0), T(0) + 10'000) == UpdateResult::kForming);
  // Older event time.
  CHECK(h.forming(T(0), T(0) + 8'000) == UpdateResult::kOutOfOrder);
  // Newer event time but fewer trades than already shown for the bar.
  Bar fewer = h.market.at(T(0), T(0) + 4'000);
  CHECK(h.stream(fewer, T(0) + 12'000) == UpdateResult::kOutOfOrder);
  CHECK(h.forming(T(0), T(0) + 12'000) == UpdateResult::kForming);
  // A newer bar is forming: an update for the previous bar cannot replace it.
  CHECK(h.forming(T(1), T(1) + 1'000) == UpdateResult::kForming);
  CHECK(h.forming(T(0), T(0) + 40'000) == UpdateResult::kOutOfOrder);
  CHECK(h.book.counters().out_of_order_dropped == 3);
  REQUIRE(h.sink.forming);
  CHECK(same_bar(*h.sink.forming, h.market.at(T(1), T(1) + 1'000)));
  CHECK(h.sink.forming_history.size() == 3);
  // ...but its late x:true is accepted: closed data is final whatever the order.
  CHECK(h.close(T(0)) == UpdateResult::kClosed);
  CHECK(h.sink.closed_opens() == opens(0, 0));
  REQUIRE(h.sink.forming);  // bar 1 still forming
  CHECK(h.sink.forming->open_time_ms == T(1));
}

TEST_CASE("unit_book jump requests a gap fill at once and publishes contiguously", "[book]") {
  Harness h;
  h.book.resume_after(T(-1));
  full_bar(h, T(0));
  // Bars 1 and 2 never arrive; the stream jumps to bar 3.
  CHECK(h.forming(T(3), T(3) + 500) == UpdateResult::kForming);
  CHECK(h.book.counters().gaps_detected == 1);
  CHECK(h.book.state() == BookState::kGapFilling);
  // No grace for skipped bars: bar 2 ended 501 ms ago, far less than close_grace.
  const auto req = h.fetch_at(T(3) + 501);
  REQUIRE(req);
  CHECK(req->reason == FetchReason::kGap);
  CHECK(req->start_open_ms == T(1));
  CHECK(req->end_open_ms == T(2));
  CHECK(req->bar_count == 2);
  CHECK_FALSE(h.fetch_at(T(3) + 600));  // one in flight per book

  // Meanwhile the stream goes on: forming is published, closes are held.
  CHECK(h.forming(T(3), T(3) + 30'000) == UpdateResult::kForming);
  CHECK(h.close(T(3)) == UpdateResult::kHeld);
  CHECK_FALSE(h.sink.forming);  // bar 3 is closed (held), nothing newer yet
  CHECK(h.forming(T(4), T(4) + 2'000) == UpdateResult::kForming);
  CHECK(h.close(T(4)) == UpdateResult::kHeld);
  CHECK(h.forming(T(5), T(5) + 1'000) == UpdateResult::kForming);
  CHECK(h.sink.closed_opens() == opens(0, 0));
  CHECK(h.book.held_bars() == 2);
  CHECK(h.book.counters().gaps_detected == 1);  // the same episode

  h.answer(*req, T(5) + 1'100, T(5) + 1'200);
  CHECK(h.sink.closed_opens() == opens(0, 4));
  CHECK(h.sink.closed[1].flags == (kBarClosed | kBarBackfilled));
  CHECK(h.sink.closed[2].flags == (kBarClosed | kBarBackfilled));
  CHECK(h.sink.closed[3].flags == kBarClosed);
  check_truth(h);
  CHECK(h.book.counters().bars_filled == 2);
  CHECK(h.book.state() == BookState::kLive);
  REQUIRE(h.sink.forming);
  CHECK(h.sink.forming->open_time_ms == T(5));
  CHECK_FALSE(h.fetch_at(T(5) + 2'000));
}

TEST_CASE("unit_book overlapping and extra REST rows are de-duplicated", "[book]") {
  Harness h;
  h.book.resume_after(T(-1));
  full_bar(h, T(0));
  h.forming(T(3), T(3) + 500);
  h.close(T(3));  // held
  const auto req = h.fetch_at(T(4) + 100);
  REQUIRE(req);
  CHECK(req->start_open_ms == T(1));
  CHECK(req->end_open_ms == T(2));
  // The REST client over-fetched: bars -2..4 plus the forming bar 5, and a repeated row.
  std::vector<Bar> rows = h.market.rest(T(-2), T(5), T(5) + 3'000);
  rows.insert(rows.begin() + 4, rows[4]);  // bar 2 twice
  h.book.on_fetch_result(*req, rows, h.mono(T(5) + 3'100));
  CHECK(h.sink.closed_opens() == opens(0, 3));
  check_truth(h);
  // Closed rows outside [1, 2]: -2, -1, 0, 3; plus the repeated bar 2. Bar 4 ended after the
  // request was issued, so its row is only a forming candidate (superseded by bar 5's).
  CHECK(h.book.counters().duplicates_dropped == 5);
  CHECK(h.book.counters().bars_filled == 2);
  // The forming row (bar 5) refreshed the forming slot, marked as coming from REST.
  REQUIRE(h.sink.forming);
  CHECK(h.sink.forming->open_time_ms == T(5));
  CHECK(h.sink.forming->flags == kBarBackfilled);
  // The stream may move it forward but not back.
  CHECK(h.forming(T(5), T(5) + 2'000) == UpdateResult::kOutOfOrder);
  CHECK(h.forming(T(5), T(5) + 4'000) == UpdateResult::kForming);
}

TEST_CASE("unit_book REST rows are judged closed against the issue time, not the arrival",
          "[book]") {
  Harness h;
  h.book.resume_after(T(-1));
  h.forming(T(0), T(0) + 1'000);
  // A stream update for bar 2 whose E lags its open (clock behind): jump, bars 0..1 wanted now,
  // although by the clock bar 1 has not ended yet when the request is issued.
  CHECK(h.stream(h.market.at(T(2), T(2)), T(2) - 5'000) == UpdateResult::kForming);
  const auto req = h.fetch_at(T(2) - 5'000);
  REQUIRE(req);
  CHECK(req->start_open_ms == T(0));
  CHECK(req->end_open_ms == T(1));
  // The server reads after bar 1 ended and the answer arrives later still. Judged at arrival,
  // bar 1 would look closed; but it may have been read while forming, so it must not close.
  h.answer(*req, T(2) + 100, T(2) + 200);
  CHECK(h.sink.closed_opens() == opens(0, 0));
  CHECK(h.book.next_expected_open_ms() == T(1));
  REQUIRE(h.sink.forming);  // the stream's newer bar 2 stays the forming bar
  CHECK(h.sink.forming->open_time_ms == T(2));
  // The next request (issued after bar 1 ended) closes it.
  const auto again = h.fetch_at(T(2) + 300);
  REQUIRE(again);
  CHECK(again->start_open_ms == T(1));
  h.answer_now(*again);
  CHECK(h.sink.closed_opens() == opens(0, 1));
  check_truth(h);
}

TEST_CASE("unit_book REST forming last row refreshes forming and closes nothing", "[book]") {
  Harness h;
  h.book.resume_after(T(-1));
  // Restart 20 s into bar 3: bars 0..2 ended while down, bar 3 is forming.
  h.clock.observe(T(3) + 20'000, h.mono(T(3) + 20'000));
  const auto req = h.fetch_at(T(3) + 20'000);
  REQUIRE(req);
  CHECK(req->reason == FetchReason::kGap);
  CHECK(req->start_open_ms == T(0));
  CHECK(req->end_open_ms == T(2));
  // The REST client used endTime = now: the last row is bar 3, still forming at the server.
  const auto rows = h.market.rest(T(0), T(3), T(3) + 20'100);
  REQUIRE(rows.size() == 4);
  h.book.on_fetch_result(*req, rows, h.mono(T(3) + 20'200));
  CHECK(h.sink.closed_opens() == opens(0, 2));
  check_truth(h);
  REQUIRE(h.sink.forming);
  CHECK(same_bar(*h.sink.forming, [&] {
    Bar b = h.market.at(T(3), T(3) + 20'100);
    b.flags = kBarBackfilled;
    return b;
  }()));
  CHECK(h.book.next_expected_open_ms() == T(3));
  CHECK(h.book.last_closed_open_ms() == T(2));
}

namespace {

// Bar 0 forms until 100 ms before its end, then the stream goes silent. Returns the exchange
// times at which the late-close request was (not) issued.
void late_close_scenario(std::int64_t epoch, std::int64_t skew, std::vector<FetchRequest>& reqs,
                         std::vector<Bar>& closed) {
  Harness h("1m", test_options(), skew);
  const std::int64_t t0 = epoch;
  h.book.resume_after(t0 - kMinute);
  for (std::int64_t e = t0; e < t0 + kMinute - 100; e += 2'000) h.forming(t0, e);
  const std::int64_t due = t0 + kMinute - 1 + 15'000;  // close_time + grace
  // The due-time queue's answer: exactly the local time of that deadline, from any moment.
  CHECK(h.book.next_due_mono_ms(h.clock, h.mono(t0 + kMinute - 100)) == h.mono(due));
  CHECK(h.book.next_due_mono_ms(h.clock, h.mono(due - 1)) == h.mono(due));
  for (std::int64_t t = t0 + kMinute - 100; t < due; t += 250) CHECK_FALSE(h.fetch_at(t));
  CHECK_FALSE(h.fetch_at(due - 1));
  const auto req = h.fetch_at(due);
  REQUIRE(req);
  CHECK(req->reason == FetchReason::kLateClose);
  CHECK(req->start_open_ms == t0);
  CHECK(req->end_open_ms == t0);
  CHECK(req->issued_exchange_ms == due);
  h.answer_now(*req);
  CHECK(h.book.counters().late_closes_fetched == 1);
  CHECK(h.book.counters().bars_filled == 1);
  CHECK(h.sink.violations.empty());
  REQUIRE(h.sink.closed.size() == 1);
  CHECK(same_bar(h.sink.closed[0], h.market.final_bar(t0), true));
  CHECK(h.sink.closed[0].flags == (kBarClosed | kBarBackfilled));
  CHECK_FALSE(h.sink.forming);
  reqs.push_back(*req);
  closed.push_back(h.sink.closed[0]);
}

}  // namespace

TEST_CASE("unit_book late close is judged on exchange time only", "[book]") {
  std::vector<FetchRequest> reqs;
  std::vector<Bar> closed;
  // Exchange in 2030, mono near zero; exchange in 1990, mono far ahead of it (negative offset).
  late_close_scenario(kY2030, kY2030 - 5'000, reqs, closed);
  late_close_scenario(kY2030, kY2030 + 9'000'000'000'000, reqs, closed);
  late_close_scenario(kY1990, kY1990 - 7'000'000'000'000, reqs, closed);
  REQUIRE(reqs.size() == 3);
  // The skew changes nothing: identical requests for identical exchange times.
  CHECK(reqs[0] == reqs[1]);
  CHECK(reqs[2].issued_exchange_ms - kY1990 == reqs[0].issued_exchange_ms - kY2030);
}

TEST_CASE("unit_book late x:true within the grace needs no fetch", "[book]") {
  Harness h;
  h.book.resume_after(T(-1));
  for (std::int64_t e = T(0); e < T(1); e += 2'000) h.forming(T(0), e);
  h.forming(T(1), T(1) + 2'000);  // next bar starts, close of bar 0 not seen yet
  CHECK_FALSE(h.fetch_at(T(1) + 14'000));
  // x:true arrives 14 s late (E is its own event time).
  CHECK(h.stream(h.market.final_bar(T(0)), T(1) + 14'000) == UpdateResult::kClosed);
  CHECK_FALSE(h.fetch_at(T(1) + 20'000));
  CHECK(h.sink.closed_opens() == opens(0, 0));
  REQUIRE(h.sink.forming);
  CHECK(h.sink.forming->open_time_ms == T(1));  // the close did not clear the newer bar
}

TEST_CASE("unit_book a late x:true releases the bars held behind it at once", "[book]") {
  Harness h;
  h.book.resume_after(T(-1));
  h.forming(T(0), T(0) + 50'000);
  h.forming(T(1), T(1) + 2'000);  // bar 0's x:true is late
  CHECK(h.close(T(1)) == UpdateResult::kHeld);
  CHECK(h.close(T(1)) == UpdateResult::kDuplicate);
  h.forming(T(2), T(2) + 1'000);
  CHECK(h.book.held_bars() == 1);
  CHECK(h.sink.closed.empty());
  CHECK(h.stream(h.market.final_bar(T(0)), T(2) + 2'000) == UpdateResult::kClosed);
  CHECK(h.sink.closed_opens() == opens(0, 1));
  CHECK(h.book.held_bars() == 0);
  REQUIRE(h.sink.forming);
  CHECK(h.sink.forming->open_time_ms == T(2));
  CHECK_FALSE(h.fetch_at(T(2) + 2'000));
}

TEST_CASE("unit_book quiet feed fetches the bars that should have closed", "[book]") {
  Harness h;
  h.book.resume_after(T(-1));
  // No stream at all; the clock comes from REST /api/v3/time.
  h.clock.observe(T(0) + 5'000, h.mono(T(0) + 5'000));
  CHECK_FALSE(h.fetch_at(T(0) + 5'000));
  CHECK_FALSE(h.fetch_at(T(1) + 14'998));
  auto req = h.fetch_at(T(1) + 14'999);  // close_time T(1)-1 + 15 s
  REQUIRE(req);
  CHECK(req->reason == FetchReason::kLateClose);
  CHECK(req->start_open_ms == T(0));
  CHECK(req->end_open_ms == T(0));
  h.answer_now(*req);
  CHECK(h.sink.closed_opens() == opens(0, 0));
  // Ticks stop for a while (host suspended): the next request covers everything now due.
  req = h.fetch_at(T(6) + 20'000);
  REQUIRE(req);
  CHECK(req->start_open_ms == T(1));
  CHECK(req->end_open_ms == T(5));
  CHECK(req->bar_count == 5);
  h.answer_now(*req);
  CHECK(h.sink.closed_opens() == opens(0, 5));
  check_truth(h);
  CHECK(h.book.counters().late_closes_fetched == 2);
  CHECK(h.book.state() == BookState::kLive);
}

TEST_CASE("unit_book a fetch is capped at one page and continues", "[book]") {
  BookOptions opt = test_options();
  opt.max_fetch_bars = 4;
  opt.max_pending = 4;
  Harness h("1m", opt);
  h.book.resume_after(T(-1));
  h.clock.observe(T(10) + 20'000, h.mono(T(10) + 20'000));
  auto req = h.fetch_at(T(10) + 20'000);
  REQUIRE(req);
  CHECK(req->start_open_ms == T(0));
  CHECK(req->end_open_ms == T(3));
  CHECK(req->bar_count == 4);
  h.answer_now(*req);
  req = h.fetch_at(T(10) + 21'000);  // progress: no backoff
  REQUIRE(req);
  CHECK(req->start_open_ms == T(4));
  CHECK(req->end_open_ms == T(7));
  h.answer_now(*req);
  req = h.fetch_at(T(10) + 22'000);
  REQUIRE(req);
  CHECK(req->start_open_ms == T(8));
  CHECK(req->end_open_ms == T(9));
  h.answer_now(*req);
  CHECK(h.sink.closed_opens() == opens(0, 9));
  check_truth(h);
}

TEST_CASE("unit_book explicit maintenance gap is recorded and passed", "[book]") {
  Harness h;
  h.book.resume_after(T(-1));
  for (std::int64_t i = 1; i <= 3; ++i) h.market.add_hole(T(i));
  full_bar(h, T(0));
  // Maintenance: nothing for bars 1..3, the stream comes back with bar 4.
  h.forming(T(4), T(4) + 1'000);
  auto req = h.fetch_at(T(4) + 1'000);
  REQUIRE(req);
  CHECK(req->reason == FetchReason::kGap);
  CHECK(req->start_open_ms == T(1));
  CHECK(req->end_open_ms == T(3));
  h.answer_now(*req);
  // Bars 1, 2 ended long ago and REST has nothing: a hole at the exchange. Bar 3 ended 1 s ago:
  // REST may simply lag, so it is not declared missing yet.
  REQUIRE(h.sink.gaps.size() == 1);
  CHECK(h.sink.gaps[0] == ExplicitGap{T(1), T(2)});
  CHECK(h.book.next_expected_open_ms() == T(3));
  CHECK(h.book.counters().fetches_without_progress == 0);
  req = h.fetch_at(T(4) + 1'200);
  REQUIRE(req);
  CHECK(req->start_open_ms == T(3));
  CHECK(req->end_open_ms == T(3));
  h.answer_now(*req);
  CHECK(h.book.counters().fetches_without_progress == 1);
  REQUIRE(h.book.retry_at_mono_ms());
  CHECK(*h.book.retry_at_mono_ms() == h.mono(req->issued_exchange_ms + 100) + 1'000);
  CHECK_FALSE(h.fetch_at(T(4) + 1'299));  // backoff
  // Once bar 3 is past its grace the retry declares it too; one merged gap in the history.
  req = h.fetch_at(T(4) + 15'000);
  REQUIRE(req);
  h.answer_now(*req);
  REQUIRE(h.sink.gaps.size() == 2);
  CHECK(h.sink.gaps[1] == ExplicitGap{T(3), T(3)});
  REQUIRE(h.book.explicit_gaps().size() == 1);
  CHECK(h.book.explicit_gaps()[0] == ExplicitGap{T(1), T(3)});
  CHECK(h.book.counters().explicit_gaps == 1);
  CHECK(h.book.next_expected_open_ms() == T(4));
  // A straggler for a bar recorded as missing is dropped.
  CHECK(h.stream(h.market.at(T(2), T(3)), T(4) + 16'000) == UpdateResult::kMissing);
  CHECK(h.book.counters().missing_dropped == 1);
  h.close(T(4));
  CHECK(h.sink.closed_opens() == std::vector<std::int64_t>{T(0), T(4)});
  CHECK(h.sink.violations.empty());
  CHECK(h.book.state() == BookState::kLive);
}

TEST_CASE("unit_book quiet feed through maintenance never gets stuck", "[book]") {
  Harness h;
  h.book.resume_after(T(-1));
  for (std::int64_t i = 0; i < 30; ++i) h.market.add_hole(T(i));
  h.clock.observe(T(0), h.mono(T(0)));
  // One tick per 10 s for 40 minutes, REST answering instantly, no stream.
  for (std::int64_t t = T(0); t < T(40); t += 10'000)
    if (auto req = h.fetch_at(t)) h.answer_now(*req);
  REQUIRE(h.book.explicit_gaps().size() == 1);
  CHECK(h.book.explicit_gaps()[0] == ExplicitGap{T(0), T(29)});
  CHECK(h.sink.closed_opens() == opens(30, 38));
  check_truth(h);
}

TEST_CASE("unit_book startup backfill merges stream updates that arrived first", "[book]") {
  Harness h;  // backfill_bars = 5
  h.book.start_fresh();
  CHECK(h.book.state() == BookState::kBackfilling);
  CHECK_FALSE(h.book.next_fetch(h.clock, 0));  // exchange clock unknown: nothing to ask yet
  // The stream is first: bar 10 forms; its E makes the exchange clock known.
  CHECK(h.forming(T(10), T(10) + 57'000) == UpdateResult::kForming);
  const auto req = h.fetch_at(T(10) + 57'500);
  REQUIRE(req);
  CHECK(req->reason == FetchReason::kBackfill);
  CHECK(req->start_open_ms == T(5));
  CHECK(req->end_open_ms == T(9));
  CHECK(req->bar_count == 5);
  // While the backfill is in flight the stream closes bar 10 and starts bar 11.
  CHECK(h.close(T(10)) == UpdateResult::kHeld);
  CHECK(h.forming(T(11), T(11) + 2'000) == UpdateResult::kForming);
  CHECK(h.sink.closed.empty());
  CHECK(h.book.state() == BookState::kBackfilling);
  h.answer(*req, T(11) + 2'100, T(11) + 2'200);
  CHECK(h.sink.closed_opens() == opens(5, 10));
  for (std::size_t i = 0; i < 5; ++i)
    CHECK(h.sink.closed[i].flags == (kBarClosed | kBarBackfilled));
  CHECK(h.sink.closed[5].flags == kBarClosed);  // bar 10 as the stream closed it
  check_truth(h);
  CHECK(h.book.state() == BookState::kLive);
  REQUIRE(h.sink.forming);
  CHECK(h.sink.forming->open_time_ms == T(11));
  CHECK_FALSE(h.fetch_at(T(11) + 3'000));
}

TEST_CASE("unit_book backfill edge cases", "[book]") {
  SECTION("REST has nothing (new listing): the series starts after the window") {
    Harness h;
    h.book.start_fresh();
    h.clock.observe(T(10) + 1'000, h.mono(T(10) + 1'000));
    auto req = h.fetch_at(T(10) + 1'000);
    REQUIRE(req);
    // Bar 9 ended 1 s ago: an empty answer may just be REST lagging. Ask again later.
    h.book.on_fetch_result(*req, {}, h.mono(T(10) + 1'100));
    CHECK_FALSE(h.book.next_expected_open_ms());
    CHECK(h.book.counters().fetches_without_progress == 1);
    req = h.fetch_at(T(10) + 15'000);
    REQUIRE(req);
    CHECK(req->start_open_ms == T(5));
    h.book.on_fetch_result(*req, {}, h.mono(T(10) + 15'100));
    CHECK(h.book.next_expected_open_ms() == T(10));
    CHECK(h.sink.gaps.empty());  // "before the listing" is not a hole
    full_bar(h, T(10));
    CHECK(h.sink.closed_opens() == opens(10, 10));
  }
  SECTION("listed mid-window: the series starts at the first row, no explicit gap") {
    Harness h;
    h.book.start_fresh();
    for (std::int64_t i = 0; i <= 6; ++i) h.market.add_hole(T(i));
    h.clock.observe(T(10) + 1'000, h.mono(T(10) + 1'000));
    const auto req = h.fetch_at(T(10) + 1'000);
    REQUIRE(req);
    h.answer_now(*req);
    CHECK(h.sink.closed_opens() == opens(7, 9));
    CHECK(h.sink.gaps.empty());
  }
  SECTION("maintenance inside the window is an explicit gap") {
    Harness h;
    h.book.start_fresh();
    h.market.add_hole(T(7));
    h.clock.observe(T(10) + 1'000, h.mono(T(10) + 1'000));
    const auto req = h.fetch_at(T(10) + 1'000);
    REQUIRE(req);
    h.answer_now(*req);
    CHECK(h.sink.closed_opens() == std::vector<std::int64_t>{T(5), T(6), T(8), T(9)});
    REQUIRE(h.sink.gaps.size() == 1);
    CHECK(h.sink.gaps[0] == ExplicitGap{T(7), T(7)});
    CHECK(h.sink.violations.empty());
  }
  SECTION("a bar boundary passes during the backfill: the skipped bar is fetched at once") {
    Harness h;
    h.book.start_fresh();
    h.clock.observe(T(10) + 59'000, h.mono(T(10) + 59'000));
    const auto req = h.fetch_at(T(10) + 59'000);
    REQUIRE(req);
    CHECK(req->end_open_ms == T(9));
    // The stream's first bar is 11: bar 10's close was never seen.
    h.forming(T(11), T(11) + 1'000);
    h.answer(*req, T(11) + 1'100, T(11) + 1'200);
    CHECK(h.sink.closed_opens() == opens(5, 9));
    CHECK(h.book.counters().gaps_detected == 1);
    const auto gap = h.fetch_at(T(11) + 1'300);
    REQUIRE(gap);
    CHECK(gap->reason == FetchReason::kGap);
    CHECK(gap->start_open_ms == T(10));
    CHECK(gap->end_open_ms == T(10));
    h.answer_now(*gap);
    CHECK(h.sink.closed_opens() == opens(5, 10));
    check_truth(h);
  }
  SECTION("backfill_bars = 0: the stream's first bar anchors the series") {
    BookOptions opt = test_options();
    opt.backfill_bars = 0;
    Harness h("1m", opt);
    h.book.start_fresh();
    h.forming(T(3), T(3) + 30'000);
    CHECK_FALSE(h.fetch_at(T(3) + 30'000));
    CHECK(h.book.next_expected_open_ms() == T(3));
    h.close(T(3));
    full_bar(h, T(4));
    CHECK(h.sink.closed_opens() == opens(3, 4));
    CHECK(h.book.counters().gaps_detected == 0);
  }
}

TEST_CASE("unit_book resume_after fetches what ended while down, without grace", "[book]") {
  Harness h;
  h.book.resume_after(T(0));
  CHECK(h.book.next_expected_open_ms() == T(1));
  CHECK_FALSE(h.book.next_fetch(h.clock, 0));  // clock unknown
  // serverTime: 10 s into bar 5. Bar 4 ended 10 s ago (< grace) and is wanted all the same.
  h.clock.observe(T(5) + 10'000, h.mono(T(5) + 10'000));
  const auto req = h.fetch_at(T(5) + 10'000);
  REQUIRE(req);
  CHECK(req->reason == FetchReason::kGap);
  CHECK(req->start_open_ms == T(1));
  CHECK(req->end_open_ms == T(4));
  CHECK(req->bar_count == 4);
  CHECK(h.book.counters().gaps_detected == 1);
  h.answer_now(*req);
  CHECK(h.sink.closed_opens() == opens(1, 4));
  check_truth(h);
  full_bar(h, T(5));
  CHECK(h.sink.closed_opens() == opens(1, 5));

  SECTION("nothing ended while down: no request") {
    Harness r;
    r.book.resume_after(T(0));
    r.clock.observe(T(1) + 10'000, r.mono(T(1) + 10'000));
    CHECK_FALSE(r.fetch_at(T(1) + 10'000));
    CHECK(r.book.counters().gaps_detected == 0);
    CHECK(r.book.state() == BookState::kLive);
  }
}

TEST_CASE("unit_book reconnect: bars the new connection skips are fetched at once", "[book]") {
  Harness h;
  h.book.resume_after(T(-1));
  h.forming(T(0), T(0) + 50'000);
  h.book.on_reconnect();
  SECTION("first update after the reconnect is the next bar") {
    // Bar 0 was shown but its close fell into the disconnect: no grace, fetch now.
    h.forming(T(1), T(1) + 1'000);
    const auto req = h.fetch_at(T(1) + 1'000);
    REQUIRE(req);
    CHECK(req->reason == FetchReason::kGap);
    CHECK(req->start_open_ms == T(0));
    CHECK(req->end_open_ms == T(0));
  }
  SECTION("no data yet, the tick after the reconnect") {
    h.clock.observe(T(1) + 500, h.mono(T(1) + 500));
    const auto req = h.fetch_at(T(1) + 500);
    REQUIRE(req);
    CHECK(req->reason == FetchReason::kGap);
    CHECK(req->start_open_ms == T(0));
    CHECK(req->end_open_ms == T(0));
  }
  SECTION("reconnect mid-bar with nothing missed: the shown bar keeps its grace") {
    h.forming(T(0), T(0) + 52'000);
    h.forming(T(1), T(1) + 1'000);  // bar 0's x:true is late, not lost
    CHECK_FALSE(h.fetch_at(T(1) + 2'000));
    CHECK_FALSE(h.fetch_at(T(1) + 14'998));
    CHECK(h.book.counters().gaps_detected == 0);
    const auto req = h.fetch_at(T(1) + 14'999);
    REQUIRE(req);
    CHECK(req->reason == FetchReason::kLateClose);
  }
}

TEST_CASE("unit_book 1M bars across a year boundary", "[book]") {
  const BarGrid grid("1M");
  const std::int64_t oct29 = 1'885'507'200'000;  // 2029-10-01
  const std::int64_t nov29 = grid.next(oct29);
  const std::int64_t dec29 = grid.next(nov29);
  const std::int64_t jan30 = grid.next(dec29);
  CHECK(nov29 == 1'888'185'600'000);
  CHECK(dec29 == 1'890'777'600'000);
  CHECK(jan30 == kY2030);

  SECTION("jump from October into January fetches November and December") {
    Harness h("1M");
    h.book.resume_after(oct29);
    h.forming(jan30, jan30 + 3'600'000);
    const auto req = h.fetch_at(jan30 + 3'600'000);
    REQUIRE(req);
    CHECK(req->reason == FetchReason::kGap);
    CHECK(req->start_open_ms == nov29);
    CHECK(req->end_open_ms == dec29);
    CHECK(req->bar_count == 2);
    h.answer_now(*req);
    CHECK(h.sink.closed_opens() == std::vector<std::int64_t>{nov29, dec29});
    CHECK(h.sink.closed[1].close_time_ms == kY2030 - 1);
    check_truth(h);
    // January closes via the stream; its close time is January 31st 23:59:59.999.
    h.close(jan30);
    REQUIRE(h.sink.closed.size() == 3);
    CHECK(h.sink.closed[2].close_time_ms == 1'896'134'400'000 - 1);  // 2030-02-01 - 1 ms
    CHECK(h.sink.violations.empty());
  }
  SECTION("backfill steps back month by month") {
    BookOptions opt = test_options();
    opt.backfill_bars = 14;
    Harness h("1M", opt);
    h.book.start_fresh();
    const std::int64_t feb15 = 1'896'134'400'000 + 14 * 86'400'000LL;  // 2030-02-15
    h.clock.observe(feb15, h.mono(feb15));
    const auto req = h.fetch_at(feb15);
    REQUIRE(req);
    CHECK(req->start_open_ms == 1'859'241'600'000);  // 2028-12-01
    CHECK(req->end_open_ms == kY2030);               // 2030-01-01
    CHECK(req->bar_count == 14);
    h.answer_now(*req);
    REQUIRE(h.sink.closed.size() == 14);
    CHECK(h.sink.violations.empty());
    check_truth(h);
  }
  SECTION("late close of December on exchange time") {
    Harness h("1M");
    h.book.resume_after(nov29);
    h.forming(dec29, dec29 + 1'000);
    CHECK_FALSE(h.fetch_at(kY2030 + 14'998));
    const auto req = h.fetch_at(kY2030 + 14'999);
    REQUIRE(req);
    CHECK(req->reason == FetchReason::kLateClose);
    CHECK(req->start_open_ms == dec29);
    CHECK(req->end_open_ms == dec29);
  }
}

TEST_CASE("unit_book failed fetches back off; Retry-After is respected exactly", "[book]") {
  Harness h;  // retry 1 s .. 8 s
  h.book.resume_after(T(-1));
  h.clock.observe(T(3), h.mono(T(3)));
  auto req = h.fetch_at(T(3));
  REQUIRE(req);
  const std::int64_t m0 = h.mono(T(3)) + 200;

  // 429 with Retry-After: 30 s.
  h.book.on_fetch_failed(*req, m0, 30'000);
  CHECK(h.book.counters().fetch_failures == 1);
  CHECK(h.book.next_due_mono_ms(h.clock, m0 + 1) == m0 + 30'000);
  CHECK_FALSE(h.book.next_fetch(h.clock, m0 + 29'999));
  req = h.book.next_fetch(h.clock, m0 + 30'000);
  REQUIRE(req);
  CHECK(req->start_open_ms == T(0));

  // Plain failures: 1, 2, 4, 8, 8 s.
  std::int64_t m = m0 + 30'000;
  for (const std::int64_t wait : {1'000, 2'000, 4'000, 8'000, 8'000}) {
    h.book.on_fetch_failed(*req, m);
    CHECK_FALSE(h.book.next_fetch(h.clock, m + wait - 1));
    req = h.book.next_fetch(h.clock, m + wait);
    REQUIRE(req);
    m += wait;
  }
  // Success resets the backoff.
  h.book.on_fetch_result(
      *req, h.market.rest(req->start_open_ms, req->end_open_ms, req->issued_exchange_ms), m);
  CHECK(h.sink.closed_opens() == opens(0, 2));
  h.clock.observe(T(5), m + 200'000);
  req = h.book.next_fetch(h.clock, m + 200'000);
  REQUIRE(req);
  h.book.on_fetch_failed(*req, m + 200'000);
  CHECK_FALSE(h.book.next_fetch(h.clock, m + 200'999));
  CHECK(h.book.next_fetch(h.clock, m + 201'000));
  CHECK(h.book.counters().fetch_failures == 7);
}

TEST_CASE("unit_book results for a request not in flight are ignored", "[book]") {
  Harness h;
  h.book.resume_after(T(-1));
  h.clock.observe(T(3), h.mono(T(3)));
  const auto req = h.fetch_at(T(3));
  REQUIRE(req);
  FetchRequest other = *req;
  other.end_open_ms = T(1);
  h.book.on_fetch_result(other, h.market.rest(T(0), T(1), T(3)), h.mono(T(3)));
  h.book.on_fetch_failed(other, h.mono(T(3)));
  CHECK(h.book.counters().unexpected_results == 2);
  CHECK(h.sink.closed.empty());
  CHECK(h.book.in_flight() == req);
  h.answer_now(*req);
  CHECK(h.sink.closed_opens() == opens(0, 2));
  h.answer_now(*req);  // a second answer to the same request
  CHECK(h.book.counters().unexpected_results == 3);
}

TEST_CASE("unit_book held bars are bounded; what is dropped is fetched again", "[book]") {
  BookOptions opt = test_options();
  opt.max_fetch_bars = 4;
  opt.max_pending = 4;
  Harness h("1m", opt);
  h.book.resume_after(T(-1));
  // Bars 0 and 1 are not closed by the stream; it shows and closes bars 2..6 first.
  for (std::int64_t i = 2; i <= 6; ++i) {
    CHECK(h.forming(T(i), T(i) + 1'000) == UpdateResult::kForming);
    CHECK(h.close(T(i)) == UpdateResult::kHeld);
  }
  CHECK(h.book.held_bars() == 4);
  CHECK(h.book.counters().pending_overflow_dropped == 1);  // bar 6, the newest
  // Bar 1's close arrives late: older than what is held, so it stays and bar 5 goes.
  CHECK(h.stream(h.market.final_bar(T(1)), T(7) + 500) == UpdateResult::kHeld);
  CHECK(h.book.held_bars() == 4);
  CHECK(h.book.counters().pending_overflow_dropped == 2);
  h.forming(T(7), T(7) + 1'000);
  auto req = h.fetch_at(T(7) + 1'000);
  REQUIRE(req);
  CHECK(req->start_open_ms == T(0));
  CHECK(req->end_open_ms == T(0));  // stops before the first held bar
  h.answer_now(*req);
  CHECK(h.sink.closed_opens() == opens(0, 4));
  // The dropped bars are known final: fetched at once, not after a grace.
  req = h.fetch_at(T(7) + 1'200);
  REQUIRE(req);
  CHECK(req->reason == FetchReason::kGap);
  CHECK(req->start_open_ms == T(5));
  CHECK(req->end_open_ms == T(6));
  h.answer_now(*req);
  CHECK(h.sink.closed_opens() == opens(0, 6));
  check_truth(h);
}

TEST_CASE("unit_book mark_failed stops fetching and updating", "[book]") {
  Harness h;
  h.book.resume_after(T(-1));
  h.clock.observe(T(3), h.mono(T(3)));
  REQUIRE(h.fetch_at(T(3)));
  h.book.mark_failed("invalid symbol");
  CHECK(h.book.state() == BookState::kFailed);
  CHECK(h.book.failure_reason() == "invalid symbol");
  CHECK_FALSE(h.fetch_at(T(4)));
  CHECK(h.forming(T(3), T(3) + 1'000) == UpdateResult::kIgnored);
  CHECK(h.sink.events == 0);
}

TEST_CASE("unit_book rejects bad configuration", "[book]") {
  RecordingSink sink("1m");
  CHECK_THROWS_AS(BarBook("2m", test_options(), sink), std::invalid_argument);
  BookOptions opt = test_options();
  opt.retry_max_ms = 10;
  CHECK_THROWS_AS(BarBook("1m", opt, sink), std::invalid_argument);
  opt = test_options();
  opt.max_pending = 10;
  CHECK_THROWS_AS(BarBook("1m", opt, sink), std::invalid_argument);
}

TEST_CASE("unit_book backfill larger than a page is fetched oldest page first", "[book]") {
  BookOptions opt = test_options();
  opt.backfill_bars = 7;
  opt.max_fetch_bars = 3;
  opt.max_pending = 3;
  SECTION("listed before the window") {
    Harness h("1m", opt);
    h.book.start_fresh();
    h.clock.observe(T(10) + 1'000, h.mono(T(10) + 1'000));
    std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
    for (int i = 0; i < 5; ++i) {
      const auto req = h.fetch_at(T(10) + 1'000 + i);
      if (!req) break;
      ranges.emplace_back(req->start_open_ms, req->end_open_ms);
      h.answer_now(*req);
    }
    const std::vector<std::pair<std::int64_t, std::int64_t>> want{
        {T(3), T(5)}, {T(6), T(8)}, {T(9), T(9)}};
    CHECK(ranges == want);
    CHECK(h.sink.closed_opens() == opens(3, 9));
    CHECK(h.book.counters().gaps_detected == 0);
    check_truth(h);
  }
  SECTION("listed mid-window: empty pages move on without recording holes") {
    Harness h("1m", opt);
    h.book.start_fresh();
    for (std::int64_t i = 0; i <= 6; ++i) h.market.add_hole(T(i));
    h.clock.observe(T(10) + 1'000, h.mono(T(10) + 1'000));
    std::vector<FetchReason> reasons;
    for (int i = 0; i < 5; ++i) {
      const auto req = h.fetch_at(T(10) + 1'000 + i);
      if (!req) break;
      reasons.push_back(req->reason);
      h.answer_now(*req);
    }
    CHECK(reasons == std::vector<FetchReason>{FetchReason::kBackfill, FetchReason::kBackfill,
                                              FetchReason::kGap});
    CHECK(h.sink.closed_opens() == opens(7, 9));
    CHECK(h.sink.gaps.empty());
    CHECK(h.book.counters().fetches_without_progress == 0);
  }
}
