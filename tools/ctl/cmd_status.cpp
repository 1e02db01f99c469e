// mdfeed-ctl status: read the daemon's status segment, judge it with status::evaluate, print it
// Redis-INFO style (# Section, key:value, then tables) or as JSON. Exit code = the verdict.
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>

#include "cli.hpp"
#include "format.hpp"
#include "mdfeed/error.hpp"
#include "status/health.hpp"
#include "status/status.hpp"

namespace mdfeed::ctl {
namespace {

using status::Health;
using status::HealthReport;
using status::Snapshot;

constexpr std::size_t kMaxReasonLines = 10;

struct Observed {
  std::string shm_dir;
  std::string path;
  std::optional<Snapshot> snap;
  HealthReport report;
  status::HealthPolicy policy;
};

status::HealthPolicy policy_from(const Invocation& inv) {
  status::HealthPolicy p;
  if (auto v = inv.value("stale-after")) p.stale_after = parse_seconds(*v, "--stale-after");
  if (auto v = inv.value("heartbeat-timeout"))
    p.heartbeat_timeout = parse_seconds(*v, "--heartbeat-timeout");
  return p;
}

void mark_down(Observed& o, std::string reason) {
  o.report.health = Health::kDown;
  o.report.reasons.push_back(std::move(reason));
}

// Everything that can keep us from a snapshot makes the verdict "down", with the reason.
Observed observe(const Invocation& inv) {
  Observed o;
  o.shm_dir = inv.shm_dir;
  o.path = status::status_path(inv.shm_dir);
  o.policy = policy_from(inv);
  try {
    require_shm_dir(inv.shm_dir);
    auto reader = status::StatusReader::open(inv.shm_dir);
    o.snap = reader.read();
    if (!o.snap) {
      mark_down(o, "status segment " + o.path + " is stuck mid-update (writer pid " +
                       std::to_string(reader.writer_pid()) + " died while publishing?)");
      return o;
    }
    o.report = status::evaluate(*o.snap, status::monotonic_ns(),
                                status::pid_alive(reader.writer_pid()), o.policy);
  } catch (const NotFound&) {
    mark_down(o, "no status segment at " + o.path + " (daemon not running, or another shm dir?)");
  } catch (const std::exception& e) {
    mark_down(o, e.what());
  }
  return o;
}

// ---------------------------------------------------------------------------------- JSON

void json_daemon(Json& j, const Observed& o) {
  const status::DaemonInfo& d = o.snap->daemon;
  j.begin_object()
      .key("pid").value(d.pid)
      .key("version").value(d.version)
      .key("instance_id").value(hex_u64(d.instance_id))  // a string: u64 overflows JS numbers
      .key("config_path").value(d.config_path)
      .key("start_time_ms").value(d.start_ms)
      .key("uptime_ms").value(o.report.uptime_ms)
      .key("heartbeat_age_ms").value(o.report.heartbeat_age_ms)
      .key("segment_state").value(to_string(d.segment_state))
      .key("summary").value(d.summary)
      .end_object();
}

void json_connections(Json& j, const Observed& o) {
  j.begin_array();
  for (std::size_t i = 0; i < o.snap->connections.size(); ++i) {
    const auto& c = o.snap->connections[i];
    j.begin_object()
        .key("feed").value(c.feed)
        .key("id").value(c.id)
        .key("state").value(to_string(c.state))
        .key("ok").value(static_cast<bool>(o.report.connection_ok[i]))
        .key("streams").value(c.streams)
        .key("connected_since_ms").value(c.connected_since_ms)
        .key("reconnects").value(c.reconnects)
        .key("messages").value(c.messages)
        .key("last_error").value(c.last_error)
        .key("last_error_ms").value(c.last_error_ms)
        .end_object();
  }
  j.end_array();
}

void json_streams(Json& j, const Observed& o) {
  j.begin_array();
  for (std::size_t i = 0; i < o.snap->streams.size(); ++i) {
    const auto& s = o.snap->streams[i];
    j.begin_object()
        .key("feed").value(s.feed)
        .key("symbol").value(s.symbol)
        .key("interval").value(s.interval)
        .key("state").value(to_string(s.state))
        .key("age_ms").value(o.report.streams[i].age_ms)
        .key("stale").value(o.report.streams[i].stale)
        .key("closed_bars").value(s.closed_bars)
        .key("gaps_filled").value(s.gaps_filled)
        .key("late_closes").value(s.late_closes)
        .key("dropped").value(s.dropped)
        .key("bad_messages").value(s.bad_messages)
        .key("explicit_gaps").value(s.explicit_gaps)
        .key("last_bar_open_ms").value(s.last_bar_open_ms)
        .key("conn_id").value(s.conn_id)
        .key("failure").value(s.failure)
        .end_object();
  }
  j.end_array();
}

std::string render_json(const Observed& o) {
  Json j;
  j.begin_object()
      .key("healthy").value(o.report.health == Health::kHealthy)
      .key("state").value(to_string(o.report.health))
      .key("shm_dir").value(o.shm_dir)
      .key("stale_after_ms").value(static_cast<std::int64_t>(o.policy.stale_after.count()))
      .key("reasons").begin_array();
  for (const auto& r : o.report.reasons) j.value(r);
  j.end_array().key("daemon");
  if (o.snap) json_daemon(j, o); else j.null();
  j.key("connections");
  if (o.snap) json_connections(j, o); else j.begin_array().end_array();
  j.key("streams");
  if (o.snap) json_streams(j, o); else j.begin_array().end_array();
  j.end_object();
  return j.str() + "\n";
}

// ---------------------------------------------------------------------------------- human

Color verdict_color(Health h) {
  switch (h) {
    case Health::kHealthy: return Color::kGreen;
    case Health::kDegraded: return Color::kYellow;
    case Health::kDown: return Color::kRed;
  }
  return Color::kNone;
}

std::string human_headline(const Observed& o, bool color) {
  std::string out = paint("●", verdict_color(o.report.health), color) + " mdfeed is " +
                    paint(to_string(o.report.health), verdict_color(o.report.health), color) + "\n";
  const auto& rs = o.report.reasons;
  for (std::size_t i = 0; i < rs.size() && i < kMaxReasonLines; ++i) out += "  - " + rs[i] + "\n";
  if (rs.size() > kMaxReasonLines)
    out += "  - ... and " + std::to_string(rs.size() - kMaxReasonLines) + " more\n";
  return out;
}

std::string human_daemon(const Observed& o) {
  const status::DaemonInfo& d = o.snap->daemon;
  std::string out = "\n# Daemon\n";
  out += "pid:" + std::to_string(d.pid) + "\n";
  out += "version:" + d.version + "\n";
  out += "instance:" + hex_u64(d.instance_id) + "\n";
  out += "config:" + d.config_path + "\n";
  out += "shm_dir:" + o.shm_dir + "\n";
  out += "started:" + iso_utc(d.start_ms) + "\n";
  out += "uptime:" + human_duration(o.report.uptime_ms) + "\n";
  out += "heartbeat_age:" + human_duration(o.report.heartbeat_age_ms) + "\n";
  out += "summary:" + d.summary + "\n";
  return out;
}

Color conn_color(const status::ConnectionInfo& c, bool ok) {
  if (c.state == status::ConnState::kFailed) return Color::kRed;
  return ok ? Color::kNone : Color::kYellow;
}

std::string human_connections(const Observed& o, bool color) {
  const auto& cs = o.snap->connections;
  Table t({"FEED", "ID", "STATE", "STREAMS", "CONNECTED_SINCE", "RECONNECTS", "MESSAGES", "LAST_ERROR"},
          {false, true, false, true, false, true, true, false});
  for (std::size_t i = 0; i < cs.size(); ++i) {
    const auto& c = cs[i];
    t.add({c.feed, std::to_string(c.id), to_string(c.state), std::to_string(c.streams),
           iso_utc(c.connected_since_ms), std::to_string(c.reconnects), std::to_string(c.messages),
           c.last_error.empty() ? "-" : c.last_error},
          conn_color(c, o.report.connection_ok[i]));
  }
  return "\n# Connections (" + std::to_string(cs.size()) + ")\n" + t.render(color);
}

std::string human_streams(const Observed& o, bool color) {
  const auto& ss = o.snap->streams;
  Table t({"FEED", "SYMBOL", "INTERVAL", "STATE", "AGE", "CLOSED", "GAPS", "LATE", "DROPPED", "BAD",
           "NO_BAR", "LAST_BAR", "FAILURE"},
          {false, false, false, false, true, true, true, true, true, true, true, false, false});
  std::size_t stale = 0;
  for (std::size_t i = 0; i < ss.size(); ++i) {
    const auto& s = ss[i];
    const auto& h = o.report.streams[i];
    stale += h.stale ? 1 : 0;
    const Color c = s.state == status::StreamState::kFailed ? Color::kRed
                    : h.stale                               ? Color::kYellow
                                                            : Color::kNone;
    t.add({s.feed, s.symbol, s.interval, to_string(s.state), human_duration(h.age_ms),
           std::to_string(s.closed_bars), std::to_string(s.gaps_filled),
           std::to_string(s.late_closes), std::to_string(s.dropped), std::to_string(s.bad_messages),
           std::to_string(s.explicit_gaps), iso_utc(s.last_bar_open_ms),
           s.failure.empty() ? "-" : s.failure},
          c);
  }
  return "\n# Streams (" + std::to_string(ss.size()) + ", " + std::to_string(stale) +
         " stale after " + human_duration(o.policy.stale_after.count()) + ")\n" + t.render(color);
}

std::string render_human(const Observed& o, bool color) {
  std::string out = human_headline(o, color);
  if (!o.snap) return out;
  return out + human_daemon(o) + human_connections(o, color) + human_streams(o, color);
}

}  // namespace

int run_status(const Invocation& inv) {
  const Observed o = observe(inv);
  write_out(inv.flag("json") ? render_json(o) : render_human(o, want_color(STDOUT_FILENO)));
  return static_cast<int>(o.report.health);
}

}  // namespace mdfeed::ctl
