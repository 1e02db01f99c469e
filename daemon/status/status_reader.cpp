// Status segment reader: the validating PROT_READ mapping, consistent snapshots under the
// writer's seqlock, and following a replaced file.
#include <algorithm>
#include <cstring>
#include <thread>
#include <utility>

#include "mdfeed/error.hpp"
#include "mdfeed/names.hpp"
#include "mdfeed/seqlock.hpp"
#include "status/status.hpp"
#include "status/status_codec.hpp"

namespace mdfeed::status {

using namespace codec;

// ---------------------------------------------------------------------------------- reader

StatusReader StatusReader::open(const std::string& shm_dir) {
  StatusReader r;
  r.path_ = status_path(shm_dir);
  r.map();
  return r;
}

void StatusReader::map() {
  MappedFile f = MappedFile::open_read_only(
      path_, kStatusHeaderSize, "the status header",
      "mdfeed: no status segment at " + path_ + " (is the daemon running with this shm dir?)");
  validate_header(*header(f), f.size(), path_);
  file_ = std::move(f);
}

// The daemon recreates the file to grow it (or on a restart that cannot reuse it); follow the
// name, and keep the old mapping if the new file cannot be opened (it is still valid, just no
// longer updated). A file reused in place is the same inode: nothing to follow.
void StatusReader::follow_replacement() {
  if (!file_.replaced_at(path_)) return;
  try {
    map();
  } catch (const Error&) {
  }
}

bool StatusReader::try_copy(DaemonRecord& d, std::vector<ConnRecord>& c,
                            std::vector<StreamRecord>& s) const noexcept {
  const StatusHeader* h = header(file_);
  const auto* base = static_cast<const char*>(file_.data());
  std::uint32_t nc = 0, ns = 0;
  const bool ok = seqlock::try_read(h->seq, [&]() noexcept {
    seqlock::load_words(base + kStatusHeaderSize, &d, sizeof d);
    // Counts from a torn copy may be garbage: clamp so the copy stays inside the file. The
    // vectors were sized to capacity by the caller, so this never allocates.
    nc = std::min(d.n_connections, h->conn_capacity);
    ns = std::min(d.n_streams, h->stream_capacity);
    if (nc > 0) seqlock::load_words(base + conn_offset(0), c.data(), nc * kConnRecordSize);
    if (ns > 0)
      seqlock::load_words(base + stream_offset(h->conn_capacity, 0), s.data(),
                          ns * kStreamRecordSize);
  });
  d.n_connections = nc;
  d.n_streams = ns;
  return ok;
}

std::optional<Snapshot> StatusReader::read(std::chrono::milliseconds patience) {
  follow_replacement();
  DaemonRecord d{};
  std::vector<ConnRecord> c(conn_capacity());
  std::vector<StreamRecord> s(stream_capacity());
  const auto deadline = std::chrono::steady_clock::now() + patience;
  bool ok = false;
  // A live writer holds the seqlock for one copy (microseconds), so a few retries suffice;
  // the deadline bounds the wait on a writer that died mid-publish.
  for (int attempt = 0; attempt < 1'000'000 && !ok; ++attempt) {
    ok = try_copy(d, c, s);
    if (ok || std::chrono::steady_clock::now() >= deadline) break;
    if (attempt < 64)
      std::this_thread::yield();
    else
      std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  if (!ok) return std::nullopt;
  Snapshot snap;
  snap.daemon = decode_daemon(d);
  snap.daemon.heartbeat_ns = heartbeat_ns();
  snap.daemon.segment_state = segment_state();
  snap.connections.reserve(d.n_connections);
  for (std::uint32_t i = 0; i < d.n_connections; ++i) snap.connections.push_back(decode_conn(c[i]));
  snap.streams.reserve(d.n_streams);
  for (std::uint32_t i = 0; i < d.n_streams; ++i) snap.streams.push_back(decode_stream(s[i]));
  return snap;
}

std::uint32_t StatusReader::writer_pid() const noexcept {
  return __atomic_load_n(&header(file_)->writer_pid, __ATOMIC_RELAXED);
}

SegmentState StatusReader::segment_state() const noexcept {
  return static_cast<SegmentState>(
      __atomic_load_n(&header(file_)->segment_state, __ATOMIC_ACQUIRE));
}

std::uint64_t StatusReader::heartbeat_ns() const noexcept {
  return __atomic_load_n(&header(file_)->heartbeat_ns, __ATOMIC_ACQUIRE);
}

std::chrono::nanoseconds StatusReader::heartbeat_age() const noexcept {
  const std::uint64_t hb = heartbeat_ns();
  if (hb == 0) return std::chrono::nanoseconds::max();
  const std::uint64_t now = monotonic_ns();
  return std::chrono::nanoseconds(now > hb ? static_cast<std::int64_t>(now - hb) : 0);
}

std::uint32_t StatusReader::conn_capacity() const noexcept {
  return header(file_)->conn_capacity;
}

std::uint32_t StatusReader::stream_capacity() const noexcept {
  return header(file_)->stream_capacity;
}


}  // namespace mdfeed::status

