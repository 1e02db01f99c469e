// Status segment: file shape, round trip of every field, refusal of missing/corrupt files,
// growth by replacement, a writer that died mid-publish, reuse in place on restart, rewriting
// only the changed records, and torture tests of the seqlock.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "mdfeed/error.hpp"
#include "status/status.hpp"
#include "test_util.hpp"

using namespace mdfeed;
using namespace mdfeed::status;
using mdfeed::test::TempDir;

namespace {

template <typename T>
void poke(const std::string& path, std::size_t off, T value) {
  const int fd = ::open(path.c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  REQUIRE(::pwrite(fd, &value, sizeof value, static_cast<off_t>(off)) ==
          static_cast<ssize_t>(sizeof value));
  ::close(fd);
}

StreamInfo make_stream(std::uint32_t i) {
  StreamInfo s;
  s.feed = "binance";
  s.symbol = "SYM" + std::to_string(i);
  s.interval = "1m";
  s.state = StreamState::kGapFilling;
  s.conn_id = 7;
  s.last_update_ns = 1000 + i;
  s.closed_bars = 10 + i;
  s.gaps_filled = 20 + i;
  s.late_closes = 30 + i;
  s.dropped = 40 + i;
  s.bad_messages = 50 + i;
  s.explicit_gaps = 60 + i;
  s.last_bar_open_ms = 1'700'000'000'000 + i;
  s.failure = "REST 429";
  return s;
}

ConnectionInfo make_conn(std::uint32_t id) {
  ConnectionInfo c;
  c.feed = "binance";
  c.id = id;
  c.state = ConnState::kBackoff;
  c.streams = 3;
  c.connected_since_ms = 111;
  c.last_error_ms = 222;
  c.reconnects = 4;
  c.messages = 5;
  c.last_error = "TLS: certificate verify failed";
  return c;
}

double test_scale() {
  const char* s = std::getenv("MDFEED_TEST_SCALE");
  return s != nullptr ? std::atof(s) : 1.0;
}

}  // namespace

TEST_CASE("file: name, mode 0640, fully allocated, no temporary left behind") {
  TempDir d;
  auto w = StatusWriter::open(d.path(), 2, 10);
  CHECK(w.path() == d.path() + "/mdfeed.status");
  struct stat st{};
  REQUIRE(::stat(w.path().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  CHECK(static_cast<std::size_t>(st.st_size) == status_file_size(2, 10));
  CHECK(static_cast<std::size_t>(st.st_blocks) * 512 >= status_file_size(2, 10));  // not sparse
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(d.path())) ++files;
  CHECK(files == 1);
}

TEST_CASE("round trip: every published field reads back") {
  TempDir d;
  auto w = StatusWriter::open(d.path(), 4, 4);
  Snapshot& s = w.edit();
  s.daemon.config_path = "/etc/mdfeed/mdfeed.yaml";
  s.daemon.summary = "2 streams live";
  s.connections = {make_conn(0), make_conn(1)};
  s.streams = {make_stream(0), make_stream(1), make_stream(2)};
  REQUIRE(w.publish());

  auto r = StatusReader::open(d.path());
  const auto got = r.read();
  REQUIRE(got);
  CHECK(got->daemon.pid == static_cast<std::uint32_t>(::getpid()));
  CHECK(got->daemon.instance_id == s.daemon.instance_id);
  CHECK(got->daemon.instance_id != 0);
  CHECK(got->daemon.version == s.daemon.version);
  CHECK(!got->daemon.version.empty());
  CHECK(got->daemon.config_path == "/etc/mdfeed/mdfeed.yaml");
  CHECK(got->daemon.summary == "2 streams live");
  CHECK(got->daemon.start_ms == s.daemon.start_ms);
  CHECK(got->daemon.start_mono_ns == s.daemon.start_mono_ns);
  CHECK(got->daemon.published_ms >= s.daemon.start_ms);
  CHECK(got->daemon.heartbeat_ns >= s.daemon.start_mono_ns);
  CHECK(got->daemon.segment_state == SegmentState::kLive);
  REQUIRE(got->connections.size() == 2);
  const ConnectionInfo& c = got->connections[1];
  CHECK(c.feed == "binance");
  CHECK(c.id == 1);
  CHECK(c.state == ConnState::kBackoff);
  CHECK(c.streams == 3);
  CHECK(c.connected_since_ms == 111);
  CHECK(c.last_error_ms == 222);
  CHECK(c.reconnects == 4);
  CHECK(c.messages == 5);
  CHECK(c.last_error == "TLS: certificate verify failed");
  REQUIRE(got->streams.size() == 3);
  const StreamInfo& st = got->streams[2];
  const StreamInfo want = make_stream(2);
  CHECK(st.feed == want.feed);
  CHECK(st.symbol == want.symbol);
  CHECK(st.interval == want.interval);
  CHECK(st.state == want.state);
  CHECK(st.conn_id == want.conn_id);
  CHECK(st.last_update_ns == want.last_update_ns);
  CHECK(st.closed_bars == want.closed_bars);
  CHECK(st.gaps_filled == want.gaps_filled);
  CHECK(st.late_closes == want.late_closes);
  CHECK(st.dropped == want.dropped);
  CHECK(st.bad_messages == want.bad_messages);
  CHECK(st.explicit_gaps == want.explicit_gaps);
  CHECK(st.last_bar_open_ms == want.last_bar_open_ms);
  CHECK(st.failure == want.failure);
  CHECK(r.writer_pid() == static_cast<std::uint32_t>(::getpid()));
  CHECK(r.heartbeat_age() < std::chrono::seconds(5));
}

TEST_CASE("texts are truncated at a UTF-8 boundary and kept on one line") {
  TempDir d;
  auto w = StatusWriter::open(d.path(), 1, 1);
  ConnectionInfo c = make_conn(0);
  // 126 ASCII bytes then a 3-byte character: it cannot fit in the 127 usable bytes.
  c.last_error = std::string(126, 'x') + "\xE2\x82\xAC";
  w.edit().connections = {c};
  w.edit().daemon.summary = "line one\nline two\tend";
  REQUIRE(w.publish());
  const auto got = StatusReader::open(d.path()).read();
  REQUIRE(got);
  CHECK(got->connections[0].last_error == std::string(126, 'x'));
  CHECK(got->daemon.summary == "line one line two end");
}

TEST_CASE("missing segment or directory is NotFound") {
  TempDir d;
  CHECK_THROWS_AS(StatusReader::open(d.path()), NotFound);
  CHECK_THROWS_AS(StatusReader::open(d.path() + "/nope"), NotFound);
  CHECK_THROWS_WITH(StatusReader::open(d.path()), Catch::Contains("mdfeed.status"));
}

TEST_CASE("corrupt or foreign files are refused with the reason") {
  TempDir d;
  std::string path;
  {
    auto w = StatusWriter::open(d.path(), 2, 4);
    path = w.path();
  }
  auto refused = [&](const char* why) {
    CHECK_THROWS_AS(StatusReader::open(d.path()), IncompatibleLayout);
    CHECK_THROWS_WITH(StatusReader::open(d.path()), Catch::Contains(why));
  };
  REQUIRE_NOTHROW(StatusReader::open(d.path()));
  SECTION("bad magic") {
    poke<std::uint64_t>(path, offsetof(StatusHeader, magic), 0x1234);
    refused("bad magic");
  }
  SECTION("other major version") {
    poke<std::uint32_t>(path, offsetof(StatusHeader, version), 2U << 16);
    refused("version 2.0 is incompatible");
  }
  SECTION("never finished (version 0)") {
    poke<std::uint32_t>(path, offsetof(StatusHeader, version), 0);
    refused("not initialised");
  }
  SECTION("layout hash") {
    poke<std::uint64_t>(path, offsetof(StatusHeader, layout_hash), 42);
    refused("hash");
  }
  SECTION("record size") {
    poke<std::uint32_t>(path, offsetof(StatusHeader, stream_size), 512);
    refused("record sizes");
  }
  SECTION("absurd capacity") {
    poke<std::uint32_t>(path, offsetof(StatusHeader, stream_capacity), kMaxStreams + 1);
    refused("out of range");
  }
  SECTION("capacity larger than the file") {
    poke<std::uint32_t>(path, offsetof(StatusHeader, stream_capacity), 1000);
    refused("truncated");
  }
  SECTION("shorter than a header") {
    REQUIRE(::truncate(path.c_str(), 100) == 0);
    refused("smaller than the status header");
  }
}

TEST_CASE("growing replaces the file; readers follow it, old mappings stay valid") {
  TempDir d;
  auto w = StatusWriter::open(d.path(), 1, 2);
  w.edit().streams = {make_stream(0), make_stream(1)};
  REQUIRE(w.publish());
  auto r = StatusReader::open(d.path());
  auto old = StatusReader::open(d.path());
  struct stat before{};
  REQUIRE(::stat(w.path().c_str(), &before) == 0);

  for (std::uint32_t i = 2; i < 5; ++i) w.edit().streams.push_back(make_stream(i));
  REQUIRE(w.publish());
  CHECK(w.stream_capacity() >= 5);
  struct stat after{};
  REQUIRE(::stat(w.path().c_str(), &after) == 0);
  CHECK(after.st_ino != before.st_ino);
  CHECK(static_cast<std::size_t>(after.st_size) == status_file_size(w.conn_capacity(), w.stream_capacity()));

  const auto got = r.read();  // follows the new file
  REQUIRE(got);
  CHECK(got->streams.size() == 5);
  CHECK(got->streams[4].symbol == "SYM4");
  // The old mapping is still backed and says it was replaced (no SIGBUS, a clear state).
  CHECK(old.segment_state() == SegmentState::kReplaced);
}

TEST_CASE("close marks the segment stopped") {
  TempDir d;
  auto r = [&] {
    auto w = StatusWriter::open(d.path(), 1, 1);
    REQUIRE(w.publish());
    return StatusReader::open(d.path());
  }();
  CHECK(r.segment_state() == SegmentState::kStopped);
  const auto got = r.read();
  REQUIRE(got);
  CHECK(got->daemon.segment_state == SegmentState::kStopped);
}

TEST_CASE("a writer that died mid-publish: read gives up within its patience") {
  TempDir d;
  auto w = StatusWriter::open(d.path(), 1, 1);
  REQUIRE(w.publish());
  poke<std::uint64_t>(w.path(), offsetof(StatusHeader, seq), 7);  // odd forever
  auto r = StatusReader::open(d.path());
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(r.read(std::chrono::milliseconds(50)));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
  // Liveness is outside the seqlock, so it is still readable.
  CHECK(r.writer_pid() == static_cast<std::uint32_t>(::getpid()));
}

TEST_CASE("writer refuses a missing directory and sizes beyond the format") {
  TempDir d;
  CHECK_THROWS_WITH(StatusWriter::open(d.path() + "/nope", 1, 1), Catch::Contains("tmpfiles"));
  CHECK_THROWS_AS(StatusWriter::open(d.path(), kMaxConnections + 1, 1), Error);
  auto w = StatusWriter::open(d.path(), 1, 1);
  w.edit().connections.resize(kMaxConnections + 1);
  CHECK_FALSE(w.publish());
  CHECK_THAT(w.last_error(), Catch::Contains("status segment full"));
  const auto got = StatusReader::open(d.path()).read();
  REQUIRE(got);
  CHECK(got->connections.size() == kMaxConnections);
}

// Torture: every field of generation g is a function of g, so a snapshot mixing two publishes
// (a torn read) breaks an equality below. Growth happens mid-run too.
namespace {

void fill_generation(Snapshot& s, std::uint64_t g) {
  s.daemon.instance_id = g;
  s.daemon.summary = "generation " + std::to_string(g);
  s.connections.resize(1 + g % 3);
  for (std::size_t i = 0; i < s.connections.size(); ++i) {
    s.connections[i].id = static_cast<std::uint32_t>(i);
    s.connections[i].messages = g;
    s.connections[i].reconnects = g * 2 + i;
  }
  s.streams.resize(8 + g % 9);
  for (std::size_t i = 0; i < s.streams.size(); ++i) {
    s.streams[i].symbol = "S" + std::to_string(g % 1000);
    s.streams[i].closed_bars = g;
    s.streams[i].gaps_filled = g + i;
  }
}

bool consistent(const Snapshot& s) {
  const std::uint64_t g = s.daemon.instance_id;
  if (s.daemon.summary != "generation " + std::to_string(g)) return false;
  if (s.connections.size() != 1 + g % 3 || s.streams.size() != 8 + g % 9) return false;
  for (std::size_t i = 0; i < s.connections.size(); ++i)
    if (s.connections[i].messages != g || s.connections[i].reconnects != g * 2 + i) return false;
  for (std::size_t i = 0; i < s.streams.size(); ++i)
    if (s.streams[i].symbol != "S" + std::to_string(g % 1000) || s.streams[i].closed_bars != g ||
        s.streams[i].gaps_filled != g + i)
      return false;
  return true;
}

}  // namespace

TEST_CASE("seqlock: a concurrent reader never sees a torn snapshot") {
  TempDir d;
  auto w = StatusWriter::open(d.path(), 2, 12);  // smaller than the largest generation: grows
  fill_generation(w.edit(), 1);
  REQUIRE(w.publish());
  const auto generations = static_cast<std::uint64_t>(std::max(200.0, 20000.0 * test_scale()));
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> reads{0}, torn{0}, last_seen{0};

  std::thread reader([&] {
    auto r = StatusReader::open(d.path());
    while (!done.load(std::memory_order_acquire)) {
      const auto s = r.read();
      if (!s) continue;
      if (!consistent(*s)) torn.fetch_add(1);
      if (s->daemon.instance_id < last_seen.load()) torn.fetch_add(1);  // never goes back
      last_seen.store(s->daemon.instance_id);
      reads.fetch_add(1);
    }
  });
  for (std::uint64_t g = 2; g <= generations; ++g) {
    fill_generation(w.edit(), g);
    REQUIRE(w.publish());
  }
  // Let the reader see the final state at least once before stopping it (bounded wait).
  for (int i = 0; i < 5000 && last_seen.load() != generations; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  done.store(true, std::memory_order_release);
  reader.join();
  CHECK(torn.load() == 0);
  CHECK(reads.load() > 0);
  CHECK(last_seen.load() == generations);
}

// ------------------------------------------------------------------ reuse in place on restart

namespace {

ino_t inode_of(const std::string& path) {
  struct stat st{};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_ino;
}

std::size_t files_in(const std::string& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

TEST_CASE("restart: a compatible file is reused in place with a new identity") {
  TempDir d;
  std::uint64_t first_instance = 0;
  ino_t ino = 0;
  {
    auto w = StatusWriter::open(d.path(), 2, 10);
    CHECK(w.open_mode() == StatusWriter::OpenMode::kCreated);
    w.edit().connections = {make_conn(0)};
    w.edit().streams = {make_stream(0), make_stream(1), make_stream(2)};
    REQUIRE(w.publish());
    first_instance = w.snapshot().daemon.instance_id;
    ino = inode_of(w.path());
  }  // clean exit: stopped
  auto held = StatusReader::open(d.path());  // a reader that stays across the restart
  REQUIRE(held.segment_state() == SegmentState::kStopped);

  auto w = StatusWriter::open(d.path(), 2, 4, 0x1234);  // asks for less than the file has
  CHECK(w.open_mode() == StatusWriter::OpenMode::kReused);
  CHECK(std::string(to_string(w.open_mode())) == "reused");
  CHECK(inode_of(w.path()) == ino);
  CHECK(files_in(d.path()) == 1);
  CHECK(w.stream_capacity() == 10);  // the file's capacity, never changed in place
  CHECK(w.conn_capacity() == 2);

  // Before the first publish: the new identity and an empty body, and the segment is live.
  auto got = held.read();
  REQUIRE(got);
  CHECK(got->daemon.instance_id == 0x1234);
  CHECK(got->daemon.instance_id != first_instance);
  CHECK(got->daemon.pid == static_cast<std::uint32_t>(::getpid()));
  CHECK(got->daemon.summary == "starting");
  CHECK(got->streams.empty());
  CHECK(got->connections.empty());
  CHECK(held.segment_state() == SegmentState::kLive);

  w.edit().streams = {make_stream(7)};
  REQUIRE(w.publish());
  CHECK(w.last_records_written() == 1);
  got = held.read();
  REQUIRE(got);
  REQUIRE(got->streams.size() == 1);
  CHECK(got->streams[0].symbol == "SYM7");
  CHECK(got->streams[0].closed_bars == make_stream(7).closed_bars);
  CHECK(got->daemon.instance_id == 0x1234);
  CHECK(StatusReader::open(d.path()).read()->daemon.instance_id == 0x1234);
}

TEST_CASE("restart after a writer killed mid-publish: the odd seqlock is finished") {
  TempDir d;
  std::string path;
  {
    auto w = StatusWriter::open(d.path(), 1, 2);
    w.edit().streams = {make_stream(0)};
    REQUIRE(w.publish());
    path = w.path();
  }
  // What a SIGKILL inside store_body leaves: seq odd, state still live.
  poke<std::uint64_t>(path, offsetof(StatusHeader, seq), 41);
  poke<std::uint32_t>(path, offsetof(StatusHeader, segment_state),
                      static_cast<std::uint32_t>(SegmentState::kLive));
  auto r = StatusReader::open(d.path());
  CHECK_FALSE(r.read(std::chrono::milliseconds(20)));

  auto w = StatusWriter::open(d.path(), 1, 2);
  CHECK(w.open_mode() == StatusWriter::OpenMode::kReused);
  const auto got = r.read(std::chrono::milliseconds(200));
  REQUIRE(got);
  CHECK(got->daemon.instance_id == w.snapshot().daemon.instance_id);
  CHECK(got->streams.empty());
  std::uint64_t seq = 0;
  {
    const int fd = ::open(path.c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    REQUIRE(::pread(fd, &seq, sizeof seq, offsetof(StatusHeader, seq)) == sizeof seq);
    ::close(fd);
  }
  CHECK(seq == 42);  // ended as if begun at 40: even, and later than anything seen before
}

TEST_CASE("restart: a file too small or incompatible is replaced, never truncated") {
  TempDir d;
  std::string path;
  {
    auto w = StatusWriter::open(d.path(), 1, 2);
    w.edit().streams = {make_stream(0), make_stream(1)};
    REQUIRE(w.publish());
    path = w.path();
  }
  const ino_t ino = inode_of(path);
  auto old = StatusReader::open(d.path());

  SECTION("too few stream records") {
    auto w = StatusWriter::open(d.path(), 1, 3);
    CHECK(w.open_mode() == StatusWriter::OpenMode::kReplaced);
    CHECK(inode_of(path) != ino);
    CHECK(w.stream_capacity() == 3);
    CHECK(old.segment_state() == SegmentState::kReplaced);  // holders of the old one reopen
  }
  SECTION("too few connection records") {
    auto w = StatusWriter::open(d.path(), 2, 2);
    CHECK(w.open_mode() == StatusWriter::OpenMode::kReplaced);
    CHECK(inode_of(path) != ino);
    CHECK(old.segment_state() == SegmentState::kReplaced);
  }
  SECTION("another layout") {
    poke<std::uint64_t>(path, offsetof(StatusHeader, layout_hash), 42);
    auto w = StatusWriter::open(d.path(), 1, 2);
    CHECK(w.open_mode() == StatusWriter::OpenMode::kReplaced);
    CHECK(inode_of(path) != ino);
    CHECK(old.segment_state() == SegmentState::kStopped);  // not ours to write: left alone
  }
  SECTION("never finished (version 0)") {
    poke<std::uint32_t>(path, offsetof(StatusHeader, version), 0);
    auto w = StatusWriter::open(d.path(), 1, 2);
    CHECK(w.open_mode() == StatusWriter::OpenMode::kReplaced);
    CHECK(inode_of(path) != ino);
  }
  CHECK(files_in(d.path()) == 1);
  struct stat st{};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(static_cast<std::size_t>(st.st_size) >= status_file_size(1, 2));
  const auto got = StatusReader::open(d.path()).read();
  REQUIRE(got);
  CHECK(got->streams.empty());
}

// ------------------------------------------------------------------ only changed rows rewritten

TEST_CASE("publish rewrites only the records whose bytes changed") {
  TempDir d;
  auto w = StatusWriter::open(d.path(), 4, 8);
  Snapshot& s = w.edit();
  s.connections = {make_conn(0), make_conn(1)};
  s.streams = {make_stream(0), make_stream(1), make_stream(2), make_stream(3)};
  REQUIRE(w.publish());
  CHECK(w.last_records_written() == 6);
  auto r = StatusReader::open(d.path());
  auto check_reads_back = [&] {
    const auto got = r.read();
    REQUIRE(got);
    REQUIRE(got->streams.size() == s.streams.size());
    REQUIRE(got->connections.size() == s.connections.size());
    for (std::size_t i = 0; i < s.streams.size(); ++i) {
      CHECK(got->streams[i].symbol == s.streams[i].symbol);
      CHECK(got->streams[i].closed_bars == s.streams[i].closed_bars);
      CHECK(got->streams[i].failure == s.streams[i].failure);
    }
    for (std::size_t i = 0; i < s.connections.size(); ++i)
      CHECK(got->connections[i].messages == s.connections[i].messages);
    CHECK(got->daemon.summary == s.daemon.summary);
  };

  SECTION("an unchanged republish stores no record, only the daemon record") {
    const std::uint64_t total = w.records_written();
    const auto before = r.read();
    REQUIRE(before);
    s.daemon.summary = "still 4 streams";
    REQUIRE(w.publish());
    CHECK(w.last_records_written() == 0);
    CHECK(w.records_written() == total);
    check_reads_back();
    const auto after = r.read();
    REQUIRE(after);
    CHECK(after->daemon.published_mono_ns > before->daemon.published_mono_ns);
  }
  SECTION("one changed row is the only one stored") {
    s.streams[2].closed_bars += 1;
    REQUIRE(w.publish());
    CHECK(w.last_records_written() == 1);
    check_reads_back();
    s.connections[1].messages += 100;
    REQUIRE(w.publish());
    CHECK(w.last_records_written() == 1);
    check_reads_back();
    s.streams[0].failure = "REST 418";  // a text change counts too
    s.streams[3].state = StreamState::kLive;
    REQUIRE(w.publish());
    CHECK(w.last_records_written() == 2);
    check_reads_back();
  }
  SECTION("rows that leave and come back are stored again") {
    s.streams.resize(2);
    REQUIRE(w.publish());
    CHECK(w.last_records_written() == 0);
    check_reads_back();
    s.streams.push_back(make_stream(2));  // same bytes as the row the file still holds
    s.streams.push_back(make_stream(9));
    REQUIRE(w.publish());
    CHECK(w.last_records_written() == 2);
    check_reads_back();
  }
  SECTION("growth stores every record into the new file") {
    for (std::uint32_t i = 4; i < 12; ++i) s.streams.push_back(make_stream(i));
    REQUIRE(w.publish());
    CHECK(w.stream_capacity() >= 12);
    CHECK(w.last_records_written() == 14);
    check_reads_back();
    REQUIRE(w.publish());
    CHECK(w.last_records_written() == 0);
    check_reads_back();
  }
}

// Torture with partial publishes: row i changes only every (i + 1)th generation, so most of each
// publish is skipped; a snapshot mixing two publishes breaks the equality below.
TEST_CASE("seqlock: partial publishes are still read as whole snapshots") {
  TempDir d;
  constexpr std::size_t kRows = 16;
  auto w = StatusWriter::open(d.path(), 1, kRows);
  auto fill = [&](std::uint64_t g) {
    Snapshot& s = w.edit();
    s.daemon.instance_id = g;
    s.streams.resize(kRows);
    for (std::size_t i = 0; i < kRows; ++i) {
      const std::uint64_t v = g - g % (i + 1);
      s.streams[i].closed_bars = v;
      s.streams[i].symbol = "R" + std::to_string(v);
    }
  };
  auto whole = [&](const Snapshot& s) {
    const std::uint64_t g = s.daemon.instance_id;
    if (s.streams.size() != kRows) return false;
    for (std::size_t i = 0; i < kRows; ++i) {
      const std::uint64_t v = g - g % (i + 1);
      if (s.streams[i].closed_bars != v || s.streams[i].symbol != "R" + std::to_string(v)) return false;
    }
    return true;
  };
  fill(1);
  REQUIRE(w.publish());
  const auto generations = static_cast<std::uint64_t>(std::max(200.0, 20000.0 * test_scale()));
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> reads{0}, torn{0}, last_seen{0};
  std::thread reader([&] {
    auto r = StatusReader::open(d.path());
    while (!done.load(std::memory_order_acquire)) {
      const auto s = r.read();
      if (!s) continue;
      if (!whole(*s)) torn.fetch_add(1);
      last_seen.store(s->daemon.instance_id);
      reads.fetch_add(1);
    }
  });
  std::uint64_t stored = 0;
  for (std::uint64_t g = 2; g <= generations; ++g) {
    fill(g);
    REQUIRE(w.publish());
    stored += w.last_records_written();
  }
  for (int i = 0; i < 5000 && last_seen.load() != generations; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  done.store(true, std::memory_order_release);
  reader.join();
  CHECK(torn.load() == 0);
  CHECK(reads.load() > 0);
  CHECK(last_seen.load() == generations);
  CHECK(stored < (generations - 1) * kRows / 2);  // most rows were skipped
}
