// mdfeed shared-memory ring layout: the one definition shared by the writer (shm/), the C++
// reader (client/) and, by mirroring, the Python package. Change it only with a version bump.
//
// One file per (feed, symbol, interval): <shm.dir>/<feed>/<SYMBOL>.<interval>.ring
//
//  offset  size  contents                                                   written by
//  ------  ----  ---------------------------------------------------------  -----------------
//       0  8     magic "MDFEEDR\0" (little-endian u64 kMagic)              create, once
//       8  4     version = major<<16 | minor, stored LAST with release     create, once
//      12  4     header_size (= kHeaderSize = 1024)                        create, once
//      16  4     slot_size   (= kSlotSize   = 128)                         create, once
//      20  4     capacity (slots, power of two)                            create, once
//      24  8     layout_hash (FNV-1a 64 over kLayoutSpec)                  create, once
//      32  8     interval_ms                                               create, once
//      40  8     created_ms (CLOCK_REALTIME, informational)                create, once
//      48  32    feed name, NUL padded                                     create, once
//      80  32    symbol, NUL padded                                        create, once
//     112  16    interval name, NUL padded ("1m")                          create, once
//     128  8     writer_instance (random per daemon start; atomic)         each writer start
//     136  4     writer_pid (atomic)                                       each writer start
//     140  4     writer_state (WriterState, atomic)                        writer
//     144  112   reserved (zero)
//  ------  ---- 128-byte line boundary: hot, writer-owned lines start here --------------
//     256  8     closed_count: closed bars ever published (atomic, release) writer
//     384  8     heartbeat_ns: CLOCK_MONOTONIC of the last writer beat      writer
//     512  4     update_count: bumped on every publish; FUTEX word          writer
//     640  128   forming slot (Slot; index = absolute index it will close  writer
//                at; seqlocked like ring slots)
//     768  256   reserved (zero)
//    1024  128*capacity  ring slots; bar with absolute index i lives in slot i % capacity
//
// Slot (128 bytes, 128-aligned):
//       0  8     seq: even = stable, odd = being written (seqlock)
//       8  8     index: absolute bar index held (kNoIndex when empty/repaired)
//      16  96    Bar (see below)
//     112  16    reserved
//
// Protocol: the seqlock in mdfeed/seqlock.hpp (see docs/design.md) guards index and bar
// together; a copy taken between two equal, even reads of seq is valid.
// 128 rather than 64 bytes of separation because the adjacent-line prefetcher on x86 pulls
// pairs of 64-byte lines; std::hardware_destructive_interference_size is not ABI-stable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <type_traits>

namespace mdfeed {

inline constexpr std::uint64_t kMagic = 0x00524445'4546444DULL;  // "MDFEEDR\0" in memory
inline constexpr std::uint16_t kVersionMajor = 1;
inline constexpr std::uint16_t kVersionMinor = 0;
inline constexpr std::uint32_t kVersion =
    (static_cast<std::uint32_t>(kVersionMajor) << 16) | kVersionMinor;
inline constexpr std::size_t kCacheLine = 128;
inline constexpr std::size_t kHeaderSize = 1024;
inline constexpr std::size_t kSlotSize = 128;
inline constexpr std::uint64_t kNoIndex = ~std::uint64_t{0};
inline constexpr std::size_t kNameLen = 32;
inline constexpr std::size_t kIntervalNameLen = 16;

// Bar flag bits.
inline constexpr std::uint32_t kBarClosed = 1u << 0;      // final (x:true or closed by REST)
inline constexpr std::uint32_t kBarBackfilled = 1u << 1;  // came from REST, not the stream
// The venue does not count trades (OKX, Bybit): `trades` is unknown, not zero. Doubles a venue
// does not send (taker-buy volumes there) are NaN.
inline constexpr std::uint32_t kBarNoTrades = 1u << 2;

enum class WriterState : std::uint32_t {
  kInit = 0,     // file created, no writer running yet
  kLive = 1,     // a writer owns the ring
  kStopped = 2,  // writer exited cleanly
  kRetired = 3,  // stream removed from the config; readable, no longer updated
};

// One OHLCV bar. Plain data so it can be viewed in place in the mapping.
struct Bar {
  std::int64_t open_time_ms;
  std::int64_t close_time_ms;
  double open;
  double high;
  double low;
  double close;
  double volume;
  double quote_volume;
  double taker_buy_volume;
  double taker_buy_quote_volume;
  std::uint64_t trades;
  std::uint32_t flags;
  std::uint32_t reserved;

  [[nodiscard]] bool closed() const noexcept { return (flags & kBarClosed) != 0; }
  [[nodiscard]] bool backfilled() const noexcept { return (flags & kBarBackfilled) != 0; }
  [[nodiscard]] bool trades_known() const noexcept { return (flags & kBarNoTrades) == 0; }
};

struct alignas(kCacheLine) Slot {
  std::uint64_t seq;
  std::uint64_t index;
  Bar bar;
  std::uint8_t reserved[16];
};

struct alignas(kCacheLine) RingHeader {
  // --- cold, written once at creation ---
  std::uint64_t magic;
  std::uint32_t version;
  std::uint32_t header_size;
  std::uint32_t slot_size;
  std::uint32_t capacity;
  std::uint64_t layout_hash;
  std::int64_t interval_ms;
  std::int64_t created_ms;
  char feed[kNameLen];
  char symbol[kNameLen];
  char interval[kIntervalNameLen];
  // --- per writer start ---
  std::uint64_t writer_instance;
  std::uint32_t writer_pid;
  std::uint32_t writer_state;
  std::uint8_t reserved0[112];
  // --- hot lines, each alone on a 128-byte line ---
  alignas(kCacheLine) std::uint64_t closed_count;
  alignas(kCacheLine) std::uint64_t heartbeat_ns;
  alignas(kCacheLine) std::uint32_t update_count;
  alignas(kCacheLine) Slot forming;
  alignas(kCacheLine) std::uint8_t reserved1[256];
};

// The field list the layout hash covers: name:type@offset for the header and the slot.
// Python builds the same string from its dtype and refuses a file whose hash differs.
inline constexpr char kLayoutSpec[] =
    "header:magic:u64@0,version:u32@8,header_size:u32@12,slot_size:u32@16,capacity:u32@20,"
    "layout_hash:u64@24,interval_ms:i64@32,created_ms:i64@40,feed:c32@48,symbol:c32@80,"
    "interval:c16@112,writer_instance:u64@128,writer_pid:u32@136,writer_state:u32@140,"
    "closed_count:u64@256,heartbeat_ns:u64@384,update_count:u32@512,forming:slot@640;"
    "slot:seq:u64@0,index:u64@8,open_time_ms:i64@16,close_time_ms:i64@24,open:f64@32,"
    "high:f64@40,low:f64@48,close:f64@56,volume:f64@64,quote_volume:f64@72,"
    "taker_buy_volume:f64@80,taker_buy_quote_volume:f64@88,trades:u64@96,flags:u32@104,"
    "reserved:u32@108;size:128";

constexpr std::uint64_t fnv1a64(const char* s, std::size_t n) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(s[i]);
    h *= 0x100000001b3ULL;
  }
  return h;
}

inline constexpr std::uint64_t kLayoutHash = fnv1a64(kLayoutSpec, sizeof(kLayoutSpec) - 1);

// Pin every offset the diagram promises; a mismatch here is a protocol break.
static_assert(std::is_trivially_copyable_v<Bar> && std::is_standard_layout_v<Bar>);
static_assert(std::is_standard_layout_v<Slot> && std::is_standard_layout_v<RingHeader>);
static_assert(sizeof(Bar) == 96);
static_assert(offsetof(Bar, open_time_ms) == 0 && offsetof(Bar, close_time_ms) == 8);
static_assert(offsetof(Bar, open) == 16 && offsetof(Bar, high) == 24);
static_assert(offsetof(Bar, low) == 32 && offsetof(Bar, close) == 40);
static_assert(offsetof(Bar, volume) == 48 && offsetof(Bar, quote_volume) == 56);
static_assert(offsetof(Bar, taker_buy_volume) == 64);
static_assert(offsetof(Bar, taker_buy_quote_volume) == 72);
static_assert(offsetof(Bar, trades) == 80 && offsetof(Bar, flags) == 88);
static_assert(offsetof(Bar, reserved) == 92);
static_assert(sizeof(Slot) == kSlotSize && alignof(Slot) == kCacheLine);
static_assert(offsetof(Slot, seq) == 0 && offsetof(Slot, index) == 8);
static_assert(offsetof(Slot, bar) == 16 && offsetof(Slot, reserved) == 112);
static_assert(sizeof(RingHeader) == kHeaderSize);
static_assert(offsetof(RingHeader, magic) == 0 && offsetof(RingHeader, version) == 8);
static_assert(offsetof(RingHeader, header_size) == 12 && offsetof(RingHeader, slot_size) == 16);
static_assert(offsetof(RingHeader, capacity) == 20 && offsetof(RingHeader, layout_hash) == 24);
static_assert(offsetof(RingHeader, interval_ms) == 32 && offsetof(RingHeader, created_ms) == 40);
static_assert(offsetof(RingHeader, feed) == 48 && offsetof(RingHeader, symbol) == 80);
static_assert(offsetof(RingHeader, interval) == 112);
static_assert(offsetof(RingHeader, writer_instance) == 128);
static_assert(offsetof(RingHeader, writer_pid) == 136);
static_assert(offsetof(RingHeader, writer_state) == 140);
static_assert(offsetof(RingHeader, closed_count) == 256);
static_assert(offsetof(RingHeader, heartbeat_ns) == 384);
static_assert(offsetof(RingHeader, update_count) == 512);
static_assert(offsetof(RingHeader, forming) == 640);
static_assert(offsetof(RingHeader, reserved1) == 768);
// Atomic accesses to these words must be lock-free and address-free to work across processes.
static_assert(__atomic_always_lock_free(sizeof(std::uint64_t), nullptr));
static_assert(__atomic_always_lock_free(sizeof(std::uint32_t), nullptr));

[[nodiscard]] constexpr std::size_t ring_file_size(std::uint32_t capacity) noexcept {
  return kHeaderSize + static_cast<std::size_t>(capacity) * kSlotSize;
}

[[nodiscard]] constexpr bool is_power_of_two(std::uint64_t v) noexcept {
  return v != 0 && (v & (v - 1)) == 0;
}

namespace detail {
// The clock of every heartbeat_ns field (CLOCK_MONOTONIC; one clock for all processes).
inline std::uint64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}
}  // namespace detail

}  // namespace mdfeed
