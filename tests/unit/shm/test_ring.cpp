// Ring writer + reader unit tests: layout, wrap-around, lapping, forming->closed, refusal of
// incompatible files, restart reuse/repair/replace, and the futex wait.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "mdfeed/reader.hpp"
#include "mdfeed/ring_writer.hpp"
#include "test_util.hpp"

using namespace mdfeed;
using mdfeed::test::synth_bar;
using mdfeed::test::TempDir;

namespace {

RingWriter::Options opts(const TempDir& d, std::uint32_t cap = 16) {
  RingWriter::Options o;
  o.shm_dir = d.path();
  o.feed = "binance";
  o.symbol = "BTCUSDT";
  o.interval = "1m";
  o.capacity = cap;
  return o;
}

bool same_bar(const Bar& a, const Bar& b) {
  return std::memcmp(&a, &b, sizeof(Bar)) == 0;
}

// Patches a header field of a ring file in place (to simulate a foreign or corrupt writer).
template <typename T>
void poke(const std::string& path, std::size_t off, T value) {
  const int fd = ::open(path.c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  REQUIRE(::pwrite(fd, &value, sizeof value, static_cast<off_t>(off)) == static_cast<ssize_t>(sizeof value));
  ::close(fd);
}

}  // namespace

TEST_CASE("file layout: path, size, permissions and header fields") {
  TempDir d;
  auto w = RingWriter::open(opts(d, 64));
  CHECK(w.open_mode() == RingWriter::OpenMode::kCreated);
  CHECK(w.path() == d.path() + "/binance/BTCUSDT.1m.ring");
  struct stat st{};
  REQUIRE(::stat(w.path().c_str(), &st) == 0);
  CHECK(static_cast<std::size_t>(st.st_size) == ring_file_size(64));
  CHECK((st.st_mode & 0777) == 0640);
  REQUIRE(::stat((d.path() + "/binance").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 02750);
  // fallocate reserved the blocks: the file is not sparse.
  REQUIRE(::stat(w.path().c_str(), &st) == 0);
  CHECK(static_cast<std::size_t>(st.st_blocks) * 512 >= ring_file_size(64));

  auto r = Ring::open("binance", "BTCUSDT", "1m", d.path());
  CHECK(r.capacity() == 64);
  CHECK(r.interval_ms() == 60'000);
  CHECK(r.feed() == "binance");
  CHECK(r.symbol() == "BTCUSDT");
  CHECK(r.interval() == "1m");
  CHECK(r.closed_count() == 0);
  CHECK(r.latest(20).empty());
  CHECK_FALSE(r.forming().has_value());
  CHECK(r.writer_alive());
  CHECK(r.writer_instance() == w.instance_id());
  CHECK(r.writer_pid() == static_cast<std::uint32_t>(getpid()));
  CHECK(r.header().version == kVersion);
  CHECK(r.header().layout_hash == kLayoutHash);
}

TEST_CASE("latest() is oldest-first, zero-copy, and wraps around the ring") {
  TempDir d;
  auto w = RingWriter::open(opts(d, 16));
  auto r = Ring::open("binance", "BTCUSDT", "1m", d.path());
  for (std::uint64_t i = 0; i < 40; ++i) w.append_closed(synth_bar(i));
  CHECK(r.closed_count() == 40);

  auto v = r.latest(5);
  REQUIRE(v.size() == 5);
  CHECK(v.first_index() == 35);
  std::uint64_t i = 35;
  for (const Bar& b : v) {
    CHECK(same_bar(b, synth_bar(i)));
    CHECK(b.closed());
    ++i;
  }
  // The view points into the mapping itself.
  const auto* base = reinterpret_cast<const char*>(&r.header());
  const auto* first = reinterpret_cast<const char*>(&v.front());
  CHECK(first > base);
  CHECK(first < base + ring_file_size(16));
  CHECK(v.valid());

  // At most capacity - 1 bars: the slot the writer fills next is never part of a view.
  CHECK(r.latest(100).size() == 15);
  CHECK(r.latest(100).front().open_time_ms == synth_bar(25).open_time_ms);
  auto copy = r.copy_latest(100);
  REQUIRE(copy.size() == 15);
  for (std::size_t k = 0; k < copy.size(); ++k) CHECK(same_bar(copy[k], synth_bar(25 + k)));
}

TEST_CASE("a view is invalidated once the writer laps it") {
  TempDir d;
  auto w = RingWriter::open(opts(d, 16));
  auto r = Ring::open("binance", "BTCUSDT", "1m", d.path());
  for (std::uint64_t i = 0; i < 20; ++i) w.append_closed(synth_bar(i));
  auto v = r.latest(10);  // indices 10..19
  REQUIRE(v.first_index() == 10);
  // The writer may move capacity - n - 1 = 5 more bars and the view stays valid...
  for (std::uint64_t i = 20; i < 25; ++i) {
    w.append_closed(synth_bar(i));
    CHECK(v.valid());
  }
  // ...after the 6th, the next write (index 26) may already be overwriting index 10's slot.
  w.append_closed(synth_bar(25));
  CHECK_FALSE(v.valid());
  CHECK(same_bar(v.front(), synth_bar(10)));
  w.append_closed(synth_bar(26));
  CHECK_FALSE(v.valid());
  CHECK(v.front().open_time_ms == synth_bar(26).open_time_ms);
  // copy_range refuses lapped indices instead of returning the newer bar.
  Bar out{};
  CHECK_FALSE(r.copy_range(10, 1, &out));
  CHECK(r.copy_range(26, 1, &out));
  CHECK(same_bar(out, synth_bar(26)));
}

TEST_CASE("forming bar transitions to closed") {
  TempDir d;
  auto w = RingWriter::open(opts(d, 16));
  auto r = Ring::open("binance", "BTCUSDT", "1m", d.path());
  const auto u0 = r.update_count();
  w.publish_forming(synth_bar(0, 1, false));
  CHECK(r.update_count() != u0);
  auto f = r.forming();
  REQUIRE(f.has_value());
  CHECK(same_bar(*f, synth_bar(0, 1, false)));
  CHECK_FALSE(f->closed());
  w.publish_forming(synth_bar(0, 2, false));
  CHECK(r.forming()->high == synth_bar(0, 2).high);

  // Closing the bar hides the forming copy at once, even before a successor is published.
  w.append_closed(synth_bar(0, 3));
  CHECK(r.closed_count() == 1);
  CHECK_FALSE(r.forming().has_value());
  CHECK(r.latest(1).back().closed());
  CHECK(same_bar(r.latest(1).back(), synth_bar(0, 3)));

  w.publish_forming(synth_bar(1, 0, false));
  REQUIRE(r.forming().has_value());
  CHECK(r.forming()->open_time_ms == synth_bar(1).open_time_ms);
  // A closed flag passed to publish_forming is not honoured: forming is never closed.
  w.publish_forming(synth_bar(1, 1, true));
  CHECK_FALSE(r.forming()->closed());
  w.clear_forming();
  CHECK_FALSE(r.forming().has_value());
}

TEST_CASE("missing ring is NotFound with the path in the message") {
  TempDir d;
  try {
    (void)Ring::open("binance", "NOPEUSDT", "1m", d.path());
    FAIL("expected NotFound");
  } catch (const NotFound& e) {
    CHECK_THAT(e.what(), Catch::Contains(d.path() + "/binance/NOPEUSDT.1m.ring"));
  }
  CHECK_THROWS_AS(Ring::open("binance", "btc/../x", "1m", d.path()), Error);
  CHECK_THROWS_WITH(Ring::open("binance", "BTCUSDT", "7m", d.path()), Catch::Contains("valid: 1s 1m"));
}

TEST_CASE("incompatible major version, layout hash, magic or truncation are refused") {
  TempDir d;
  std::string path;
  {
    auto w = RingWriter::open(opts(d, 16));
    path = w.path();
  }
  SECTION("major version") {
    poke<std::uint32_t>(path, offsetof(RingHeader, version), (2U << 16) | 7U);
    CHECK_THROWS_WITH(Ring::open_path(path),
                      Catch::Contains("layout version 2.7") && Catch::Contains("reader's version 1.0") &&
                          Catch::Contains(path));
  }
  SECTION("minor version is compatible") {
    poke<std::uint32_t>(path, offsetof(RingHeader, version), (1U << 16) | 9U);
    CHECK_NOTHROW(Ring::open_path(path));
  }
  SECTION("layout hash") {
    poke<std::uint64_t>(path, offsetof(RingHeader, layout_hash), 12345);
    CHECK_THROWS_AS(Ring::open_path(path), IncompatibleLayout);
    CHECK_THROWS_WITH(Ring::open_path(path), Catch::Contains("layout hash mismatch"));
  }
  SECTION("magic") {
    poke<std::uint64_t>(path, 0, 0x1122334455667788ULL);
    CHECK_THROWS_WITH(Ring::open_path(path), Catch::Contains("bad magic"));
  }
  SECTION("capacity larger than the file") {
    poke<std::uint32_t>(path, offsetof(RingHeader, capacity), 1024);
    CHECK_THROWS_WITH(Ring::open_path(path), Catch::Contains("truncated"));
  }
  SECTION("not yet initialised") {
    poke<std::uint32_t>(path, offsetof(RingHeader, version), 0);
    CHECK_THROWS_WITH(Ring::open_path(path), Catch::Contains("not initialised"));
  }
  SECTION("short file") {
    REQUIRE(::truncate(path.c_str(), 100) == 0);
    CHECK_THROWS_AS(Ring::open_path(path), IncompatibleLayout);
  }
}

TEST_CASE("writer restart reuses a compatible ring and repairs a slot left odd") {
  TempDir d;
  std::string path;
  std::uint64_t first_instance = 0;
  {
    auto w = RingWriter::open(opts(d, 16));
    for (std::uint64_t i = 0; i < 10; ++i) w.append_closed(synth_bar(i));
    w.publish_forming(synth_bar(10, 4, false));
    first_instance = w.instance_id();
    path = w.path();
  }
  // Mark slot 10 and the forming slot odd on disk, as a SIGKILL mid-write would leave them.
  poke<std::uint64_t>(path, kHeaderSize + 10 * kSlotSize, 1);
  poke<std::uint64_t>(path, offsetof(RingHeader, forming), 3);

  auto r = Ring::open_path(path);
  CHECK(r.writer_state() == WriterState::kStopped);
  CHECK_FALSE(r.writer_alive());

  auto w2 = RingWriter::open(opts(d, 16));
  CHECK(w2.open_mode() == RingWriter::OpenMode::kReused);
  CHECK(w2.repaired_slots() == 2);
  CHECK(w2.closed_count() == 10);
  REQUIRE(w2.last_closed().has_value());
  CHECK(same_bar(*w2.last_closed(), synth_bar(9)));
  CHECK(w2.instance_id() != first_instance);
  // The reader that was open all along sees the new instance without reopening.
  CHECK_FALSE(r.replaced());
  CHECK(r.writer_instance() == w2.instance_id());
  CHECK(r.writer_alive());
  CHECK_FALSE(r.forming().has_value());
  w2.append_closed(synth_bar(10));
  auto c = r.copy_latest(11);
  REQUIRE(c.size() == 11);
  for (std::size_t i = 0; i < c.size(); ++i) CHECK(same_bar(c[i], synth_bar(i)));
}

TEST_CASE("a capacity change replaces the file by rename, carrying history; old readers keep theirs") {
  TempDir d;
  {
    auto w = RingWriter::open(opts(d, 16));
    for (std::uint64_t i = 0; i < 30; ++i) w.append_closed(synth_bar(i));
  }
  auto old_reader = Ring::open("binance", "BTCUSDT", "1m", d.path());
  auto w = RingWriter::open(opts(d, 64));
  CHECK(w.open_mode() == RingWriter::OpenMode::kReplaced);
  CHECK(w.closed_count() == 15);  // the 15 readable bars of the old ring
  CHECK(same_bar(*w.last_closed(), synth_bar(29)));
  // The old mapping still works (the inode lives on) and reports that it was replaced.
  CHECK(old_reader.replaced());
  CHECK(same_bar(old_reader.latest(1).back(), synth_bar(29)));
  CHECK(old_reader.reopen_if_replaced());
  CHECK(old_reader.capacity() == 64);
  CHECK_FALSE(old_reader.replaced());
  CHECK(same_bar(old_reader.latest(15).front(), synth_bar(15)));
}

TEST_CASE("missing shm directory is a clear error, nothing is created") {
  TempDir d;
  auto o = opts(d);
  o.shm_dir = d.path() + "/does-not-exist";
  CHECK_THROWS_WITH(RingWriter::open(o), Catch::Contains("does-not-exist") && Catch::Contains("No such file"));
  struct stat st{};
  CHECK(::stat(o.shm_dir.c_str(), &st) != 0);
  o.shm_dir = d.path();
  o.capacity = 100;
  CHECK_THROWS_WITH(RingWriter::open(o), Catch::Contains("power of two"));
}

TEST_CASE("wait_for_update wakes on publish and times out otherwise") {
  TempDir d;
  auto w = RingWriter::open(opts(d, 16));
  auto r = Ring::open("binance", "BTCUSDT", "1m", d.path());

  const auto u = r.update_count();
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(r.wait_for_update(u, std::chrono::milliseconds(50)));
  CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(50));

  // A waiter blocked on the futex is woken by notify(); the 10 s timeout is only a backstop
  // so a broken wake fails the test instead of hanging it.
  std::atomic<int> woke{-1};
  std::thread t([&] { woke = r.wait_for_update(u, std::chrono::seconds(10)) ? 1 : 0; });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  w.publish_forming(synth_bar(0, 0, false));
  w.notify();
  t.join();
  CHECK(woke == 1);
  CHECK(r.update_count() != u);
}

TEST_CASE("retired and stopped states are visible to readers") {
  TempDir d;
  auto w = RingWriter::open(opts(d, 16));
  auto r = Ring::open("binance", "BTCUSDT", "1m", d.path());
  CHECK(r.writer_state() == WriterState::kLive);
  w.set_state(WriterState::kRetired);
  CHECK(r.writer_state() == WriterState::kRetired);
  CHECK_FALSE(r.writer_alive());
  w.close();
  CHECK(r.writer_state() == WriterState::kStopped);
}
