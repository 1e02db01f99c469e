// Status segment: reuse in place or creation (tmp + fallocate + rename), the whole-snapshot
// seqlock publish of the records that changed, and the validating PROT_READ reader.
#include "status/status.hpp"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <thread>
#include <utility>

#include "mdfeed/error.hpp"
#include "mdfeed/mapped_file_writer.hpp"
#include "mdfeed/names.hpp"
#include "mdfeed/seqlock.hpp"

#ifndef MDFEED_VERSION
#define MDFEED_VERSION "unknown"
#endif

namespace mdfeed::status {
namespace {

// Copies s into a NUL-padded field. Truncation backs off to a UTF-8 boundary and control
// characters become spaces, so every published text is one printable, valid line.
void put_text(char* dst, std::size_t cap, const std::string& s) noexcept {
  std::size_t n = std::min(s.size(), cap - 1);
  if (n < s.size())
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0U) == 0x80U) --n;
  std::memset(dst, 0, cap);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    dst[i] = (c < 0x20U || c == 0x7FU) ? ' ' : s[i];
  }
}

std::uint64_t random_u64() noexcept {
  std::uint64_t v = 0;
  if (getrandom(&v, sizeof v, 0) != static_cast<ssize_t>(sizeof v) || v == 0)
    v = monotonic_ns() ^ (static_cast<std::uint64_t>(getpid()) << 32) ^ 1U;
  return v;
}

StatusHeader* header_of(void* base) noexcept { return static_cast<StatusHeader*>(base); }
const StatusHeader* header(const MappedFile& f) noexcept {
  return static_cast<const StatusHeader*>(f.data());
}

void init_header(StatusHeader& h, std::uint32_t conn_cap, std::uint32_t stream_cap) noexcept {
  h.magic = kStatusMagic;
  h.header_size = kStatusHeaderSize;
  h.layout_hash = kStatusLayoutHash;
  h.daemon_size = kDaemonRecordSize;
  h.conn_size = kConnRecordSize;
  h.stream_size = kStreamRecordSize;
  h.conn_capacity = conn_cap;
  h.stream_capacity = stream_cap;
  h.writer_pid = static_cast<std::uint32_t>(getpid());
  h.created_ms = realtime_ms();
  h.segment_state = static_cast<std::uint32_t>(SegmentState::kLive);
}

// Every header field a reader relies on, checked against the file size: a corrupt or foreign
// file is refused with the reason, never read out of bounds.
void validate_header(const StatusHeader& h, std::size_t size, const std::string& path) {
  auto bad = [&](const std::string& why) {
    return IncompatibleLayout("mdfeed: " + path + ": " + why);
  };
  if (h.magic != kStatusMagic) throw bad("not an mdfeed status segment (bad magic)");
  const std::uint32_t ver = __atomic_load_n(&h.version, __ATOMIC_ACQUIRE);
  if (ver == 0) throw bad("status segment is not initialised (version not yet written)");
  if ((ver >> 16) != kStatusVersionMajor)
    throw bad("status layout version " + std::to_string(ver >> 16) + "." +
              std::to_string(ver & 0xffffU) + " is incompatible with this reader's version " +
              std::to_string(kStatusVersionMajor) + "." + std::to_string(kStatusVersionMinor));
  if (h.layout_hash != kStatusLayoutHash) throw bad("status layout hash mismatch");
  if (h.header_size != kStatusHeaderSize || h.daemon_size != kDaemonRecordSize ||
      h.conn_size != kConnRecordSize || h.stream_size != kStreamRecordSize)
    throw bad("unexpected record sizes");
  if (h.conn_capacity > kMaxConnections || h.stream_capacity > kMaxStreams)
    throw bad("record capacity " + std::to_string(h.conn_capacity) + "/" +
              std::to_string(h.stream_capacity) + " is out of range");
  const std::size_t want = status_file_size(h.conn_capacity, h.stream_capacity);
  if (size < want)
    throw bad("file is " + std::to_string(size) + " bytes, expected " + std::to_string(want) +
              " (truncated?)");
}

// A status segment in the layout this build writes: everything a reader checks holds.
bool same_layout(const StatusHeader& h, std::size_t size, const std::string& path) noexcept {
  try {
    validate_header(h, size, path);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// Starts a seqlock write. A writer killed mid-publish leaves seq odd; write_begin would make it
// even (readers would accept a half-written body), so an odd seq is kept odd and ended as if
// begun at seq - 1, the way the ring writer repairs a slot.
std::uint64_t begin_write(std::uint64_t& seq) noexcept {
  const std::uint64_t now = __atomic_load_n(&seq, __ATOMIC_RELAXED);
  if ((now & 1U) == 0) return seqlock::write_begin(seq);
  __atomic_thread_fence(__ATOMIC_RELEASE);
  return now - 1;
}

DaemonRecord encode_daemon(const DaemonInfo& d) noexcept {
  DaemonRecord r{};
  r.pid = d.pid;
  r.start_ms = d.start_ms;
  r.start_mono_ns = d.start_mono_ns;
  r.published_ms = d.published_ms;
  r.published_mono_ns = d.published_mono_ns;
  r.instance_id = d.instance_id;
  put_text(r.version, sizeof r.version, d.version);
  put_text(r.config_path, sizeof r.config_path, d.config_path);
  put_text(r.summary, sizeof r.summary, d.summary);
  return r;
}

void encode_conn(const ConnectionInfo& c, ConnRecord& r) noexcept {
  r = ConnRecord{};
  put_text(r.feed, sizeof r.feed, c.feed);
  r.id = c.id;
  r.state = static_cast<std::uint32_t>(c.state);
  r.streams = c.streams;
  r.connected_since_ms = c.connected_since_ms;
  r.last_error_ms = c.last_error_ms;
  r.reconnects = c.reconnects;
  r.messages = c.messages;
  put_text(r.last_error, sizeof r.last_error, c.last_error);
}

void encode_stream(const StreamInfo& s, StreamRecord& r) noexcept {
  r = StreamRecord{};
  put_text(r.feed, sizeof r.feed, s.feed);
  put_text(r.symbol, sizeof r.symbol, s.symbol);
  put_text(r.interval, sizeof r.interval, s.interval);
  r.state = static_cast<std::uint32_t>(s.state);
  r.conn_id = s.conn_id;
  r.last_update_ns = s.last_update_ns;
  r.closed_bars = s.closed_bars;
  r.gaps_filled = s.gaps_filled;
  r.late_closes = s.late_closes;
  r.dropped = s.dropped;
  r.bad_messages = s.bad_messages;
  r.explicit_gaps = s.explicit_gaps;
  r.last_bar_open_ms = s.last_bar_open_ms;
  put_text(r.failure, sizeof r.failure, s.failure);
}

DaemonInfo decode_daemon(const DaemonRecord& r) {
  DaemonInfo d;
  d.pid = r.pid;
  d.start_ms = r.start_ms;
  d.start_mono_ns = r.start_mono_ns;
  d.published_ms = r.published_ms;
  d.published_mono_ns = r.published_mono_ns;
  d.instance_id = r.instance_id;
  d.version = detail::header_name(r.version, sizeof r.version);
  d.config_path = detail::header_name(r.config_path, sizeof r.config_path);
  d.summary = detail::header_name(r.summary, sizeof r.summary);
  return d;
}

ConnectionInfo decode_conn(const ConnRecord& r) {
  ConnectionInfo c;
  c.feed = detail::header_name(r.feed, sizeof r.feed);
  c.id = r.id;
  c.state = static_cast<ConnState>(r.state);
  c.streams = r.streams;
  c.connected_since_ms = r.connected_since_ms;
  c.last_error_ms = r.last_error_ms;
  c.reconnects = r.reconnects;
  c.messages = r.messages;
  c.last_error = detail::header_name(r.last_error, sizeof r.last_error);
  return c;
}

StreamInfo decode_stream(const StreamRecord& r) {
  StreamInfo s;
  s.feed = detail::header_name(r.feed, sizeof r.feed);
  s.symbol = detail::header_name(r.symbol, sizeof r.symbol);
  s.interval = detail::header_name(r.interval, sizeof r.interval);
  s.state = static_cast<StreamState>(r.state);
  s.conn_id = r.conn_id;
  s.last_update_ns = r.last_update_ns;
  s.closed_bars = r.closed_bars;
  s.gaps_filled = r.gaps_filled;
  s.late_closes = r.late_closes;
  s.dropped = r.dropped;
  s.bad_messages = r.bad_messages;
  s.explicit_gaps = r.explicit_gaps;
  s.last_bar_open_ms = r.last_bar_open_ms;
  s.failure = detail::header_name(r.failure, sizeof r.failure);
  return s;
}

// Growth policy: at least double, so a reload that adds streams one at a time recreates the
// file O(log n) times, not n times.
std::uint32_t grown(std::uint32_t cap, std::size_t need, std::uint32_t limit) noexcept {
  std::size_t c = std::max<std::size_t>(need, static_cast<std::size_t>(cap) * 2);
  return static_cast<std::uint32_t>(std::min<std::size_t>(c, limit));
}

}  // namespace

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
