// Prometheus text format: every family is written whole (HELP, TYPE, then all its samples), as
// the format requires; the per-stream and per-connection families come from tables.
#include "ops/metrics.hpp"

#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <vector>

#include "status/health.hpp"

namespace mdfeed::ops {
namespace {

using status::ConnectionInfo;
using status::Snapshot;
using status::StreamInfo;

// Shortest round-trip digits, in fixed notation when that fits (1700000000, not 1.7e+09).
void append_double(std::string& out, double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  if (r.ec != std::errc()) r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_u64(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void family(std::string& out, const char* name, const char* type, const char* help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void sample_head(std::string& out, const char* name, const std::string& labels) {
  out.append(name);
  if (!labels.empty()) out.append("{").append(labels).append("}");
  out.append(" ");
}

void sample(std::string& out, const char* name, const std::string& labels, std::uint64_t v) {
  sample_head(out, name, labels);
  append_u64(out, v);
  out.append("\n");
}

void sample(std::string& out, const char* name, const std::string& labels, double v) {
  sample_head(out, name, labels);
  append_double(out, v);
  out.append("\n");
}

std::string label(const char* key, const std::string& value) {
  return std::string(key) + "=\"" + escape_label_value(value) + "\"";
}

std::string stream_labels(const StreamInfo& s) {
  return label("feed", s.feed) + "," + label("symbol", s.symbol) + "," +
         label("interval", s.interval);
}

std::string conn_labels(const ConnectionInfo& c) {
  return label("feed", c.feed) + "," + label("conn", std::to_string(c.id));
}

std::string hex_u64(std::uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

double seconds(std::int64_t ms) { return static_cast<double>(ms) / 1000.0; }

void daemon_families(std::string& out, const Snapshot& s, std::uint64_t now_ns) {
  const status::DaemonInfo& d = s.daemon;
  family(out, "mdfeed_build_info", "gauge", "Always 1; labels carry the daemon version and instance.");
  sample(out, "mdfeed_build_info",
         label("version", d.version) + "," + label("instance", hex_u64(d.instance_id)),
         std::uint64_t{1});
  family(out, "mdfeed_start_time_seconds", "gauge", "Daemon start time, seconds since the epoch.");
  sample(out, "mdfeed_start_time_seconds", {}, seconds(d.start_ms));
  family(out, "mdfeed_uptime_seconds", "gauge", "Seconds since the daemon started.");
  const std::uint64_t up_ns = now_ns > d.start_mono_ns ? now_ns - d.start_mono_ns : 0;
  sample(out, "mdfeed_uptime_seconds", {}, static_cast<double>(up_ns / 1'000'000) / 1000.0);
}

struct ConnCounter {
  const char* name;
  const char* help;
  std::uint64_t ConnectionInfo::*field;
};

constexpr ConnCounter kConnCounters[] = {
    {"mdfeed_connection_reconnects_total", "Reconnects of this WebSocket connection.",
     &ConnectionInfo::reconnects},
    {"mdfeed_connection_messages_total", "WebSocket messages received on this connection.",
     &ConnectionInfo::messages},
};

void connection_families(std::string& out, const Snapshot& s) {
  std::vector<std::string> labels;
  labels.reserve(s.connections.size());
  for (const auto& c : s.connections) labels.push_back(conn_labels(c));
  family(out, "mdfeed_connection_up", "gauge", "1 if the connection is connected, else 0.");
  for (std::size_t i = 0; i < labels.size(); ++i)
    sample(out, "mdfeed_connection_up", labels[i],
           std::uint64_t{s.connections[i].state == status::ConnState::kConnected});
  family(out, "mdfeed_connection_state", "gauge",
         "1 for the connection's current state (label state); other states are absent.");
  for (std::size_t i = 0; i < labels.size(); ++i)
    sample(out, "mdfeed_connection_state",
           labels[i] + "," + label("state", to_string(s.connections[i].state)), std::uint64_t{1});
  for (const ConnCounter& m : kConnCounters) {
    family(out, m.name, "counter", m.help);
    for (std::size_t i = 0; i < labels.size(); ++i)
      sample(out, m.name, labels[i], s.connections[i].*m.field);
  }
}

struct StreamCounter {
  const char* name;
  const char* help;
  std::uint64_t StreamInfo::*field;
};

constexpr StreamCounter kStreamCounters[] = {
    {"mdfeed_stream_closed_bars_total", "Closed bars published to the ring.",
     &StreamInfo::closed_bars},
    {"mdfeed_stream_gaps_filled_total", "Gaps filled over REST.", &StreamInfo::gaps_filled},
    {"mdfeed_stream_late_closes_total", "Late closing updates fetched over REST.",
     &StreamInfo::late_closes},
    {"mdfeed_stream_dropped_total", "Duplicate or stale updates dropped.", &StreamInfo::dropped},
    {"mdfeed_stream_bad_messages_total", "Kline messages that failed to parse or validate.",
     &StreamInfo::bad_messages},
    {"mdfeed_stream_explicit_gaps_total", "Periods the exchange has no bar for.",
     &StreamInfo::explicit_gaps},
};

void stream_families(std::string& out, const Snapshot& s, std::uint64_t now_ns) {
  std::vector<std::string> labels;
  labels.reserve(s.streams.size());
  for (const auto& st : s.streams) labels.push_back(stream_labels(st));
  family(out, "mdfeed_stream_age_seconds", "gauge",
         "Seconds since the stream's last update (since daemon start if none yet).");
  for (std::size_t i = 0; i < labels.size(); ++i)
    sample(out, "mdfeed_stream_age_seconds", labels[i],
           seconds(status::stream_age_ms(s, s.streams[i], now_ns)));
  family(out, "mdfeed_stream_state", "gauge",
         "1 for the stream's current state (label state); other states are absent.");
  for (std::size_t i = 0; i < labels.size(); ++i)
    sample(out, "mdfeed_stream_state",
           labels[i] + "," + label("state", to_string(s.streams[i].state)), std::uint64_t{1});
  for (const StreamCounter& m : kStreamCounters) {
    family(out, m.name, "counter", m.help);
    for (std::size_t i = 0; i < labels.size(); ++i) sample(out, m.name, labels[i], s.streams[i].*m.field);
  }
}

}  // namespace

std::string escape_label_value(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_prometheus(const Snapshot& s, std::uint64_t now_mono_ns) {
  std::string out;
  // About 1.2 KB per stream across its families; one reservation instead of many regrowths.
  out.reserve(1024 + 1200 * s.streams.size() + 400 * s.connections.size());
  daemon_families(out, s, now_mono_ns);
  connection_families(out, s);
  stream_families(out, s, now_mono_ns);
  return out;
}

std::string format_prometheus(const Snapshot& s) {
  return format_prometheus(s, status::monotonic_ns());
}

}  // namespace mdfeed::ops
