// Interval arithmetic and the exchange clock, against names.hpp and hand-checked dates.
#include <catch2/catch.hpp>
#include <cstdint>

#include "book_test_util.hpp"
#include "mdfeed/book/bar_grid.hpp"
#include "mdfeed/book/exchange_clock.hpp"
#include "mdfeed/names.hpp"

using namespace mdfeed;
using namespace mdfeed::test;

TEST_CASE("unit_book grid: 1M agrees with names.hpp next_open_ms for 1970..2100", "[grid]") {
  const BarGrid grid("1M");
  std::int64_t open = 0;
  for (int month = 0; month < 131 * 12; ++month) {
    const std::int64_t next = grid.next(open);
    REQUIRE(next == next_open_ms("1M", open));
    CHECK(grid.prev(next) == open);
    CHECK(grid.open_containing(next - 1) == open);
    CHECK(grid.open_containing(open) == open);
    open = next;
  }
  CHECK(grid.advance(kY2030, -14) == 1'856'649'600'000);                    // 2028-11-01
  CHECK(grid.advance(kY2030, -13) == 1'859'241'600'000);                    // 2028-12-01
  CHECK(grid.advance(kY2030, 2) == 1'896'134'400'000 + 28 * 86'400'000LL);  // 2030-03-01
  CHECK(grid.close_time(1'896'134'400'000) == 1'896'134'400'000 + 28 * 86'400'000LL - 1);
  CHECK(grid.next(-86'400'000) == 0);  // 1969-12-31 is in December 1969
}

TEST_CASE("unit_book grid: fixed intervals and alignment", "[grid]") {
  const BarGrid m1("1m");
  CHECK(m1.next(kY2030) == kY2030 + 60'000);
  CHECK(m1.close_time(kY2030) == kY2030 + 59'999);
  CHECK(m1.open_containing(kY2030 + 59'999) == kY2030);
  CHECK(m1.advance(kY2030, -1000) == kY2030 - 60'000'000);
  CHECK(m1.first_unended(kY2030, kY2030 + 59'999) == kY2030);
  CHECK(m1.first_unended(kY2030, kY2030 + 60'000) == kY2030 + 60'000);
  CHECK(m1.first_unended(kY2030, kY2030 + 10 * 60'000 + 5) == kY2030 + 10 * 60'000);
  CHECK(m1.first_unended(kY2030, kY2030 - 5) == kY2030);
  // 1w bars open on Monday 00:00 UTC; 2030-01-01 is a Tuesday, the week opened 2029-12-31.
  const BarGrid w1("1w");
  CHECK(w1.open_containing(kY2030) == kY2030 - 86'400'000);
  CHECK(w1.open_containing(kY1990) == kY1990);  // 1990-01-01 was a Monday
  CHECK(w1.open_containing(kY1990 - 1) == kY1990 - 7 * 86'400'000LL);
}

TEST_CASE("unit_book grid: first_unended for 1M", "[grid]") {
  const BarGrid grid("1M");
  const std::int64_t nov29 = 1'888'185'600'000;
  CHECK(grid.first_unended(nov29, kY2030 + 5) == kY2030);
  CHECK(grid.first_unended(nov29, nov29 + 5) == nov29);
  CHECK(grid.first_unended(kY2030, nov29) == kY2030);
}

TEST_CASE("unit_book exchange clock never goes backwards", "[clock]") {
  ExchangeClock c;
  CHECK_FALSE(c.known());
  CHECK_FALSE(c.now(123));
  c.observe(kY2030, 10);
  CHECK(c.now(10) == kY2030);
  CHECK(c.now(1'010) == kY2030 + 1'000);
  // A delayed message (older E arriving later) does not pull the clock back.
  c.observe(kY2030 + 200, 1'000);
  CHECK(c.now(1'000) == kY2030 + 990);
  // A fresher one moves it forward.
  c.observe(kY2030 + 2'000, 1'500);
  CHECK(c.now(1'500) == kY2030 + 2'000);
  std::int64_t last = *c.now(1'500);
  for (std::int64_t m = 1'500; m < 5'000; m += 37) {
    if (m % 3 == 0) c.observe(kY2030 + m - 400, m);  // stale observations
    const std::int64_t n = *c.now(m);
    CHECK(n >= last);
    last = n;
  }
}
