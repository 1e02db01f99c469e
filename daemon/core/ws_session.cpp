// WebSocket feed session: connect, subscribe, reassemble, parse, dispatch, and keep it so.
#include "core/ws_session.hpp"

#include <algorithm>
#include <cstring>

#include "core/logging.hpp"
#include "core/net.hpp"
#include "wire/websocket.hpp"

namespace mdfeed {

SessionHost::~SessionHost() = default;

namespace {

constexpr std::int64_t kConnectTimeoutMs = 20'000;
// After a close frame is sent in answer to the server's, the server closes TCP (RFC 6455 7.1.1);
// if it does not, we do after this long. Also the limit for our own graceful close.
constexpr int kCloseGraceS = 2;

// One write per writeable callback (lws rule); LWS_PRE bytes of headroom before the data.
bool write_raw(lws* wsi, std::string_view bytes) {
  std::vector<unsigned char> out(LWS_PRE + bytes.size());
  std::memcpy(out.data() + LWS_PRE, bytes.data(), bytes.size());
  return lws_write(wsi, out.data() + LWS_PRE, bytes.size(), LWS_WRITE_RAW) >= static_cast<int>(bytes.size());
}

std::string masked(ws::Opcode op, std::string_view payload) {
  unsigned char key[4];
  ws::make_mask_key(key);
  return ws::encode_frame(op, payload, key);
}

}  // namespace

// A frame waiting for its pacing slot: the venue's control messages and heartbeats (text) and
// WebSocket pings and pongs; the venues count all of them against the same message rate.
struct OutFrame {
  ws::Opcode op = ws::Opcode::kText;
  std::string payload;
};

// The data connection is an lws HTTP/1.1 client whose request asks for the upgrade: lws
// connects, verifies, encrypts and parses the 101 reply's headers; we check them and then read
// the upgraded byte stream as the response body, in whole TLS reads, and frame it ourselves
// (wire/websocket.hpp; docs/design.md "The receive path" says why not lws's ws client).
struct WsSession::Conn : net::LwsUser {
  // The decoder's callbacks. A member, not a second base: the lws opaque pointer must stay the
  // LwsUser at offset 0, and a polymorphic base would be laid out first.
  struct Sink final : ws::FrameSink {
    explicit Sink(Conn& c) : conn(c) {}
    void on_message(ws::Opcode, char* data, std::size_t len, std::size_t capacity) override {
      conn.owner->on_message(conn, data, len, capacity);
    }
    void on_ping(std::string_view payload) override { conn.on_ping(payload); }
    void on_pong(std::string_view) override { conn.ws_ping_since_ms = -1; }
    void on_close(std::uint16_t code, std::string_view reason) override {
      conn.peer_close = "closed by the server with " + std::to_string(code) +
                        (reason.empty() ? std::string() : " " + std::string(reason));
      conn.close_code = code == ws::kCloseNoStatus ? ws::kCloseNormal : code;  // echo it (5.5.1)
    }
    Conn& conn;
  };

  explicit Conn(std::size_t max_message) : LwsUser(Kind::kWs), dec(max_message, venue::kParsePadding), sink(*this) {}
  void on_ping(std::string_view payload) {
    // Only the latest ping needs an answer (RFC 6455 5.5.3): replace a pong still queued.
    for (auto& f : control)
      if (f.op == ws::Opcode::kPong) {
        f.payload.assign(payload);
        return;
      }
    control.push_front({ws::Opcode::kPong, std::string(payload)});
    if (wsi != nullptr) lws_callback_on_writable(wsi);
  }

  WsSession* owner = nullptr;
  std::string tls_error;  // verification failure reason, if the handshake was refused
  lws* wsi = nullptr;
  bool replacement = false;
  bool established = false;
  bool has_data = false;
  bool closing = false;
  // The loss of this connection was already accounted (reconnect count, gap checks, backoff)
  // when we decided to close it, while it says goodbye: its own close must not count again.
  bool loss_reported = false;
  std::int64_t started_ms = 0;
  std::int64_t established_ms = 0;
  std::int64_t last_data_ms = 0;
  std::int64_t last_rx_ms = 0;  // anything at all, for the venue's heartbeat
  std::int64_t last_control_ms = -1'000'000;
  std::int64_t last_bytes_ms = 0;   // any bytes at all, for the WebSocket keepalive
  std::int64_t ping_since_ms = -1;  // an application heartbeat is awaiting its pong since then
  std::int64_t ws_ping_since_ms = -1;  // a WebSocket ping is awaiting its pong since then
  std::int64_t next_id = 1;         // control request ids on this connection
  std::string key;  // Sec-WebSocket-Key of this connection's opening handshake
  ws::FrameDecoder dec;
  // A close frame to send ahead of everything (ours on failure, or the echo of the server's).
  std::uint16_t close_code = 0;
  bool close_sent = false;
  std::string peer_close;         // the server's close frame, for the log
  std::string close_why;          // why we closed it, for the log and status
  std::unique_ptr<venue::WsProtocol> proto;
  std::deque<OutFrame> control;  // frames waiting for their pacing slot (heartbeats first)
  Sink sink;
};

WsSession::WsSession(SessionHost& host, int id) : host_(host), id_(id) {
  const auto& c = host.feed_config();
  // Backoff steps double from reconnect_min_ms to reconnect_max_ms; lws adds the jitter.
  for (std::uint32_t ms = std::max<std::uint32_t>(c.reconnect_min_ms, 1); ; ms *= 2) {
    retry_table_.push_back(std::min(ms, c.reconnect_max_ms));
    if (ms >= c.reconnect_max_ms || retry_table_.size() >= 16) break;
  }
  retry_.retry_ms_table = retry_table_.data();
  retry_.retry_ms_table_count = static_cast<std::uint16_t>(retry_table_.size());
  retry_.conceal_count = LWS_RETRY_CONCEAL_ALWAYS;
  // No lws validity timer: to lws a data connection is an HTTP client, which it cannot ping, so
  // a hang-up time would close healthy connections. The WebSocket keepalive is ours (tick()).
  retry_.secs_since_valid_ping = 0;
  retry_.secs_since_valid_hangup = 0;
  retry_.jitter_percent = 30;
}

WsSession::~WsSession() { stop(); }

void WsSession::stop() {
  stopped_ = true;
  for (auto& c : conns_) {
    if (c->wsi != nullptr) {
      lws_set_opaque_user_data(c->wsi, nullptr);
      net::close_async(c->wsi);
    }
  }
  conns_.clear();
}

WsSession::Conn* WsSession::primary() const noexcept {
  for (const auto& c : conns_)
    if (!c->replacement && !c->closing) return c.get();
  return nullptr;
}

WsSession::Conn* WsSession::replacement() const noexcept {
  for (const auto& c : conns_)
    if (c->replacement && !c->closing) return c.get();
  return nullptr;
}

ConnState WsSession::state() const noexcept {
  if (stopped_) return ConnState::kClosed;
  if (names_.empty()) return ConnState::kIdle;
  const Conn* p = primary();
  if (p == nullptr) return ConnState::kBackoff;
  return p->established ? ConnState::kConnected : ConnState::kConnecting;
}

void WsSession::add_streams(const std::vector<std::string>& names) {
  std::vector<std::string> fresh;
  for (const auto& n : names)
    if (std::find(names_.begin(), names_.end(), n) == names_.end()) fresh.push_back(n);
  if (fresh.empty()) return;
  names_.insert(names_.end(), fresh.begin(), fresh.end());
  for (auto& c : conns_)
    if (c->established && !c->closing) queue_control(*c, true, fresh);
  // Connections still connecting asked for the old set: they subscribe the rest when up.
}

void WsSession::remove_streams(const std::vector<std::string>& names) {
  std::vector<std::string> gone;
  for (const auto& n : names) {
    const auto it = std::find(names_.begin(), names_.end(), n);
    if (it == names_.end()) continue;
    names_.erase(it);
    gone.push_back(n);
  }
  if (gone.empty()) return;
  for (auto& c : conns_)
    if (c->established && !c->closing) queue_control(*c, false, gone);
}

void WsSession::queue_control(Conn& c, bool subscribe, const std::vector<std::string>& topics) {
  for (auto& f : c.proto->control_frames(topics, subscribe, c.next_id))
    c.control.push_back({ws::Opcode::kText, std::move(f)});
}

void WsSession::connect(bool replacement_conn, std::int64_t mono_ms) {
  if (names_.empty() || stopped_) return;
  if (!host_.may_connect(mono_ms)) {
    next_connect_ms_ = mono_ms + 1000;
    return;
  }
  const auto& cfg = host_.feed_config();
  const net::Endpoint& ep = host_.ws_endpoint();
  auto c = std::make_unique<Conn>(cfg.max_message_bytes);
  c->owner = this;
  c->replacement = replacement_conn;
  c->started_ms = mono_ms;
  c->last_rx_ms = mono_ms;
  c->last_bytes_ms = mono_ms;
  c->proto = host_.spec().make_ws(cfg.max_message_bytes);

  // The venue decides how many topics ride in the URL; the rest are subscribed once up.
  std::size_t in_url = 0;
  const std::string path = ep.path_prefix + c->proto->connect_path(names_, in_url);
  if (in_url < names_.size())
    queue_control(*c, true, std::vector<std::string>(names_.begin() + static_cast<std::ptrdiff_t>(in_url), names_.end()));

  lws_client_connect_info ci{};
  ci.context = host_.context();
  ci.vhost = host_.vhost();
  ci.address = ep.host.c_str();
  ci.port = ep.port;
  ci.ssl_connection = LCCSCF_USE_SSL;  // verification always on: no ALLOW_* flag anywhere
  ci.ssl_connection |= LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
  ci.method = "GET";  // an HTTP client asking for the upgrade (see Conn)
  ci.alpn = "http/1.1";
  ci.path = path.c_str();
  ci.host = ep.host.c_str();  // Host, SNI and the certificate's host name
  ci.protocol = nullptr;
  ci.local_protocol_name = "mdfeed-ws";
  ci.retry_and_idle_policy = &retry_;
  ci.opaque_user_data = c.get();
  // No ci.pwsi: lws writes NULL through it after a failed connection's callback, when the Conn
  // has already been forgotten. The wsi comes from the return value and from callbacks.
  c->key = ws::make_key();
  Conn* raw = c.get();
  conns_.push_back(std::move(c));
  spdlog::debug("ws[{}:{}]: connecting to {}:{}{} ({} streams{})", cfg.name, id_, ep.host, ep.port,
                path.substr(0, 64), names_.size(), replacement_conn ? ", replacement" : "");
  lws* wsi = lws_client_connect_via_info(&ci);
  // A synchronous failure may already have gone through on_closed (then raw is gone).
  const bool still_here = std::any_of(conns_.begin(), conns_.end(), [raw](const auto& p) { return p.get() == raw; });
  if (!still_here) return;
  if (wsi == nullptr) {
    on_closed(*raw, "cannot start connection");
  } else {
    raw->wsi = wsi;
  }
}

void WsSession::rotate(const char* why) {
  if (replacement() != nullptr || primary() == nullptr || stopped_) return;
  spdlog::info("ws[{}:{}]: opening replacement connection ({})", host_.feed_config().name, id_, why);
  connect(true, net::mono_ms());
}

void WsSession::schedule_reconnect(std::int64_t mono_ms) {
  char conceal = 0;
  const unsigned delay = lws_retry_get_delay_ms(host_.context(), &retry_, &retry_count_, &conceal);
  next_connect_ms_ = mono_ms + static_cast<std::int64_t>(delay);
}

// The path is dead or the connection is abandoned: drop TCP now, no close handshake.
void WsSession::close_conn(Conn& c, std::string why) {
  last_error_ = why;
  c.close_why = std::move(why);
  c.closing = true;
  net::close_async(c.wsi);
}

// A close frame first, then TCP: failing the connection (RFC 6455 7.1.7), answering the server's
// close, or retiring a healthy connection. The server answers or echoes it and closes TCP (7.1.1);
// if it does not within kCloseGraceS, lws drops it. Dropping TCP right after the frame would lose
// it: with unread data (the rest of an oversized message) the kernel resets the connection.
// Reads stay on (no rx flow control): lws 4.1's h1 client serves POLLOUT only when not flow
// controlled, and reading is how the server's FIN closes the connection promptly; on_bytes()
// discards whatever arrives meanwhile.
void WsSession::send_close(Conn& c, std::uint16_t code) {
  if (c.closing) return;  // already going: a kill or a close frame is under way
  // A live primary that fails or is closed by the server is lost now, not when TCP goes: the
  // gap checks and the backoff start at once, and the next connection may open meanwhile.
  c.closing = true;  // first: report_loss() must not see it as a primary any more
  if (!c.replacement && !c.loss_reported) report_loss(c, c.close_why);
  c.close_code = code;
  lws_set_timeout(c.wsi, PENDING_TIMEOUT_USER_OK, kCloseGraceS);
  lws_callback_on_writable(c.wsi);
}

// Updates may have been missed until another connection carries data: check for gaps.
void WsSession::report_loss(Conn& c, const std::string& why) {
  c.loss_reported = true;
  if (!why.empty()) last_error_ = why;
  ++stats_.reconnects;
  spdlog::warn("ws[{}:{}]: connection lost ({}){}", host_.feed_config().name, id_, why.empty() ? "closed" : why,
               replacement() != nullptr ? ", replacement takes over" : ", reconnecting");
  host_.on_connection_lost(names_);
  if (primary() == nullptr && replacement() == nullptr) schedule_reconnect(net::mono_ms());
}

void WsSession::tick(std::int64_t mono_ms) {
  if (stopped_) return;
  const auto& cfg = host_.feed_config();
  Conn* p = primary();
  if (p == nullptr && replacement() == nullptr && !names_.empty() && mono_ms >= next_connect_ms_) {
    connect(false, mono_ms);
    p = primary();
  }
  const auto stale_ms = static_cast<std::int64_t>(cfg.stale_after_s * 1000.0);
  const auto heartbeat_ms = static_cast<std::int64_t>(cfg.heartbeat_s * 1000.0);
  const auto pong_deadline_ms = static_cast<std::int64_t>(cfg.heartbeat_timeout_s * 1000.0);
  const std::int64_t gap = 1000 / std::max<std::uint32_t>(1, cfg.max_control_msgs_per_s);
  const auto keepalive_ping_ms = static_cast<std::int64_t>(cfg.ping_interval_s * 1000.0);
  const auto keepalive_hup_ms = static_cast<std::int64_t>(cfg.pong_timeout_s * 1000.0);
  for (auto& cp : conns_) {
    Conn& c = *cp;
    if (c.closing || c.wsi == nullptr) continue;
    if (!c.established) {
      if (mono_ms - c.started_ms > kConnectTimeoutMs) close_conn(c, "connect timeout");
      continue;
    }
    // Data staleness: the keepalive below proves the path, not that klines still flow.
    const std::int64_t since = c.has_data ? c.last_data_ms : c.established_ms;
    if (mono_ms - since > stale_ms) {
      spdlog::warn("ws[{}:{}]: no kline data for {} ms, reconnecting", cfg.name, id_, mono_ms - since);
      ++stats_.stale_reconnects;
      close_conn(c, "stale: no data for " + std::to_string((mono_ms - since) / 1000) + " s");
      continue;
    }
    // The venue's application heartbeat (OKX text ping, Bybit op:ping): an unanswered one
    // means the path is dead even if the WebSocket keepalive has not noticed yet.
    if (c.ping_since_ms >= 0 && mono_ms - c.ping_since_ms > pong_deadline_ms) {
      spdlog::warn("ws[{}:{}]: heartbeat unanswered for {} ms, reconnecting", cfg.name, id_, mono_ms - c.ping_since_ms);
      ++stats_.heartbeat_timeouts;
      close_conn(c, "heartbeat unanswered for " + std::to_string((mono_ms - c.ping_since_ms) / 1000) + " s");
      continue;
    }
    // The WebSocket keepalive: a ping after ping_interval_s with nothing received, a hang-up
    // after pong_timeout_s with nothing received (a pong, or anything else, proves the path).
    const std::int64_t quiet = mono_ms - c.last_bytes_ms;
    if (quiet >= keepalive_hup_ms) {
      spdlog::warn("ws[{}:{}]: keepalive: nothing received for {} ms (WebSocket ping unanswered), reconnecting",
                   cfg.name, id_, quiet);
      close_conn(c, "keepalive: nothing received for " + std::to_string(quiet / 1000) + " s");
      continue;
    }
    if (quiet >= keepalive_ping_ms && c.ws_ping_since_ms < 0) {
      c.control.push_front({ws::Opcode::kPing, std::to_string(mono_ms)});
      c.ws_ping_since_ms = mono_ms;
    }
    if (auto hb = c.proto->heartbeat(mono_ms, c.last_rx_ms, heartbeat_ms)) {
      c.control.push_front({ws::Opcode::kText, std::move(*hb)});  // ahead of queued subscriptions
      if (c.ping_since_ms < 0) c.ping_since_ms = mono_ms;
      ++stats_.heartbeats;
    }
    if (!c.control.empty() && mono_ms - c.last_control_ms >= gap) lws_callback_on_writable(c.wsi);
  }
  // Make before break ahead of the venue's connection lifetime (rotate_after_s 0: none).
  p = primary();
  if (cfg.rotate_after_s > 0 && p != nullptr && p->established && replacement() == nullptr &&
      mono_ms - p->established_ms >= static_cast<std::int64_t>(cfg.rotate_after_s * 1000.0))
    rotate("connection age limit");
}

void WsSession::on_established(Conn& c, std::int64_t mono_ms) {
  c.established = true;
  c.established_ms = mono_ms;
  if (!c.replacement) {
    connected_wall_ms_ = net::wall_ms();
    ever_connected_ = true;
    last_error_.clear();
  }
  spdlog::info("ws[{}:{}]: connected to {}:{}{} ({} streams)", host_.feed_config().name, id_,
               host_.ws_endpoint().host, host_.ws_endpoint().port, c.replacement ? " (replacement)" : "",
               names_.size());
  if (!c.control.empty()) lws_callback_on_writable(c.wsi);
}

// The upgrade request's own headers, after lws's request line and Host. lws 4.1 has just
// written "connection: close" for a client that does not pipeline: that line is taken back, as
// an upgrade request carries "Connection: Upgrade" (RFC 6455 4.1 item 6), and only if it is
// exactly what lws wrote.
int WsSession::append_upgrade_headers(Conn& c, char** p, std::size_t room) {
  static constexpr std::string_view kLwsConnClose = "connection: close\r\n";
  char* at = *p;
  if (std::string_view(at - kLwsConnClose.size(), kLwsConnClose.size()) == kLwsConnClose) {
    at -= kLwsConnClose.size();
    room += kLwsConnClose.size();
  }
  const std::string h = ws::upgrade_headers(c.key);
  if (h.size() > room) return -1;
  std::memcpy(at, h.data(), h.size());
  *p = at + h.size();
  return 0;
}

// The server's reply head, rebuilt from the headers lws parsed, checked by the same code as any
// reply (wire/websocket.hpp).
bool WsSession::on_upgrade_reply(Conn& c, lws* wsi) {
  std::string head = "HTTP/1.1 " + std::to_string(lws_http_client_http_response(wsi)) + " -\r\n";
  const auto add = [&](const char* name, lws_token_indexes t) {
    const int n = lws_hdr_total_length(wsi, t);
    if (n <= 0) return;
    std::string v(static_cast<std::size_t>(n) + 1, '\0');
    if (lws_hdr_copy(wsi, v.data(), n + 1, t) < 0) return;
    v.resize(static_cast<std::size_t>(n));
    head.append(name).append(": ").append(v).append("\r\n");
  };
  add("Upgrade", WSI_TOKEN_UPGRADE);
  add("Connection", WSI_TOKEN_CONNECTION);
  add("Sec-WebSocket-Accept", WSI_TOKEN_ACCEPT);
  add("Sec-WebSocket-Extensions", WSI_TOKEN_EXTENSIONS);
  add("Sec-WebSocket-Protocol", WSI_TOKEN_PROTOCOL);
  head.append("\r\n");
  const ws::HandshakeReply r = ws::check_handshake_reply(head, c.key);
  if (r.status != ws::HandshakeReply::Status::kAccepted) {
    c.close_why = r.error.empty() ? std::string("incomplete WebSocket upgrade reply") : r.error;
    return false;
  }
  // Read-ahead only now: during the handshake lws parses the reply from its own reads.
  if (!net::start_read_ahead(wsi)) spdlog::warn("ws[{}:{}]: no TLS object: reading without read-ahead", host_.feed_config().name, id_);
  on_established(c, net::mono_ms());
  return true;
}

void WsSession::on_bytes(Conn& c, const char* data, std::size_t len) {
  if (c.closing) return;  // going away: what it still sends is not used
  c.last_bytes_ms = net::mono_ms();
  c.ws_ping_since_ms = -1;
  if (!c.established) return;  // lws delivers no body before the reply's headers were accepted
  struct ReadDone {  // wake the rings' readers whatever happens in between
    SessionHost& host;
    ~ReadDone() { host.on_read_done(); }
  } done{host_};
  feed_frames(c, data, len);
}

void WsSession::feed_frames(Conn& c, const char* data, std::size_t len) {
  switch (c.dec.feed(data, len, c.sink)) {
    case ws::FrameDecoder::State::kOpen:
      return;
    case ws::FrameDecoder::State::kClosed:
      spdlog::info("ws[{}:{}]: {}", host_.feed_config().name, id_, c.peer_close);
      c.close_why = c.peer_close;
      send_close(c, c.close_code);
      return;
    case ws::FrameDecoder::State::kFailed:
      if (c.dec.fail_code() == ws::kCloseTooBig) {
        ++stats_.oversize;
        last_error_ = "message larger than max_message_bytes";
        c.close_why = "closed: message too big (1009)";
      } else {
        ++stats_.bad;
        last_error_ = "WebSocket protocol error: " + c.dec.fail_reason();
        c.close_why = "closed: " + c.dec.fail_reason() + " (" + std::to_string(c.dec.fail_code()) + ")";
      }
      spdlog::warn("ws[{}:{}]: {}", host_.feed_config().name, id_, c.close_why);
      send_close(c, c.dec.fail_code());
      return;
  }
}

void WsSession::on_message(Conn& c, char* data, std::size_t len, std::size_t capacity) {
  const std::int64_t now = net::mono_ms();
  ++stats_.messages;
  c.last_rx_ms = now;
  // The decoder keeps kParsePadding readable bytes past every message.
  on_event(c, c.proto->parse(data, len, capacity), now);
}

void WsSession::on_event(Conn& c, const venue::Event& e, std::int64_t now) {
  const auto& name = host_.feed_config().name;
  switch (e.kind) {
    case venue::EventKind::kKline:
      ++stats_.klines;
      c.last_data_ms = now;
      if (!c.has_data) {
        c.has_data = true;
        retry_count_ = 0;  // the backoff resets only once a connection really carries data
        if (c.replacement) promote(c);
      }
      host_.on_kline(e, now);
      break;
    case venue::EventKind::kTrade:
    case venue::EventKind::kIgnored:
      ++stats_.skipped;
      break;
    case venue::EventKind::kPong:
      c.ping_since_ms = -1;
      break;
    case venue::EventKind::kControlReply:
      if (!e.control.ok) {
        ++stats_.control_refused;
        last_error_ = "venue refused control request " + std::to_string(e.control.id) + ": " +
                      std::to_string(e.control.error_code) + " " + std::string(e.control.error_msg);
        spdlog::warn("ws[{}:{}]: {}", name, id_, last_error_);
      }
      break;
    case venue::EventKind::kShutdown:
      ++stats_.server_shutdowns;
      spdlog::info("ws[{}:{}]: the venue announced a shutdown ({})", name, id_, std::string(e.text));
      if (c.replacement) break;
      rotate("venue shutdown notice");
      break;
    case venue::EventKind::kNotice:
      spdlog::info("ws[{}:{}]: venue notice: {}", name, id_, std::string(e.text));
      break;
    case venue::EventKind::kError: {
      ++stats_.bad;
      static log::RateLimiter limiter;
      std::uint64_t suppressed = 0;
      if (limiter.allow(now, suppressed))
        spdlog::warn("ws[{}:{}]: dropped bad message ({}){}", name, id_, c.proto->last_error(),
                     suppressed > 0 ? fmt::format(" [{} more suppressed]", suppressed) : std::string());
      break;
    }
  }
}

// The replacement carries data: it takes over, and the old primary closes. Both delivered the
// same updates during the overlap; the bar book drops the duplicates.
void WsSession::promote(Conn& c) {
  for (auto& o : conns_) {
    if (o.get() == &c || o->replacement || o->closing) continue;
    o->close_why = "replaced";
    o->loss_reported = true;  // nothing is lost: the replacement carries the same streams
    if (o->wsi == nullptr) {
      o->closing = true;
    } else if (o->established) {
      send_close(*o, ws::kCloseNormal);
    } else {
      o->closing = true;
      net::close_async(o->wsi);
    }
  }
  c.replacement = false;
  connected_wall_ms_ = net::wall_ms();
  ++stats_.rotations;
  spdlog::info("ws[{}:{}]: replacement connection live, old one closing", host_.feed_config().name, id_);
}

int WsSession::on_writeable(Conn& c) {
  // A drain that stopped for OpenSSL to write (net::read_tls_stream) goes on now.
  if (!c.closing && net::tls_records_buffered(c.wsi) && net::read_tls_stream(c.wsi) < 0) return -1;
  if (c.close_code != 0) {
    if (c.close_sent) return 0;
    const bool ok = write_raw(c.wsi, masked(ws::Opcode::kClose, ws::close_payload(c.close_code, {})));
    c.close_sent = true;
    return ok ? 0 : -1;  // then the server closes TCP (the lws timeout backs that up)
  }
  if (c.control.empty() || c.closing || !c.established) return 0;
  const std::int64_t now = net::mono_ms();
  const std::int64_t gap = 1000 / std::max<std::uint32_t>(1, host_.feed_config().max_control_msgs_per_s);
  if (now - c.last_control_ms < gap) return 0;  // tick() asks again when the slot opens
  const OutFrame& f = c.control.front();
  if (!write_raw(c.wsi, masked(f.op, f.payload))) return -1;
  if (f.op == ws::Opcode::kText) ++stats_.control_sent;
  c.control.pop_front();
  c.last_control_ms = now;
  return 0;
}

void WsSession::on_closed(Conn& c, const std::string& why) {
  if (c.loss_reported) {  // accounted when we closed it (send_close)
    forget(c);
    return;
  }
  const bool was_primary = !c.replacement && !c.closing;
  const bool was_replaced = c.closing && !c.replacement;
  const std::int64_t now = net::mono_ms();
  if (!why.empty() && (was_primary || !c.established)) last_error_ = why;
  if (c.replacement && !c.has_data) {
    spdlog::warn("ws[{}:{}]: replacement connection failed: {}", host_.feed_config().name, id_, why);
  }
  forget(c);  // c is gone after this
  if (stopped_) return;
  if (was_replaced && primary() != nullptr) return;  // rotation finished normally
  if (was_primary || was_replaced) {
    // Updates may have been missed until another connection carries data: check for gaps.
    ++stats_.reconnects;
    spdlog::warn("ws[{}:{}]: connection lost ({}){}", host_.feed_config().name, id_, why.empty() ? "closed" : why,
                 replacement() != nullptr ? ", replacement takes over" : ", reconnecting");
    host_.on_connection_lost(names_);
  }
  if (primary() == nullptr && replacement() == nullptr) schedule_reconnect(now);
}

void WsSession::forget(Conn& c) {
  if (c.wsi != nullptr) lws_set_opaque_user_data(c.wsi, nullptr);
  conns_.erase(std::remove_if(conns_.begin(), conns_.end(), [&c](const auto& p) { return p.get() == &c; }),
               conns_.end());
}

void WsSession::note_tls_error(lws* wsi, const char* reason) {
  auto* u = wsi != nullptr ? static_cast<net::LwsUser*>(lws_get_opaque_user_data(wsi)) : nullptr;
  if (u == nullptr || u->kind != net::LwsUser::Kind::kWs || reason == nullptr) return;
  auto* c = static_cast<Conn*>(u);
  if (c->owner != nullptr) c->tls_error = reason;
}

int WsSession::lws_callback(lws* wsi, lws_callback_reasons reason, void* in, std::size_t len) {
  auto* u = static_cast<net::LwsUser*>(lws_get_opaque_user_data(wsi));
  if (u == nullptr || u->kind != net::LwsUser::Kind::kWs) return 0;
  auto* c = static_cast<Conn*>(u);
  if (c->owner == nullptr) return 0;
  WsSession& s = *c->owner;
  if (c->wsi == nullptr && reason != LWS_CALLBACK_CLIENT_CONNECTION_ERROR && reason != LWS_CALLBACK_CLOSED_CLIENT_HTTP)
    c->wsi = wsi;
  try {
    switch (reason) {
      case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        return s.append_upgrade_headers(*c, static_cast<char**>(in), len);
      case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        return s.on_upgrade_reply(*c, wsi) ? 0 : -1;  // -1: lws reports a connection error
      case LWS_CALLBACK_RECEIVE_CLIENT_HTTP:
        // The upgraded stream, read as the body of the 101 reply, every whole record there is.
        return net::read_tls_stream(wsi);
      case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
        // Never -1 from inside a TLS read: a failure closes from the writeable callback.
        s.on_bytes(*c, static_cast<const char*>(in), len);
        return 0;
      case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
        return s.on_writeable(*c);
      case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        std::string why = in != nullptr ? std::string(static_cast<const char*>(in), strnlen(static_cast<const char*>(in), 256))
                                        : std::string("connection error");
        if (!c->tls_error.empty()) why = "TLS certificate refused: " + c->tls_error;
        if (!c->close_why.empty()) why = c->close_why;  // our own verdict on the upgrade reply
        spdlog::warn("ws[{}:{}]: connection error: {}", s.host_.feed_config().name, s.id_, why);
        lws_set_opaque_user_data(wsi, nullptr);
        c->wsi = nullptr;
        s.on_closed(*c, why);
        return 0;
      }
      case LWS_CALLBACK_CLOSED_CLIENT_HTTP: {
        lws_set_opaque_user_data(wsi, nullptr);
        c->wsi = nullptr;
        std::string why = !c->close_why.empty() ? c->close_why
                          : c->established      ? "closed by the server without a close frame"
                                                : "closed by the server during the WebSocket handshake";
        if (!c->tls_error.empty() && !c->established) why = "TLS certificate refused: " + c->tls_error;
        s.on_closed(*c, why);
        return 0;
      }
      default:
        return 0;
    }
  } catch (const std::exception& e) {
    spdlog::error("ws: {}", e.what());  // nothing crosses an lws callback
    return -1;
  }
}

}  // namespace mdfeed
