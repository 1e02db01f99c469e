// Internal to the fake exchange server: per-connection state, counters, the simulated clock and
// small lws/OpenSSL helpers shared by the server_*.cpp files. Not a public API.
#pragma once

#include <libwebsockets.h>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fake_exchange/rest.hpp"
#include "fake_exchange/streams.hpp"
#include "fake_exchange/venues/venue.hpp"

namespace mdfeed::fake::detail {

inline constexpr std::size_t kMaxQueuedReplies = 1024;
inline constexpr std::size_t kHttpChunk = 16 * 1024;
inline constexpr std::size_t kFragmentsPerMessage = 3;
inline constexpr std::size_t kMaxSuppressedPerWrite = 4096;
// A close we could not write within this long (client not reading) is forced.
inline constexpr std::int64_t kCloseGraceUs = 5'000'000;
inline constexpr std::int64_t kMaxTickUs = 20'000;
inline constexpr std::size_t kMaxUrlBytes = 32 * 1024;  // 1024 stream names fit
inline constexpr int kMaxQueryArgs = 32;
inline constexpr std::size_t kMaxRateWindow = 100'000;  // incoming-message timestamps kept per conn
inline constexpr const char* kVhostName = "mdfeed-fake-exchange";

// Monotonic microseconds: real time for the simulated clock, rate windows and fault deadlines.
[[nodiscard]] std::int64_t mono_us();

// The stdout event log: one line per event, flushed, so a test can follow it live. Service
// thread (and main before/after it) only.
void emit(const std::string& line);

// sim_now = start + speed * real elapsed; pausing freezes it and resuming continues from there.
class SimClock {
 public:
  SimClock(std::int64_t start_ms, double speed, std::int64_t real_us)
      : base_sim_ms_(start_ms), base_real_us_(real_us), speed_(speed) {}

  [[nodiscard]] std::int64_t now_ms(std::int64_t real_us) const {
    if (paused_) return base_sim_ms_;
    const double elapsed_ms = static_cast<double>(real_us - base_real_us_) / 1000.0;
    return base_sim_ms_ + static_cast<std::int64_t>(speed_ * elapsed_ms);
  }
  void pause(std::int64_t real_us) {
    if (paused_) return;
    base_sim_ms_ = now_ms(real_us);
    paused_ = true;
  }
  void resume(std::int64_t real_us) {
    if (!paused_) return;
    base_real_us_ = real_us;
    paused_ = false;
  }

 private:
  std::int64_t base_sim_ms_;
  std::int64_t base_real_us_;
  double speed_;
  bool paused_ = false;
};

struct Subscription {
  std::string name;
  std::optional<StreamCursor> cursor;  // kline streams of existing symbols only
};

struct Connection {
  std::uint64_t id = 0;
  lws* wsi = nullptr;
  bool established = false;
  std::string path;
  Venue* venue = nullptr;  // the protocol this path belongs to (set at the handshake)
  WsRules rules;
  bool silent = false;  // an unrouted URL: accepted, never sends anything
  std::deque<std::string> pongs;  // application-level heartbeat replies (sent even when stalled)
  std::int64_t last_activity_us = 0;  // last message either way, for the venue's idle close
  bool combined = true;  // wrap events as {"stream":..,"data":..}
  std::vector<std::string> initial_streams;
  std::int64_t opened_us = 0;

  std::vector<Subscription> subs;
  std::size_t rr = 0;  // round-robin position over subs
  std::int64_t next_update_us = 0;
  std::int64_t update_us = 0;  // this venue's update period (--update-ms, --venue-update-ms)
  std::deque<std::string> replies;  // control replies and one-off fault messages
  std::int64_t garbage_left = 0;
  std::uint64_t garbage_seq = 0;
  std::uint64_t replay_next = 0;  // absolute index into the replay schedule
  std::uint64_t flood_seq = 0;

  // The message being written, possibly as several frames.
  std::string out;
  std::size_t out_offset = 0;
  std::size_t frag_size = 0;  // 0: one frame
  bool out_is_kline = false;

  std::string rx;
  std::deque<std::int64_t> rx_times_us;  // incoming messages within the last second
  std::uint64_t sent = 0;
  bool flow_off = false;

  int close_code = 0;  // > 0: send this close at the next writeable
  std::string close_reason;
  std::int64_t close_at_us = -1;  // scheduled close (shutdown-event)
  std::int64_t kill_at_us = -1;   // force the close if it could not be written by then
};

struct HttpTxn {
  std::string body;
  std::size_t offset = 0;
};

// lws allocates and zero-fills this per connection (per_session_data_size).
struct SessionData {
  std::uint64_t conn_id;  // 0 = none
  HttpTxn* http;
};

struct Stats {
  std::uint64_t tcp_accepts = 0;
  std::uint64_t conn_attempts = 0;
  std::uint64_t conn_opened = 0;
  std::uint64_t conn_rejected = 0;
  std::uint64_t conn_closed = 0;
  std::uint64_t conn_killed = 0;
  std::uint64_t ws_messages_sent = 0;
  std::uint64_t ws_bytes_sent = 0;
  std::uint64_t kline_updates_sent = 0;
  std::uint64_t kline_closes_sent = 0;
  std::uint64_t kline_closes_suppressed = 0;
  std::uint64_t replay_lines_sent = 0;
  std::uint64_t replay_lines_skipped = 0;
  std::uint64_t garbage_sent = 0;
  std::uint64_t replies_dropped = 0;
  std::uint64_t ctrl_msgs_received = 0;
  std::uint64_t ctrl_rate_exceeded = 0;
  std::uint64_t max_ctrl_msgs_per_s = 0;
  std::uint64_t rx_too_large = 0;
  std::uint64_t pings_answered = 0;
  std::uint64_t pings_ignored = 0;
  std::uint64_t idle_closes = 0;
  std::uint64_t rest_requests = 0;
  std::uint64_t rest_400 = 0;
  std::uint64_t rest_404 = 0;
  std::uint64_t rest_429 = 0;
  std::uint64_t rest_418 = 0;
  std::uint64_t rest_weight_exceeded = 0;
  std::uint64_t commands_ok = 0;
  std::uint64_t commands_failed = 0;

  // The final (and on-demand) "stats {...}" line.
  [[nodiscard]] std::string json(std::size_t active, std::size_t inbox_dropped) const;
};

// Sets SO_LINGER 0 and shuts the socket down so the peer sees the TCP connection end with no
// WebSocket close frame, then has lws free the wsi (reason NOSTATUS sends no close frame).
void kill_abruptly(lws* wsi);

// Client-controlled text in the line-oriented event log: no spaces or control characters.
[[nodiscard]] std::string printable(std::string_view s);

// The query arguments of the request (name=value pairs, raw).
[[nodiscard]] QueryArgs read_query_args(lws* wsi);

// HTTP/2 carries the method in a pseudo-header instead of the request line.
[[nodiscard]] bool is_h2_get(lws* wsi);

// Checks the served certificate against --ca for localhost and 127.0.0.1: "ok" or OpenSSL's
// reason. Informational, so a test can assert its wrong-certificate setup is wrong as intended.
[[nodiscard]] std::string certificate_verdict(const std::string& cert_file,
                                              const std::string& ca_file);

}  // namespace mdfeed::fake::detail
