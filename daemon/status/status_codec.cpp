// Status segment records: text fields, encoding and decoding, header initialisation and checks.
#include "status/status_codec.hpp"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "mdfeed/error.hpp"
#include "mdfeed/names.hpp"
#include "mdfeed/seqlock.hpp"

namespace mdfeed::status::codec {

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


}  // namespace mdfeed::status::codec
