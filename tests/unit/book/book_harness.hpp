// A bar book wired to a recording sink, a synthetic market and an exchange clock, with the
// local monotonic clock a fixed (large) distance from exchange time. Times in the helpers are
// exchange times; the harness converts them to mono, the only time the book's callers hold.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "book_test_util.hpp"
#include "mdfeed/book/bar_book.hpp"

namespace mdfeed::test {

inline BookOptions test_options() {
  BookOptions o;
  o.close_grace_ms = 15'000;
  o.backfill_bars = 5;
  o.retry_min_ms = 1'000;
  o.retry_max_ms = 8'000;
  return o;
}

struct Harness {
  explicit Harness(const std::string& interval = "1m", BookOptions opt = test_options(),
                   std::int64_t skew_ms = kY2030 - 1'000'000)
      : sink(interval), market(interval), book(interval, opt, sink), skew(skew_ms) {}

  [[nodiscard]] std::int64_t mono(std::int64_t exchange_ms) const { return exchange_ms - skew; }

  // A stream message with event time E, delivered instantly (the clock observes E first, as
  // the daemon does).
  UpdateResult stream(const Bar& bar, std::int64_t event_ms) {
    clock.observe(event_ms, mono(event_ms));
    return book.on_stream_update(bar, event_ms);
  }
  UpdateResult forming(std::int64_t open_ms, std::int64_t event_ms) {
    return stream(market.at(open_ms, event_ms), event_ms);
  }
  // x:true, with E one ms after close_time like Binance's.
  UpdateResult close(std::int64_t open_ms) {
    return stream(market.final_bar(open_ms), market.grid().next(open_ms));
  }
  std::optional<FetchRequest> fetch_at(std::int64_t exchange_ms) {
    return book.next_fetch(clock, mono(exchange_ms));
  }
  // The server reads its klines at server_ms; the answer reaches us at arrive_ms.
  void answer(const FetchRequest& req, std::int64_t server_ms, std::int64_t arrive_ms) {
    book.on_fetch_result(req, market.rest(req.start_open_ms, req.end_open_ms, server_ms),
                         mono(arrive_ms));
  }
  void answer_now(const FetchRequest& req) {
    answer(req, req.issued_exchange_ms + 50, req.issued_exchange_ms + 100);
  }

  RecordingSink sink;
  SynthMarket market;
  ExchangeClock clock;
  BarBook book;
  std::int64_t skew;
};

// Open time of 1m bar i (bar 0 opens at 2030-01-01T00:00Z).
inline std::int64_t T(std::int64_t i) { return kY2030 + i * kMinute; }

}  // namespace mdfeed::test
