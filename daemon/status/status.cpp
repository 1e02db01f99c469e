// Status segment writer: reuse in place or creation (tmp + fallocate + rename) and the
// whole-snapshot seqlock publish of the records that changed. The reader is status_reader.cpp.
#include "status/status.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <utility>

#include "mdfeed/error.hpp"
#include "mdfeed/mapped_file_writer.hpp"
#include "mdfeed/names.hpp"
#include "mdfeed/seqlock.hpp"
#include "status/status_codec.hpp"

#ifndef MDFEED_VERSION
#define MDFEED_VERSION "unknown"
#endif

namespace mdfeed::status {

using namespace codec;

const char* to_string(ConnState s) noexcept {
  switch (s) {
    case ConnState::kIdle: return "idle";
    case ConnState::kConnecting: return "connecting";
    case ConnState::kConnected: return "connected";
    case ConnState::kBackoff: return "backoff";
    case ConnState::kFailed: return "failed";
    case ConnState::kClosed: return "closed";
  }
  return "unknown";
}

const char* to_string(StreamState s) noexcept {
  switch (s) {
    case StreamState::kPending: return "pending";
    case StreamState::kBackfilling: return "backfilling";
    case StreamState::kLive: return "live";
    case StreamState::kGapFilling: return "gap_filling";
    case StreamState::kFailed: return "failed";
    case StreamState::kRetired: return "retired";
  }
  return "unknown";
}

const char* to_string(StatusWriter::OpenMode m) noexcept {
  switch (m) {
    case StatusWriter::OpenMode::kCreated: return "created";
    case StatusWriter::OpenMode::kReused: return "reused";
    case StatusWriter::OpenMode::kReplaced: return "replaced";
  }
  return "?";
}

const char* to_string(SegmentState s) noexcept {
  switch (s) {
    case SegmentState::kInit: return "init";
    case SegmentState::kLive: return "live";
    case SegmentState::kStopped: return "stopped";
    case SegmentState::kReplaced: return "replaced";
  }
  return "unknown";
}

std::string status_path(const std::string& shm_dir) { return shm_dir + "/" + kStatusFileName; }

std::uint64_t monotonic_ns() noexcept { return detail::monotonic_ns(); }

std::int64_t realtime_ms() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

// ---------------------------------------------------------------------------------- writer

StatusWriter StatusWriter::open(const std::string& shm_dir, std::uint32_t n_conn_max,
                                std::uint32_t n_streams, std::uint64_t instance_id) {
  require_shm_dir(shm_dir);
  if (n_conn_max > kMaxConnections || n_streams > kMaxStreams)
    throw Error("mdfeed: status segment for " + std::to_string(n_conn_max) + " connections and " +
                std::to_string(n_streams) + " streams exceeds the limits (" +
                std::to_string(kMaxConnections) + "/" + std::to_string(kMaxStreams) + ")");
  StatusWriter w;
  w.shm_dir_ = shm_dir;
  w.path_ = status_path(shm_dir);
  DaemonInfo& d = w.snap_.daemon;
  d.pid = static_cast<std::uint32_t>(getpid());
  d.start_ms = realtime_ms();
  d.start_mono_ns = monotonic_ns();
  d.instance_id = instance_id != 0 ? instance_id : random_u64();
  d.version = MDFEED_VERSION;
  d.summary = "starting";
  w.encode();
  const std::uint32_t conn_cap = std::max<std::uint32_t>(n_conn_max, 1);
  const std::uint32_t stream_cap = std::max<std::uint32_t>(n_streams, 1);
  MappedFile outgrown;
  if (!w.reuse(conn_cap, stream_cap, outgrown)) {
    const bool had_old = ::access(w.path_.c_str(), F_OK) == 0;
    w.create(conn_cap, stream_cap);
    w.mode_ = had_old ? OpenMode::kReplaced : OpenMode::kCreated;
    // A segment of our layout that was too small: tell readers still holding it to reopen. (An
    // incompatible file is left alone: its header may not even be ours to interpret.)
    if (outgrown)
      __atomic_store_n(&header_of(outgrown.data())->segment_state,
                       static_cast<std::uint32_t>(SegmentState::kReplaced), __ATOMIC_RELEASE);
  }
  return w;
}

// Takes over a compatible file at path_ in place (see open()); false if there is none. A file
// of this layout with too few records is handed back in `outgrown`: the capacities are never
// changed in place (a reader holding the mapping relies on them), it is replaced. The body
// is written first, under the seqlock: the new identity (pid, start times, instance id) and no
// records yet, and a seq left odd by a writer killed mid-publish is finished. Then the fields
// outside the seqlock: the writer's pid, the state (live again after a stop or a crash) and the
// heartbeat. The capacities and the creation time stay as they are.
bool StatusWriter::reuse(std::uint32_t conn_cap, std::uint32_t stream_cap,
                         MappedFile& outgrown) {
  std::optional<MappedFile> old = map_existing_rw(path_, kStatusHeaderSize);
  if (!old) return false;
  StatusHeader* h = header_of(old->data());
  if (!same_layout(*h, old->size(), path_)) return false;
  if (h->conn_capacity < conn_cap || h->stream_capacity < stream_cap) {
    outgrown = std::move(*old);
    return false;
  }
  file_ = std::move(*old);
  conn_cap_ = h->conn_capacity;
  stream_cap_ = h->stream_capacity;
  store_body(file_.data(), conn_cap_, stream_cap_, true);
  __atomic_store_n(&h->writer_pid, static_cast<std::uint32_t>(getpid()), __ATOMIC_RELEASE);
  __atomic_store_n(&h->segment_state, static_cast<std::uint32_t>(SegmentState::kLive),
                   __ATOMIC_RELEASE);
  beat(file_.data());
  mode_ = OpenMode::kReused;
  return true;
}

// Creates a file with the given capacities, publishes the current records into it and renames
// it over the path; a previous mapping is then marked replaced and dropped. On failure the
// previous file and mapping stay as they were.
void StatusWriter::create(std::uint32_t conn_cap, std::uint32_t stream_cap) {
  PendingFile fresh = PendingFile::create(path_, status_file_size(conn_cap, stream_cap));
  init_header(*header_of(fresh.data()), conn_cap, stream_cap);
  store_body(fresh.data(), conn_cap, stream_cap, true);
  beat(fresh.data());
  // The version is the ready signal: everything above is visible before it.
  __atomic_store_n(&header_of(fresh.data())->version, kStatusVersion, __ATOMIC_RELEASE);
  MappedFile published;
  try {
    published = fresh.publish();
  } catch (...) {
    mark_all_dirty();  // the records went into the discarded file, not into file_
    throw;
  }
  MappedFile old = std::exchange(file_, std::move(published));
  conn_cap_ = conn_cap;
  stream_cap_ = stream_cap;
  if (old)
    __atomic_store_n(&header_of(old.data())->segment_state,
                     static_cast<std::uint32_t>(SegmentState::kReplaced), __ATOMIC_RELEASE);
}

StatusWriter::StatusWriter(StatusWriter&& o) noexcept { *this = std::move(o); }

StatusWriter& StatusWriter::operator=(StatusWriter&& o) noexcept {
  if (this != &o) {
    close();
    shm_dir_ = std::move(o.shm_dir_);
    path_ = std::move(o.path_);
    file_ = std::move(o.file_);
    conn_cap_ = o.conn_cap_;
    stream_cap_ = o.stream_cap_;
    snap_ = std::move(o.snap_);
    daemon_rec_ = o.daemon_rec_;
    conn_recs_ = std::move(o.conn_recs_);
    stream_recs_ = std::move(o.stream_recs_);
    conn_dirty_ = std::move(o.conn_dirty_);
    stream_dirty_ = std::move(o.stream_dirty_);
    last_written_ = o.last_written_;
    total_written_ = o.total_written_;
    mode_ = o.mode_;
    last_error_ = std::move(o.last_error_);
  }
  return *this;
}

StatusWriter::~StatusWriter() { close(); }

// Formats the working copy into records (outside the seqlock), and marks dirty each record
// whose bytes differ from the last encoding (which is what the mapping holds once stored).
// Counts are capped at the format's limits here; the file's capacity is applied by store_body().
void StatusWriter::encode() noexcept {
  daemon_rec_ = encode_daemon(snap_.daemon);
  const std::size_t nc = std::min<std::size_t>(snap_.connections.size(), kMaxConnections);
  const std::size_t ns = std::min<std::size_t>(snap_.streams.size(), kMaxStreams);
  // A record that leaves the range and comes back is compared with nothing: new slots start
  // dirty, whatever a longer snapshot once left in the file there.
  try {
    conn_recs_.resize(nc);
    conn_dirty_.resize(nc, 1);
    stream_recs_.resize(ns);
    stream_dirty_.resize(ns, 1);
  } catch (...) {  // out of memory: publish what already fits rather than die in noexcept
    const std::size_t c = std::min({conn_recs_.size(), conn_dirty_.size(), nc});
    const std::size_t s = std::min({stream_recs_.size(), stream_dirty_.size(), ns});
    conn_recs_.resize(c);
    conn_dirty_.resize(c);
    stream_recs_.resize(s);
    stream_dirty_.resize(s);
  }
  for (std::size_t i = 0; i < conn_recs_.size(); ++i) {
    ConnRecord r;
    encode_conn(snap_.connections[i], r);
    if (std::memcmp(&r, &conn_recs_[i], sizeof r) != 0) {
      conn_recs_[i] = r;
      conn_dirty_[i] = 1;
    }
  }
  for (std::size_t i = 0; i < stream_recs_.size(); ++i) {
    StreamRecord r;
    encode_stream(snap_.streams[i], r);
    if (std::memcmp(&r, &stream_recs_[i], sizeof r) != 0) {
      stream_recs_[i] = r;
      stream_dirty_[i] = 1;
    }
  }
}

void StatusWriter::mark_all_dirty() noexcept {
  std::fill(conn_dirty_.begin(), conn_dirty_.end(), std::uint8_t{1});
  std::fill(stream_dirty_.begin(), stream_dirty_.end(), std::uint8_t{1});
}

bool StatusWriter::ensure_capacity() noexcept {
  if (conn_recs_.size() <= conn_cap_ && stream_recs_.size() <= stream_cap_) return true;
  try {
    create(grown(conn_cap_, conn_recs_.size(), kMaxConnections),
           grown(stream_cap_, stream_recs_.size(), kMaxStreams));
    return true;
  } catch (const std::exception& e) {
    last_error_ = e.what();
    return false;
  }
}

// One seqlock write over the whole body (see mdfeed/seqlock.hpp), storing the daemon record
// and, unless `all`, only the dirty connection and stream records.
//
// Why one seqlock and not one per record: readers (mdfeed-ctl, /metrics, Python) want one
// snapshot of the whole daemon - counts, rows and the daemon record from the same publish - and
// the layout (and every reader) stays as it is. Skipping an unchanged record keeps that
// contract: the single writer knows the mapping already holds exactly those bytes (it stored
// them, or they are the same as the new encoding), so a copy taken between two equal, even
// reads of seq sees in every word the value of the last publish whether or not it was stored
// again. What is saved is the stores themselves: cache lines the daemon dirties and readers
// then miss on, which with thousands of idle streams was most of a publish.
//
// Records beyond the file's capacity stay dirty, so a bigger file gets them (create() stores
// everything anyway).
void StatusWriter::store_body(void* mapping, std::uint32_t conn_cap, std::uint32_t stream_cap,
                              bool all) noexcept {
  const auto nc = static_cast<std::uint32_t>(std::min<std::size_t>(conn_recs_.size(), conn_cap));
  const auto ns = static_cast<std::uint32_t>(std::min<std::size_t>(stream_recs_.size(), stream_cap));
  daemon_rec_.n_connections = nc;
  daemon_rec_.n_streams = ns;
  auto* base = static_cast<char*>(mapping);
  StatusHeader* h = header_of(mapping);
  std::uint64_t written = 0;
  const std::uint64_t begun = begin_write(h->seq);
  seqlock::store_words(base + kStatusHeaderSize, &daemon_rec_, sizeof daemon_rec_);
  for (std::uint32_t i = 0; i < nc; ++i) {
    if (!all && conn_dirty_[i] == 0) continue;
    seqlock::store_words(base + conn_offset(i), &conn_recs_[i], kConnRecordSize);
    conn_dirty_[i] = 0;
    ++written;
  }
  for (std::uint32_t i = 0; i < ns; ++i) {
    if (!all && stream_dirty_[i] == 0) continue;
    seqlock::store_words(base + stream_offset(conn_cap, i), &stream_recs_[i], kStreamRecordSize);
    stream_dirty_[i] = 0;
    ++written;
  }
  seqlock::write_end(h->seq, begun);
  last_written_ += written;  // publish() zeroes it: a growth stores into two files
  total_written_ += written;
}

bool StatusWriter::publish() noexcept {
  if (!file_) return false;
  snap_.daemon.published_ms = realtime_ms();
  snap_.daemon.published_mono_ns = monotonic_ns();
  last_written_ = 0;
  encode();
  const bool grew = ensure_capacity();
  store_body(file_.data(), conn_cap_, stream_cap_, false);
  heartbeat();
  const std::size_t want = snap_.streams.size() + snap_.connections.size();
  const std::size_t stored = std::min<std::size_t>(stream_recs_.size(), stream_cap_) +
                             std::min<std::size_t>(conn_recs_.size(), conn_cap_);
  if (stored == want) return true;
  if (grew)  // growth worked but the format's limits did not fit everything
    last_error_ = "status segment full: published " + std::to_string(stored) + " of " +
                  std::to_string(want) + " records";
  return false;
}

void StatusWriter::heartbeat() noexcept {
  if (file_) beat(file_.data());
}

void StatusWriter::beat(void* mapping) noexcept {
  __atomic_store_n(&header_of(mapping)->heartbeat_ns, monotonic_ns(), __ATOMIC_RELEASE);
}

void StatusWriter::close() noexcept {
  if (!file_) return;
  __atomic_store_n(&header_of(file_.data())->segment_state,
                   static_cast<std::uint32_t>(SegmentState::kStopped), __ATOMIC_RELEASE);
  file_.reset();
}

}  // namespace mdfeed::status
