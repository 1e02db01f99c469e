// Layout of the daemon's status segment, <shm_dir>/mdfeed.status: one documented struct per
// record, pinned with static_asserts. Readers (mdfeed-ctl, Python) mirror this file exactly.
//
//  offset  size              contents                                          written by
//  ------  ----------------  ------------------------------------------------  ---------------
//       0  8                 magic "MDFEEDS\0" (u64 kStatusMagic)             create, once
//       8  4                 version = major<<16 | minor, stored LAST (release) create, once
//      12  4                 header_size  (= 1024)                             create, once
//      16  8                 layout_hash  (FNV-1a 64 over kStatusLayoutSpec)   create, once
//      24  4                 daemon_size  (= 1024)                             create, once
//      28  4                 conn_size    (= 256)                              create, once
//      32  4                 stream_size  (= 256)                              create, once
//      36  4                 conn_capacity   (records)                         create, once
//      40  4                 stream_capacity (records)                         create, once
//      44  4                 writer_pid (atomic)                               each writer start
//      48  8                 created_ms (CLOCK_REALTIME) of the file           create, once
//      56  4                 segment_state (SegmentState, atomic)              writer
//      60  68                reserved
//     128  8                 seq: whole-snapshot seqlock, odd while publishing writer, own line
//     256  8                 heartbeat_ns: CLOCK_MONOTONIC of the last beat    writer, own line
//     384  640               reserved
//    1024  1024              DaemonRecord                         (under seq)
//    2048  256*conn_cap      ConnRecord[conn_capacity]            (under seq)
//       …  256*stream_cap    StreamRecord[stream_capacity]        (under seq)
//
// Protocol: the same seqlock as a ring slot (mdfeed/seqlock.hpp), over the whole body: a copy
// of the records taken between two equal, even reads of seq is one consistent snapshot. The
// heartbeat and pid sit outside the seqlock so liveness is readable even from a torn body.
// A publish stores only the records whose bytes changed (the others already hold exactly those
// bytes), so an idle daemon dirties one daemon record per publish, not every row.
//
// The file is handled like a ring (mdfeed/mapped_file_writer.hpp). A daemon start reuses a
// compatible file in place (same version major, layout hash and record sizes, at least the
// capacities it wants): it writes its identity (pid, start times, instance_id) and n = 0 under
// seq - finishing a seq a killed writer left odd - then writer_pid, segment_state = kLive and
// the heartbeat; readers keep their mapping and see the new instance_id. Otherwise it creates
// one (temporary name, fallocate, filled, then rename()d into place). A file is never
// truncated. When the daemon needs more records it creates a bigger file the same way and
// marks the old one kReplaced, so a reader holding the old mapping knows to reopen.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "mdfeed/layout.hpp"

namespace mdfeed::status {

inline constexpr const char* kStatusFileName = "mdfeed.status";
inline constexpr std::uint64_t kStatusMagic = 0x00534445'4546444DULL;  // "MDFEEDS\0" in memory
inline constexpr std::uint16_t kStatusVersionMajor = 1;
inline constexpr std::uint16_t kStatusVersionMinor = 0;
inline constexpr std::uint32_t kStatusVersion =
    (static_cast<std::uint32_t>(kStatusVersionMajor) << 16) | kStatusVersionMinor;
inline constexpr std::size_t kStatusHeaderSize = 1024;
inline constexpr std::size_t kDaemonRecordSize = 1024;
inline constexpr std::size_t kConnRecordSize = 256;
inline constexpr std::size_t kStreamRecordSize = 256;
// Bounds a reader trusts; anything larger in a header is corruption, not a big daemon.
inline constexpr std::uint32_t kMaxConnections = 4096;
inline constexpr std::uint32_t kMaxStreams = 1U << 18;

inline constexpr std::size_t kVersionTextLen = 32;
inline constexpr std::size_t kPathTextLen = 256;
inline constexpr std::size_t kSummaryTextLen = 256;
inline constexpr std::size_t kErrorTextLen = 128;
inline constexpr std::size_t kFailureTextLen = 96;

enum class SegmentState : std::uint32_t {
  kInit = 0,      // being created (never visible under the final name)
  kLive = 1,      // a daemon owns it and publishes
  kStopped = 2,   // the daemon exited cleanly
  kReplaced = 3,  // superseded by a bigger file at the same path: reopen
};

struct StatusHeader {
  std::uint64_t magic;
  std::uint32_t version;
  std::uint32_t header_size;
  std::uint64_t layout_hash;
  std::uint32_t daemon_size;
  std::uint32_t conn_size;
  std::uint32_t stream_size;
  std::uint32_t conn_capacity;
  std::uint32_t stream_capacity;
  std::uint32_t writer_pid;
  std::int64_t created_ms;
  std::uint32_t segment_state;
  std::uint8_t reserved0[68];
  alignas(kCacheLine) std::uint64_t seq;
  alignas(kCacheLine) std::uint64_t heartbeat_ns;
  alignas(kCacheLine) std::uint8_t reserved1[640];
};

struct DaemonRecord {
  std::uint32_t pid;
  std::uint32_t n_connections;  // records in use; a reader clamps to conn_capacity
  std::uint32_t n_streams;      // records in use; a reader clamps to stream_capacity
  std::uint32_t reserved0;
  std::int64_t start_ms;         // CLOCK_REALTIME at daemon start
  std::uint64_t start_mono_ns;   // CLOCK_MONOTONIC at daemon start
  std::int64_t published_ms;     // CLOCK_REALTIME of this snapshot
  std::uint64_t published_mono_ns;
  std::uint64_t instance_id;
  char version[kVersionTextLen];
  char config_path[kPathTextLen];
  char summary[kSummaryTextLen];
  std::uint8_t reserved1[424];
};

struct ConnRecord {
  char feed[kNameLen];
  std::uint32_t id;
  std::uint32_t state;  // ConnState
  std::uint32_t streams;
  std::uint32_t reserved0;
  std::int64_t connected_since_ms;  // CLOCK_REALTIME; 0 = not connected
  std::int64_t last_error_ms;       // CLOCK_REALTIME; 0 = no error yet
  std::uint64_t reconnects;
  std::uint64_t messages;
  char last_error[kErrorTextLen];
  std::uint8_t reserved1[48];
};

struct StreamRecord {
  char feed[kNameLen];
  char symbol[kNameLen];
  char interval[kIntervalNameLen];
  std::uint32_t state;    // StreamState
  std::uint32_t conn_id;  // ConnRecord::id carrying it
  std::uint64_t last_update_ns;  // CLOCK_MONOTONIC of the last kline update; 0 = none yet
  std::uint64_t closed_bars;
  std::uint64_t gaps_filled;
  std::uint64_t late_closes;   // closing updates fetched over REST
  std::uint64_t dropped;       // duplicates and stale updates
  std::uint64_t bad_messages;
  std::uint64_t explicit_gaps;  // periods the exchange has no bar for
  std::int64_t last_bar_open_ms;  // open time of the newest closed bar; 0 = none
  char failure[kFailureTextLen];
  std::uint8_t reserved0[8];
};

inline constexpr char kStatusLayoutSpec[] =
    "header:magic:u64@0,version:u32@8,header_size:u32@12,layout_hash:u64@16,daemon_size:u32@24,"
    "conn_size:u32@28,stream_size:u32@32,conn_capacity:u32@36,stream_capacity:u32@40,"
    "writer_pid:u32@44,created_ms:i64@48,segment_state:u32@56,seq:u64@128,heartbeat_ns:u64@256;"
    "daemon:pid:u32@0,n_connections:u32@4,n_streams:u32@8,start_ms:i64@16,start_mono_ns:u64@24,"
    "published_ms:i64@32,published_mono_ns:u64@40,instance_id:u64@48,version:c32@56,"
    "config_path:c256@88,summary:c256@344,size:1024;"
    "conn:feed:c32@0,id:u32@32,state:u32@36,streams:u32@40,connected_since_ms:i64@48,"
    "last_error_ms:i64@56,reconnects:u64@64,messages:u64@72,last_error:c128@80,size:256;"
    "stream:feed:c32@0,symbol:c32@32,interval:c16@64,state:u32@80,conn_id:u32@84,"
    "last_update_ns:u64@88,closed_bars:u64@96,gaps_filled:u64@104,late_closes:u64@112,"
    "dropped:u64@120,bad_messages:u64@128,explicit_gaps:u64@136,last_bar_open_ms:i64@144,"
    "failure:c96@152,size:256";

inline constexpr std::uint64_t kStatusLayoutHash =
    fnv1a64(kStatusLayoutSpec, sizeof(kStatusLayoutSpec) - 1);

[[nodiscard]] constexpr std::size_t status_file_size(std::uint32_t conn_capacity,
                                                     std::uint32_t stream_capacity) noexcept {
  return kStatusHeaderSize + kDaemonRecordSize +
         static_cast<std::size_t>(conn_capacity) * kConnRecordSize +
         static_cast<std::size_t>(stream_capacity) * kStreamRecordSize;
}
[[nodiscard]] constexpr std::size_t conn_offset(std::uint32_t i) noexcept {
  return kStatusHeaderSize + kDaemonRecordSize + static_cast<std::size_t>(i) * kConnRecordSize;
}
[[nodiscard]] constexpr std::size_t stream_offset(std::uint32_t conn_capacity,
                                                  std::uint32_t i) noexcept {
  return conn_offset(conn_capacity) + static_cast<std::size_t>(i) * kStreamRecordSize;
}

// Pin every offset the diagram and the spec string promise.
static_assert(std::is_trivially_copyable_v<StatusHeader> && std::is_standard_layout_v<StatusHeader>);
static_assert(std::is_trivially_copyable_v<DaemonRecord> && std::is_standard_layout_v<DaemonRecord>);
static_assert(std::is_trivially_copyable_v<ConnRecord> && std::is_standard_layout_v<ConnRecord>);
static_assert(std::is_trivially_copyable_v<StreamRecord> && std::is_standard_layout_v<StreamRecord>);
static_assert(sizeof(StatusHeader) == kStatusHeaderSize);
static_assert(offsetof(StatusHeader, version) == 8 && offsetof(StatusHeader, header_size) == 12);
static_assert(offsetof(StatusHeader, layout_hash) == 16 && offsetof(StatusHeader, daemon_size) == 24);
static_assert(offsetof(StatusHeader, conn_size) == 28 && offsetof(StatusHeader, stream_size) == 32);
static_assert(offsetof(StatusHeader, conn_capacity) == 36);
static_assert(offsetof(StatusHeader, stream_capacity) == 40);
static_assert(offsetof(StatusHeader, writer_pid) == 44 && offsetof(StatusHeader, created_ms) == 48);
static_assert(offsetof(StatusHeader, segment_state) == 56);
static_assert(offsetof(StatusHeader, seq) == 128 && offsetof(StatusHeader, heartbeat_ns) == 256);
static_assert(sizeof(DaemonRecord) == kDaemonRecordSize);
static_assert(offsetof(DaemonRecord, n_connections) == 4 && offsetof(DaemonRecord, n_streams) == 8);
static_assert(offsetof(DaemonRecord, start_ms) == 16 && offsetof(DaemonRecord, start_mono_ns) == 24);
static_assert(offsetof(DaemonRecord, published_ms) == 32);
static_assert(offsetof(DaemonRecord, published_mono_ns) == 40);
static_assert(offsetof(DaemonRecord, instance_id) == 48 && offsetof(DaemonRecord, version) == 56);
static_assert(offsetof(DaemonRecord, config_path) == 88 && offsetof(DaemonRecord, summary) == 344);
static_assert(sizeof(ConnRecord) == kConnRecordSize);
static_assert(offsetof(ConnRecord, id) == 32 && offsetof(ConnRecord, state) == 36);
static_assert(offsetof(ConnRecord, streams) == 40 && offsetof(ConnRecord, connected_since_ms) == 48);
static_assert(offsetof(ConnRecord, last_error_ms) == 56 && offsetof(ConnRecord, reconnects) == 64);
static_assert(offsetof(ConnRecord, messages) == 72 && offsetof(ConnRecord, last_error) == 80);
static_assert(sizeof(StreamRecord) == kStreamRecordSize);
static_assert(offsetof(StreamRecord, symbol) == 32 && offsetof(StreamRecord, interval) == 64);
static_assert(offsetof(StreamRecord, state) == 80 && offsetof(StreamRecord, conn_id) == 84);
static_assert(offsetof(StreamRecord, last_update_ns) == 88);
static_assert(offsetof(StreamRecord, closed_bars) == 96 && offsetof(StreamRecord, gaps_filled) == 104);
static_assert(offsetof(StreamRecord, late_closes) == 112 && offsetof(StreamRecord, dropped) == 120);
static_assert(offsetof(StreamRecord, bad_messages) == 128);
static_assert(offsetof(StreamRecord, explicit_gaps) == 136);
static_assert(offsetof(StreamRecord, last_bar_open_ms) == 144);
static_assert(offsetof(StreamRecord, failure) == 152);
// The seqlock copies whole 8-byte words; every record must be made of them.
static_assert(kDaemonRecordSize % 8 == 0 && kConnRecordSize % 8 == 0 && kStreamRecordSize % 8 == 0);
static_assert(kStatusHeaderSize % kCacheLine == 0 && kDaemonRecordSize % kCacheLine == 0);

}  // namespace mdfeed::status
