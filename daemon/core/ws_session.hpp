// One logical WebSocket feed connection: a fixed share of a feed's streams (<= the venue's
// per-connection limit), kept subscribed across reconnects, replaced make-before-break before the
// venue's connection lifetime ends or when the venue announces a shutdown. The bytes on the wire
// are the venue's (venue::WsProtocol, one per connection); this owns the socket, time and
// policy: backoff, staleness, heartbeat deadlines, pacing, rotation. Service thread only.
#pragma once

#include <libwebsockets.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/net.hpp"
#include "status/status.hpp"
#include "venue/venue.hpp"

namespace mdfeed {

// What a session needs from the feed that owns it. The feed implements it; the session never
// sees the feed's type, so there is no include cycle.
class SessionHost {
 public:
  virtual ~SessionHost();
  [[nodiscard]] virtual const FeedConfig& feed_config() const = 0;
  [[nodiscard]] virtual const venue::Spec& spec() const = 0;
  [[nodiscard]] virtual const net::Endpoint& ws_endpoint() const = 0;
  [[nodiscard]] virtual lws_context* context() const = 0;
  [[nodiscard]] virtual lws_vhost* vhost() const = 0;
  // The venue's per-IP connection-attempt budget: true (and counted) if one may start now.
  [[nodiscard]] virtual bool may_connect(std::int64_t mono_ms) = 0;
  virtual void on_kline(const venue::Event& e, std::int64_t mono_ms) = 0;
  // The session has handed over every message of one network read: wake the rings' readers.
  virtual void on_read_done() noexcept = 0;
  // Updates for these topics may have been missed.
  virtual void on_connection_lost(const std::vector<std::string>& topics) = 0;
};

// The connection states mdfeed-ctl shows are the session's own states.
using ConnState = status::ConnState;

struct SessionStats {
  std::uint64_t messages = 0;       // complete WebSocket messages received
  std::uint64_t klines = 0;
  std::uint64_t skipped = 0;        // valid traffic mdfeed does not use
  std::uint64_t heartbeats = 0;     // application pings sent (OKX, Bybit)
  std::uint64_t heartbeat_timeouts = 0;  // reconnects because a heartbeat went unanswered
  std::uint64_t bad = 0;            // malformed or unexpected messages, dropped
  std::uint64_t oversize = 0;       // messages above max_message_bytes (closed with 1009)
  std::uint64_t reconnects = 0;     // primary connection losses
  std::uint64_t stale_reconnects = 0;
  std::uint64_t rotations = 0;      // make-before-break replacements completed
  std::uint64_t control_sent = 0;   // subscribe/unsubscribe frames sent
  std::uint64_t control_refused = 0;  // control requests the venue refused
  std::uint64_t server_shutdowns = 0;  // shutdown notices (Binance serverShutdown, OKX notice)
};

class WsSession {
 public:
  WsSession(SessionHost& host, int id);
  ~WsSession();
  WsSession(const WsSession&) = delete;
  WsSession& operator=(const WsSession&) = delete;

  // Topics (the venue's stream keys). Added ones are subscribed on live connections (paced
  // control frames); every later connection carries the whole set.
  void add_streams(const std::vector<std::string>& names);
  void remove_streams(const std::vector<std::string>& names);
  [[nodiscard]] std::size_t stream_count() const noexcept { return names_.size(); }
  [[nodiscard]] const std::vector<std::string>& streams() const noexcept { return names_; }

  // Periodic work: connect when due, staleness, rotation, control-message pacing.
  void tick(std::int64_t mono_ms);
  // Starts a replacement connection now (a shutdown notice, or the connection lifetime).
  void rotate(const char* why);
  void stop();  // closes everything, no reconnect

  [[nodiscard]] int id() const noexcept { return id_; }
  [[nodiscard]] ConnState state() const noexcept;
  [[nodiscard]] std::int64_t connected_since_wall_ms() const noexcept { return connected_wall_ms_; }
  [[nodiscard]] const std::string& last_error() const noexcept { return last_error_; }
  [[nodiscard]] const SessionStats& stats() const noexcept { return stats_; }
  [[nodiscard]] bool ever_connected() const noexcept { return ever_connected_; }

  static int lws_callback(lws* wsi, lws_callback_reasons reason, void* in, std::size_t len);
  // Records why TLS verification refused the peer of wsi (called from the verify callback).
  static void note_tls_error(lws* wsi, const char* reason);

  struct Conn;

 private:
  void connect(bool replacement, std::int64_t mono_ms);
  void on_established(Conn& c, std::int64_t mono_ms);
  int append_upgrade_headers(Conn& c, char** p, std::size_t room);
  bool on_upgrade_reply(Conn& c, lws* wsi);
  void on_bytes(Conn& c, const char* data, std::size_t len);
  void feed_frames(Conn& c, const char* data, std::size_t len);
  void on_message(Conn& c, char* data, std::size_t len, std::size_t capacity);
  void send_close(Conn& c, std::uint16_t code);
  void report_loss(Conn& c, const std::string& why);
  int on_writeable(Conn& c);
  void on_closed(Conn& c, const std::string& why);
  void promote(Conn& c);
  void queue_control(Conn& c, bool subscribe, const std::vector<std::string>& topics);
  void on_event(Conn& c, const venue::Event& e, std::int64_t now);
  void close_conn(Conn& c, std::string why);
  void schedule_reconnect(std::int64_t mono_ms);
  void forget(Conn& c);
  [[nodiscard]] Conn* primary() const noexcept;
  [[nodiscard]] Conn* replacement() const noexcept;

  SessionHost& host_;
  int id_;
  std::vector<std::string> names_;
  std::vector<std::unique_ptr<Conn>> conns_;
  lws_retry_bo_t retry_{};
  std::vector<std::uint32_t> retry_table_;
  std::uint16_t retry_count_ = 0;
  std::int64_t next_connect_ms_ = 0;
  std::int64_t connected_wall_ms_ = 0;
  std::int64_t next_control_id_ = 1;
  bool stopped_ = false;
  bool ever_connected_ = false;
  std::string last_error_;
  SessionStats stats_;
};

}  // namespace mdfeed
