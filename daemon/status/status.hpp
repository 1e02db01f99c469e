// The daemon's status segment: the daemon publishes a whole Snapshot a few times a second into
// <shm_dir>/mdfeed.status (layout in status_layout.hpp); mdfeed-ctl and /metrics read it back.
//
//   auto w = status::StatusWriter::open(cfg.shm_dir, n_connections, n_streams);  // start-up:
//                                             reuses a compatible file in place, else creates
//   w.edit().streams[i].closed_bars = ...;   // the daemon's working copy, any time
//   w.publish();                             // ~4x/s from the service thread; also beats
//   w.heartbeat();                           // cheap liveness beat between publishes
//
//   auto r = status::StatusReader::open(shm_dir);  // NotFound / IncompatibleLayout / Error
//   std::optional<status::Snapshot> s = r.read();  // nullopt: no consistent copy in time
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mdfeed/mapped_file.hpp"
#include "status/status_layout.hpp"

namespace mdfeed::status {

enum class ConnState : std::uint32_t {
  kIdle = 0,        // created, not started
  kConnecting = 1,  // TCP/TLS/WebSocket handshake in progress
  kConnected = 2,   // subscribed and carrying data
  kBackoff = 3,     // waiting before the next attempt
  kFailed = 4,      // gave up (e.g. permanent TLS error); needs operator action
  kClosed = 5,      // closed on purpose (rotation, shutdown)
};

enum class StreamState : std::uint32_t {
  kPending = 0,      // configured, nothing fetched yet
  kBackfilling = 1,  // startup REST backfill
  kLive = 2,         // following the WebSocket stream
  kGapFilling = 3,   // REST fill after a gap or reconnect
  kFailed = 4,       // cannot make progress (see failure)
  kRetired = 5,      // removed from the config; ring kept readable
};

[[nodiscard]] const char* to_string(ConnState s) noexcept;
[[nodiscard]] const char* to_string(StreamState s) noexcept;
[[nodiscard]] const char* to_string(SegmentState s) noexcept;

struct DaemonInfo {
  std::uint32_t pid = 0;
  std::int64_t start_ms = 0;          // CLOCK_REALTIME
  std::uint64_t start_mono_ns = 0;    // CLOCK_MONOTONIC
  std::uint64_t instance_id = 0;
  std::string version;                // at most 31 bytes are published
  std::string config_path;            // at most 255
  std::string summary;                // one line, at most 255
  std::int64_t published_ms = 0;      // set by publish()
  std::uint64_t published_mono_ns = 0;
  // Reader-only: read outside the seqlock, so they are current even when the body is not.
  std::uint64_t heartbeat_ns = 0;     // CLOCK_MONOTONIC of the writer's last beat
  SegmentState segment_state = SegmentState::kInit;
};

struct ConnectionInfo {
  std::string feed;
  std::uint32_t id = 0;
  ConnState state = ConnState::kIdle;
  std::uint32_t streams = 0;
  std::int64_t connected_since_ms = 0;  // CLOCK_REALTIME; 0 = not connected
  std::int64_t last_error_ms = 0;       // CLOCK_REALTIME; 0 = none
  std::uint64_t reconnects = 0;
  std::uint64_t messages = 0;
  std::string last_error;               // at most 127 bytes, e.g. "TLS: certificate verify failed"
};

struct StreamInfo {
  std::string feed;
  std::string symbol;
  std::string interval;
  StreamState state = StreamState::kPending;
  std::uint32_t conn_id = 0;
  std::uint64_t last_update_ns = 0;  // CLOCK_MONOTONIC of the last kline update; 0 = none
  std::uint64_t closed_bars = 0;
  std::uint64_t gaps_filled = 0;
  std::uint64_t late_closes = 0;
  std::uint64_t dropped = 0;
  std::uint64_t bad_messages = 0;
  std::uint64_t explicit_gaps = 0;
  std::int64_t last_bar_open_ms = 0;
  std::string failure;               // at most 95 bytes
};

struct Snapshot {
  DaemonInfo daemon;
  std::vector<ConnectionInfo> connections;
  std::vector<StreamInfo> streams;
};

[[nodiscard]] std::string status_path(const std::string& shm_dir);
[[nodiscard]] std::uint64_t monotonic_ns() noexcept;
[[nodiscard]] std::int64_t realtime_ms() noexcept;

// Single writer; use it from one thread (the daemon's service thread).
class StatusWriter {
 public:
  enum class OpenMode { kCreated, kReused, kReplaced };

  // Opens <shm_dir>/mdfeed.status for at least the given record counts and fills the daemon
  // identity: pid, start times, the instance id (0: random) and the build's version.
  //  - A compatible file already there (same major version, layout hash and record sizes, at
  //    least the capacities asked for) is reused in place, like a ring: the identity and an empty
  //    body are written into it under the seqlock (which also finishes a publish a killed writer
  //    left odd), then the header's pid and state. No new space is needed, so a daemon restarts
  //    on a completely full /dev/shm. Readers keep their mapping and see the new instance.
  //  - Otherwise a new file is built and rename()d over the old one (never truncated in place).
  // Throws mdfeed::Error with path and reason (e.g. "shm filesystem full" for a new file).
  static StatusWriter open(const std::string& shm_dir, std::uint32_t n_conn_max,
                           std::uint32_t n_streams, std::uint64_t instance_id = 0);

  StatusWriter(StatusWriter&& o) noexcept;
  StatusWriter& operator=(StatusWriter&& o) noexcept;
  StatusWriter(const StatusWriter&) = delete;
  StatusWriter& operator=(const StatusWriter&) = delete;
  ~StatusWriter();

  // The working copy; nothing is visible to readers until publish().
  [[nodiscard]] Snapshot& edit() noexcept { return snap_; }
  [[nodiscard]] const Snapshot& snapshot() const noexcept { return snap_; }

  // Publishes the working copy as one consistent snapshot and beats the heartbeat. Only the
  // connection and stream records whose encoded bytes changed since the last publish are
  // stored (the daemon record always is). If it holds more records than the file has room for,
  // a bigger file replaces it first (and gets every record). Returns false if records had to
  // be left out (growth failed or beyond kMaxConnections/kMaxStreams); the reason is in
  // last_error(). Never throws.
  bool publish() noexcept;
  // Stores CLOCK_MONOTONIC now as the heartbeat: one release store outside the seqlock, so
  // liveness can be shown more often than the body is republished.
  void heartbeat() noexcept;
  // Marks the segment stopped (clean exit) and unmaps. Also done by the destructor.
  void close() noexcept;

  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] std::uint32_t conn_capacity() const noexcept { return conn_cap_; }
  [[nodiscard]] std::uint32_t stream_capacity() const noexcept { return stream_cap_; }
  [[nodiscard]] const std::string& last_error() const noexcept { return last_error_; }
  [[nodiscard]] OpenMode open_mode() const noexcept { return mode_; }
  // Connection + stream records stored into the mapping: by the last publish (or open), and in
  // total. An unchanged republish stores none.
  [[nodiscard]] std::uint64_t last_records_written() const noexcept { return last_written_; }
  [[nodiscard]] std::uint64_t records_written() const noexcept { return total_written_; }

 private:
  StatusWriter() = default;
  bool reuse(std::uint32_t conn_cap, std::uint32_t stream_cap, MappedFile& outgrown);
  void create(std::uint32_t conn_cap, std::uint32_t stream_cap);
  bool ensure_capacity() noexcept;
  void encode() noexcept;
  void mark_all_dirty() noexcept;
  void store_body(void* mapping, std::uint32_t conn_cap, std::uint32_t stream_cap,
                  bool all) noexcept;
  static void beat(void* mapping) noexcept;

  std::string shm_dir_;
  std::string path_;
  MappedFile file_;  // read-write, whole file
  std::uint32_t conn_cap_ = 0;
  std::uint32_t stream_cap_ = 0;
  Snapshot snap_;
  // Encoded records, so the seqlock is held only for the word copy, never for formatting.
  DaemonRecord daemon_rec_{};
  std::vector<ConnRecord> conn_recs_;
  std::vector<StreamRecord> stream_recs_;
  // 1 = the record's bytes in the mapping are not (known to be) conn_recs_[i] / stream_recs_[i].
  std::vector<std::uint8_t> conn_dirty_;
  std::vector<std::uint8_t> stream_dirty_;
  std::uint64_t last_written_ = 0;
  std::uint64_t total_written_ = 0;
  OpenMode mode_ = OpenMode::kCreated;
  std::string last_error_;
};

[[nodiscard]] const char* to_string(StatusWriter::OpenMode m) noexcept;

class StatusReader {
 public:
  // Maps <shm_dir>/mdfeed.status read-only. Throws NotFound when the file (or dir) is missing,
  // IncompatibleLayout when it is not a status segment this reader understands, Error otherwise.
  static StatusReader open(const std::string& shm_dir);

  StatusReader(StatusReader&& o) noexcept = default;
  StatusReader& operator=(StatusReader&& o) noexcept = default;
  StatusReader(const StatusReader&) = delete;
  StatusReader& operator=(const StatusReader&) = delete;
  ~StatusReader() = default;

  // One consistent snapshot, following a file the daemon replaced. A daemon restarted on the
  // same file (reused in place) shows as a new daemon.pid/instance_id in the next snapshot.
  // nullopt if none could be copied within `patience` (a writer that died mid-publish leaves
  // the seqlock odd until the next writer starts).
  [[nodiscard]] std::optional<Snapshot> read(
      std::chrono::milliseconds patience = std::chrono::milliseconds(500));

  [[nodiscard]] std::uint32_t writer_pid() const noexcept;
  [[nodiscard]] SegmentState segment_state() const noexcept;
  [[nodiscard]] std::uint64_t heartbeat_ns() const noexcept;
  // Time since the writer's last beat; nanoseconds::max() if it never beat.
  [[nodiscard]] std::chrono::nanoseconds heartbeat_age() const noexcept;
  [[nodiscard]] std::uint32_t conn_capacity() const noexcept;
  [[nodiscard]] std::uint32_t stream_capacity() const noexcept;
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  StatusReader() = default;
  void map();
  void follow_replacement();
  [[nodiscard]] bool try_copy(DaemonRecord& d, std::vector<ConnRecord>& c,
                              std::vector<StreamRecord>& s) const noexcept;

  std::string path_;
  MappedFile file_;  // read-only, whole file
};

}  // namespace mdfeed::status
