// Wake-ups that do not grow with readers (mdfeed::WakeScheduler): a ring whose inline wake-up
// found a crowd is handed to the scheduler's thread; its blocked readers still wake for the
// latest update; the crowd leaving returns it to inline wake-ups; closing a delegated ring is safe.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "mdfeed/reader.hpp"
#include "mdfeed/ring_writer.hpp"
#include "mdfeed/wake_scheduler.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;

namespace {

// Polls pred until it holds or timeout passes (bounded; the condition is what is asserted).
template <class Pred>
bool wait_for(Pred&& pred, std::chrono::milliseconds timeout, std::chrono::milliseconds step = 1ms) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(step);
  }
  return pred();
}

mdfeed::Bar forming(std::uint64_t n) {
  mdfeed::Bar b{};
  b.open_time_ms = 1'700'000'040'000;
  b.close_time_ms = b.open_time_ms + 59'999;
  b.open = b.high = b.low = b.close = 100.0;
  b.trades = n;
  return b;
}

mdfeed::RingWriter::Options options(const std::string& dir, mdfeed::WakeScheduler* w) {
  mdfeed::RingWriter::Options o;
  o.shm_dir = dir;
  o.feed = "t";
  o.symbol = "BTCUSDT";
  o.interval = "1m";
  o.capacity = 64;
  o.waker = w;
  return o;
}

// Blocked readers: each loops in wait_for_update and records the newest count it saw.
struct Crowd {
  std::vector<std::thread> threads;
  std::vector<std::atomic<std::uint32_t>> last;
  std::atomic<int> blocked{0};
  std::atomic<bool> stop{false};
  Crowd(const std::string& path, int n) : last(static_cast<std::size_t>(n)) {
    for (int i = 0; i < n; ++i)
      threads.emplace_back([this, path, i] {
        const mdfeed::Ring r = mdfeed::Ring::open_path(path);
        std::uint32_t seen = r.update_count();
        blocked.fetch_add(1);
        while (!stop.load()) {
          r.wait_for_update(seen, 2s);
          seen = r.update_count();
          last[static_cast<std::size_t>(i)].store(seen);
        }
      });
  }
  void join() {
    stop = true;
    for (auto& t : threads) t.join();
  }
};

}  // namespace

TEST_CASE("a crowded ring is woken by the scheduler, for the latest update", "[wake]") {
  mdfeed::test::TempDir dir("mdfeed-wake");
  mdfeed::WakeScheduler waker(std::chrono::microseconds(200));
  mdfeed::RingWriter w = mdfeed::RingWriter::open(options(dir.path(), &waker));
  const int kReaders = 6;  // > kInlineMaxWaiters
  Crowd crowd(w.path(), kReaders);
  REQUIRE(wait_for([&] { return crowd.blocked.load() == kReaders; }, 10s));
  // Readers need a moment to enter FUTEX_WAIT after announcing themselves; keep publishing
  // until an inline wake-up finds the crowd and the ring is delegated.
  std::uint64_t n = 0;
  REQUIRE(wait_for([&] {
    w.publish_forming(forming(++n));
    w.notify();
    return waker.delegated_rings() == 1;
  }, 10s, 5ms));
  const std::uint64_t wakes0 = waker.wakes();
  // Now the writer only marks; every reader still gets the newest count.
  for (int i = 0; i < 50; ++i) {
    w.publish_forming(forming(++n));
    w.notify();
    std::this_thread::sleep_for(1ms);
  }
  const mdfeed::Ring probe = mdfeed::Ring::open_path(w.path());
  const std::uint32_t final_count = probe.update_count();
  for (int i = 0; i < kReaders; ++i) {
    INFO("reader " << i);
    CHECK(wait_for([&] { return crowd.last[static_cast<std::size_t>(i)].load() == final_count; }, 5s));
  }
  CHECK(waker.wakes() > wakes0);  // the scheduler did the waking
  crowd.join();
  w.close();  // delegated at close: forgotten first, then the final inline wake
  CHECK(waker.delegated_rings() == 0);
}

TEST_CASE("without a crowd the wake-up stays inline; a crowd leaving returns the ring", "[wake]") {
  mdfeed::test::TempDir dir("mdfeed-wake");
  mdfeed::WakeScheduler waker(std::chrono::microseconds(50));
  mdfeed::RingWriter w = mdfeed::RingWriter::open(options(dir.path(), &waker));
  {
    Crowd one(w.path(), 1);
    REQUIRE(wait_for([&] { return one.blocked.load() == 1; }, 10s));
    for (std::uint64_t n = 1; n <= 20; ++n) {
      w.publish_forming(forming(n));
      w.notify();
      std::this_thread::sleep_for(1ms);
    }
    CHECK(waker.delegated_rings() == 0);  // one reader: inline, no extra hop
    one.join();
  }
  {
    Crowd many(w.path(), 5);
    REQUIRE(wait_for([&] { return many.blocked.load() == 5; }, 10s));
    std::uint64_t n = 100;
    REQUIRE(wait_for([&] {
      w.publish_forming(forming(++n));
      w.notify();
      return waker.delegated_rings() == 1;
    }, 10s, 5ms));
    many.join();
  }
  // Nobody blocked any more: after kQuietRoundsToInline quiet rounds the ring goes back.
  std::uint64_t n = 1000;
  CHECK(wait_for([&] {
    w.publish_forming(forming(++n));
    w.notify();
    return waker.delegated_rings() == 0;
  }, 20s, 1ms));
  // A new crowd delegates it again, and its readers get the latest update.
  Crowd again(w.path(), 4);
  REQUIRE(wait_for([&] { return again.blocked.load() == 4; }, 10s));
  REQUIRE(wait_for([&] {
    w.publish_forming(forming(++n));
    w.notify();
    return waker.delegated_rings() == 1;
  }, 10s, 5ms));
  w.publish_forming(forming(++n));
  w.notify();
  const std::uint32_t final_count = mdfeed::Ring::open_path(w.path()).update_count();
  for (std::size_t i = 0; i < 4; ++i)
    CHECK(wait_for([&] { return again.last[i].load() == final_count; }, 5s));
  again.join();
}
