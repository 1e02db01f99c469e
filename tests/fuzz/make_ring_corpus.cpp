// Writes the ring_reader seed corpus: tiny rings (capacity 2 and 4) made by the real RingWriter in
// a few states, plus corrupt variants of them, one file each, into the directory given:
//   fuzz_make_ring_corpus OUT_DIR
// The volatile fields (created_ms, pid, heartbeat) are pinned so regenerating gives the same
// bytes. ctest runs it into the build dir and replays the result, so the committed seeds cannot
// silently drift from what the writer produces.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "mdfeed/layout.hpp"
#include "mdfeed/ring_writer.hpp"

namespace fs = std::filesystem;
using mdfeed::Bar;
using mdfeed::RingHeader;
using mdfeed::RingWriter;
using mdfeed::Slot;

namespace {

Bar bar(std::uint64_t i, bool closed) {
  Bar b{};
  b.open_time_ms = 1'700'000'040'000 + static_cast<std::int64_t>(i) * 60'000;
  b.close_time_ms = b.open_time_ms + 59'999;
  b.open = 100.0 + static_cast<double>(i);
  b.high = b.open + 2;
  b.low = b.open - 1;
  b.close = b.open + 0.5;
  b.volume = 10;
  b.quote_volume = 1000;
  b.taker_buy_volume = 4;
  b.taker_buy_quote_volume = 400;
  b.trades = 7 + i;
  b.flags = closed ? mdfeed::kBarClosed : 0;
  return b;
}

using Bytes = std::vector<char>;

// Fields are patched by offset: a vector's buffer is not aligned for RingHeader (128).
template <typename T>
void set(Bytes& b, std::size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof v);
}

template <typename T>
T get(const Bytes& b, std::size_t off) {
  T v;
  std::memcpy(&v, b.data() + off, sizeof v);
  return v;
}

// A ring written by RingWriter with `closed` bars appended and optionally a forming bar.
Bytes make_ring(const fs::path& tmp, std::uint32_t cap, std::uint64_t closed, bool forming,
                mdfeed::WriterState state) {
  fs::remove_all(tmp / "f");
  RingWriter::Options o;
  o.shm_dir = tmp.string();
  o.feed = "f";
  o.symbol = "BTCUSDT";
  o.interval = "1m";
  o.capacity = cap;
  o.instance_id = 0x1234'5678'9abc'def0ULL;
  RingWriter w = RingWriter::open(o);
  for (std::uint64_t i = 0; i < closed; ++i) w.append_closed(bar(i, true));
  if (forming) w.publish_forming(bar(closed, false));
  if (state == mdfeed::WriterState::kStopped) {
    w.close();
  } else {
    w.set_state(state);  // read below while still open: the destructor would mark it stopped
  }
  std::ifstream in(w.path(), std::ios::binary);
  Bytes b{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  set<std::int64_t>(b, offsetof(RingHeader, created_ms), 1'700'000'000'000);
  set<std::uint32_t>(b, offsetof(RingHeader, writer_pid), 4242);
  set<std::uint64_t>(b, offsetof(RingHeader, heartbeat_ns), 123'456'789);
  return b;
}

// A copy of b with the field at off set to v.
template <typename T>
Bytes poke(Bytes b, std::size_t off, T v) {
  set(b, off, v);
  return b;
}

// Offset of a field of ring slot i.
constexpr std::size_t slot_off(std::size_t i, std::size_t field) {
  return mdfeed::kHeaderSize + i * mdfeed::kSlotSize + field;
}

void write(const fs::path& dir, const std::string& name, const Bytes& b) {
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(b.data(), static_cast<std::streamsize>(b.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", (dir / name).c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const fs::path out(argv[1]);
  fs::create_directories(out);
  char tmpl[] = "/tmp/mdfeed-ring-corpus.XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return 1;
  const fs::path tmp(tmpl);
  using WS = mdfeed::WriterState;
  using mdfeed::kNoIndex;

  // Valid rings in the states a reader meets.
  const Bytes empty2 = make_ring(tmp, 2, 0, false, WS::kLive);
  const Bytes one2 = make_ring(tmp, 2, 1, true, WS::kLive);
  const Bytes two4 = make_ring(tmp, 4, 2, true, WS::kLive);
  const Bytes wrapped4 = make_ring(tmp, 4, 11, true, WS::kStopped);
  const Bytes full4 = make_ring(tmp, 4, 3, false, WS::kRetired);
  write(out, "valid-cap2-empty", empty2);
  write(out, "valid-cap2-1closed-forming", one2);
  write(out, "valid-cap4-2closed-forming", two4);
  write(out, "valid-cap4-11closed-wrapped-stopped", wrapped4);
  write(out, "valid-cap4-3closed-retired", full4);

  // Header fields by offset, and typed copies-with-one-field-changed.
  constexpr std::size_t kVer = offsetof(RingHeader, version);
  constexpr std::size_t kCap = offsetof(RingHeader, capacity);
  constexpr std::size_t kClosed = offsetof(RingHeader, closed_count);
  const auto u32 = [](const Bytes& b, std::size_t off, std::uint32_t v) { return poke(b, off, v); };
  const auto u64 = [](const Bytes& b, std::size_t off, std::uint64_t v) { return poke(b, off, v); };

  // Truncations and header corruption: each must be refused with an mdfeed::Error.
  write(out, "trunc-0", Bytes{});
  write(out, "trunc-header-1023", Bytes(two4.begin(), two4.begin() + 1023));
  write(out, "trunc-header-only-1024", Bytes(two4.begin(), two4.begin() + 1024));
  write(out, "trunc-one-slot-short", Bytes(two4.begin(), two4.end() - 128));
  write(out, "trunc-one-byte-short", Bytes(two4.begin(), two4.end() - 1));
  write(out, "bad-magic", u64(two4, offsetof(RingHeader, magic), 0x4d44464545445200ULL));
  write(out, "bad-version-0", u32(two4, kVer, 0));
  write(out, "bad-version-2.0", u32(two4, kVer, 2U << 16));
  write(out, "ok-version-1.7", u32(two4, kVer, (1U << 16) | 7));
  write(out, "bad-layout-hash", u64(two4, offsetof(RingHeader, layout_hash), 1));
  write(out, "bad-header-size", u32(two4, offsetof(RingHeader, header_size), 512));
  write(out, "bad-slot-size", u32(two4, offsetof(RingHeader, slot_size), 64));
  write(out, "bad-capacity-0", u32(two4, kCap, 0));
  write(out, "bad-capacity-3", u32(two4, kCap, 3));
  write(out, "bad-capacity-8-file-for-4", u32(two4, kCap, 8));
  write(out, "bad-capacity-2pow24-small-file", u32(two4, kCap, 1U << 24));
  write(out, "bad-capacity-2pow31", u32(two4, kCap, 1U << 31));
  write(out, "ok-capacity-2-file-for-4", u32(two4, kCap, 2));
  write(out, "ok-capacity-1", u32(empty2, kCap, 1));

  // Hostile contents behind a valid header: must read nothing out of bounds, and not hang.
  write(out, "hostile-closed-max", u64(two4, kClosed, ~0ULL));
  write(out, "hostile-closed-2pow63", u64(two4, kClosed, 1ULL << 63));
  write(out, "hostile-closed-2pow63-minus-1", u64(two4, kClosed, (1ULL << 63) - 1));
  write(out, "hostile-closed-beyond-written", u64(two4, kClosed, 1000));
  constexpr std::size_t kForming = offsetof(RingHeader, forming);
  {
    Bytes b = wrapped4;  // a writer died mid-write
    const std::size_t off = slot_off(1, offsetof(Slot, seq));
    set<std::uint64_t>(b, off, get<std::uint64_t>(b, off) | 1);
    write(out, "hostile-slot-odd-seq", b);
  }
  write(out, "hostile-slot-wrong-index", u64(wrapped4, slot_off(2, offsetof(Slot, index)), 3));
  {
    Bytes b = two4;
    const std::size_t off = kForming + offsetof(Slot, seq);
    set<std::uint64_t>(b, off, get<std::uint64_t>(b, off) | 1);
    write(out, "hostile-forming-odd-seq", b);
  }
  write(out, "hostile-forming-index-huge",
        u64(two4, kForming + offsetof(Slot, index), kNoIndex - 1));
  {
    Bytes b = two4;  // names without NUL terminators, nonsense state and clocks
    std::memset(b.data() + offsetof(RingHeader, feed), 'x', mdfeed::kNameLen);
    std::memset(b.data() + offsetof(RingHeader, symbol), 'Y', mdfeed::kNameLen);
    std::memset(b.data() + offsetof(RingHeader, interval), 'z', mdfeed::kIntervalNameLen);
    set<std::uint32_t>(b, offsetof(RingHeader, writer_state), 0xdeadbeef);
    set<std::uint64_t>(b, offsetof(RingHeader, heartbeat_ns), ~0ULL);
    set<std::int64_t>(b, offsetof(RingHeader, interval_ms), -1);
    write(out, "hostile-names-unterminated", b);
  }
  {
    Bytes b = two4;  // longer than the capacity needs (allowed)
    b.resize(b.size() + 4096, '\x5a');
    write(out, "ok-file-longer-than-ring", b);
  }
  fs::remove_all(tmp);
  std::printf("ring corpus written to %s\n", out.c_str());
  return 0;
}
