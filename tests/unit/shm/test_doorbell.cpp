// The shm directory's doorbell and mdfeed::Watcher: one wait over many rings, woken once per
// "service pass" (ring updates, then one bell), and the file's create/reuse/replace rules.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "mdfeed/doorbell_writer.hpp"
#include "mdfeed/reader.hpp"
#include "mdfeed/ring_writer.hpp"
#include "mdfeed/watcher.hpp"
#include "test_util.hpp"

using namespace mdfeed;
using namespace std::chrono_literals;
using mdfeed::test::synth_bar;
using mdfeed::test::TempDir;
using Clock = std::chrono::steady_clock;

namespace {

std::string symbol_of(std::size_t k) {
  std::string n = std::to_string(k);
  return "SYM" + std::string(n.size() < 3 ? 3 - n.size() : 0, '0') + n;
}

// n rings written by RingWriter (the daemon's side) and the same rings opened by readers.
struct Rings {
  Rings(const TempDir& d, std::size_t n) {
    for (std::size_t k = 0; k < n; ++k) {
      RingWriter::Options o;
      o.shm_dir = d.path();
      o.feed = "binance";
      o.symbol = symbol_of(k);
      o.interval = "1m";
      o.capacity = 16;
      writers.push_back(std::make_unique<RingWriter>(RingWriter::open(o)));
      readers.push_back(Ring::open("binance", o.symbol, "1m", d.path()));
    }
  }
  // One service pass: publish to each ring named, then ring the bell once.
  void pass(const std::vector<std::size_t>& ks, DoorbellWriter& bell) {
    for (std::size_t k : ks) {
      writers[k]->publish_forming(synth_bar(writers[k]->closed_count(), 1 + rev++ % 998, false));
      writers[k]->notify();
    }
    bell.ring();
  }
  std::vector<std::unique_ptr<RingWriter>> writers;
  std::vector<Ring> readers;
  std::uint64_t rev = 1;
};

// Only the bell can end a wait early: the safety re-check is pushed past every timeout.
Watcher::Options bell_only() {
  Watcher::Options o;
  o.recheck_interval = std::chrono::hours(1);
  return o;
}

// Runs watcher.wait(timeout) in a thread that is blocked before `act` runs; returns what the
// wait returned and how long after `act` it woke.
struct Woken {
  std::vector<std::size_t> changed;
  Clock::duration after_act;
};
template <typename Act>
Woken wait_across(Watcher& w, std::chrono::nanoseconds timeout, Act act) {
  std::vector<std::size_t> got;
  std::atomic<bool> done{false};
  Clock::time_point woke{};
  std::thread t([&] {
    got = w.wait(timeout);
    woke = Clock::now();
    done = true;
  });
  std::this_thread::sleep_for(50ms);  // let it block
  CHECK_FALSE(done.load());
  const auto acted = Clock::now();
  act();
  t.join();
  return {got, woke - acted};
}

}  // namespace

TEST_CASE("doorbell file: one page, 0640, created then reused in place with its count") {
  TempDir d;
  auto b = DoorbellWriter::open(d.path());
  CHECK(b.open_mode() == DoorbellWriter::OpenMode::kCreated);
  CHECK(b.path() == d.path() + "/mdfeed.doorbell");
  struct stat st{};
  REQUIRE(::stat(b.path().c_str(), &st) == 0);
  CHECK(static_cast<std::size_t>(st.st_size) == kDoorbellFileSize);
  CHECK((st.st_mode & 0777) == 0640);
  CHECK(b.value() == 0);
  b.ring();
  b.ring();
  CHECK(b.value() == 2);
  const ino_t ino = st.st_ino;

  auto again = DoorbellWriter::open(d.path());  // a restarted daemon
  CHECK(again.open_mode() == DoorbellWriter::OpenMode::kReused);
  CHECK(again.value() == 2);  // never reset: waiters of the old daemon wait on the live word
  REQUIRE(::stat(b.path().c_str(), &st) == 0);
  CHECK(st.st_ino == ino);

  SECTION("a foreign or short file is replaced, never truncated") {
    const std::string p = b.path();
    b = DoorbellWriter();
    again = DoorbellWriter();
    REQUIRE(::unlink(p.c_str()) == 0);
    const int fd = ::open(p.c_str(), O_CREAT | O_WRONLY, 0640);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, "junk", 4) == 4);
    ::close(fd);
    auto fresh = DoorbellWriter::open(d.path());
    CHECK(fresh.open_mode() == DoorbellWriter::OpenMode::kReplaced);
    REQUIRE(::stat(p.c_str(), &st) == 0);
    CHECK(static_cast<std::size_t>(st.st_size) == kDoorbellFileSize);
  }
}

TEST_CASE("doorbell: a missing shm dir is an error naming it") {
  CHECK_THROWS_WITH(DoorbellWriter::open("/nonexistent/mdfeed-doorbell-test"),
                    Catch::Contains("/nonexistent/mdfeed-doorbell-test"));
}

TEST_CASE("Watcher: a change to any one of 100 rings wakes the waiter and names that ring") {
  TempDir d;
  Rings rings(d, 100);
  auto bell = DoorbellWriter::open(d.path());
  Watcher w(rings.readers, bell_only());
  REQUIRE(w.size() == 100);
  REQUIRE(w.has_doorbell());
  CHECK(w.shm_dir() == d.path());
  CHECK(w.wait(0ns).empty());  // nothing moved since they were added

  std::mt19937 rng(11);
  std::vector<std::size_t> picks{0, 99};
  for (int i = 0; i < 10; ++i) picks.push_back(std::uniform_int_distribution<std::size_t>(0, 99)(rng));
  for (std::size_t k : picks) {
    INFO("ring " << k);
    const Woken r = wait_across(w, 20s, [&] { rings.pass({k}, bell); });
    REQUIRE(r.changed == std::vector<std::size_t>{k});
    CHECK(&w.ring(k) == &rings.readers[k]);
    CHECK(r.after_act < 5s);  // the bell, not the 20 s timeout nor the (1 h) re-check
  }
}

TEST_CASE("Watcher: every ring of one pass is returned, ascending, once") {
  TempDir d;
  Rings rings(d, 100);
  auto bell = DoorbellWriter::open(d.path());
  Watcher w(rings.readers, bell_only());
  rings.pass({42, 7, 99}, bell);
  CHECK(w.wait(5s) == std::vector<std::size_t>{7, 42, 99});
  CHECK(w.wait(10ms).empty());

  std::vector<std::size_t> out;  // the allocation-free form
  rings.pass({3}, bell);
  CHECK(w.wait(5s, out) == 1);
  CHECK(out == std::vector<std::size_t>{3});
}

TEST_CASE("Watcher: no change times out empty; a bell with no change keeps it waiting") {
  TempDir d;
  Rings rings(d, 100);
  auto bell = DoorbellWriter::open(d.path());
  Watcher w(rings.readers, bell_only());
  const auto t0 = Clock::now();
  CHECK(w.wait(200ms).empty());
  CHECK(Clock::now() - t0 >= 200ms);

  const auto started = Clock::now();
  const Woken r = wait_across(w, 500ms, [&] { bell.ring(); });  // another watcher's ring moved
  CHECK(r.changed.empty());
  CHECK(Clock::now() - started >= 500ms);
}

TEST_CASE("Watcher: a subset ignores the other rings of the directory") {
  TempDir d;
  Rings rings(d, 20);
  auto bell = DoorbellWriter::open(d.path());
  Watcher w(bell_only());
  for (std::size_t k = 10; k < 20; ++k) CHECK(w.add(rings.readers[k]) == k - 10);
  rings.pass({5}, bell);
  CHECK(w.wait(100ms).empty());
  rings.pass({15}, bell);
  CHECK(w.wait(5s) == std::vector<std::size_t>{5});  // index in the watcher: the 6th added
}

TEST_CASE("Watcher: without a doorbell it polls, and adopts one that appears") {
  TempDir d;
  Rings rings(d, 10);
  Watcher::Options o;
  o.recheck_interval = 100ms;
  Watcher w(rings.readers, o);
  CHECK_FALSE(w.has_doorbell());
  DoorbellWriter none;  // not open: ring() does nothing, as with a daemon from before the bell
  const Woken r = wait_across(w, 20s, [&] { rings.pass({3}, none); });
  CHECK(r.changed == std::vector<std::size_t>{3});
  CHECK(r.after_act < 5s);

  auto bell = DoorbellWriter::open(d.path());  // the daemon starts
  CHECK(w.wait(300ms).empty());                // the re-check inside maps it
  CHECK(w.has_doorbell());
  rings.pass({8}, bell);
  CHECK(w.wait(5s) == std::vector<std::size_t>{8});
}

TEST_CASE("Watcher: one shm directory per watcher") {
  TempDir a, b;
  Rings ra(a, 1), rb(b, 1);
  Watcher w;
  w.add(ra.readers[0]);
  CHECK_THROWS_AS(w.add(rb.readers[0]), Error);
  CHECK(Watcher::shm_dir_of("/dev/shm/mdfeed/binance/BTCUSDT.1m.ring") == "/dev/shm/mdfeed");
  CHECK(Watcher::shm_dir_of("/binance/X.1m.ring") == "/");
}
