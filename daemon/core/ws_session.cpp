// WebSocket feed session: connect, subscribe, reassemble, parse, dispatch, and keep it so.
#include "core/ws_session.hpp"

#include <algorithm>
#include <cstring>

#include "core/logging.hpp"
#include "core/net.hpp"

namespace mdfeed {

SessionHost::~SessionHost() = default;

namespace {

constexpr std::int64_t kConnectTimeoutMs = 20'000;

}  // namespace

struct WsSession::Conn : net::LwsUser {
  Conn() : LwsUser(Kind::kWs) {}
  WsSession* owner = nullptr;
  std::string tls_error;  // verification failure reason, if the handshake was refused
  lws* wsi = nullptr;
  bool replacement = false;
  bool established = false;
  bool has_data = false;
  bool closing = false;
  std::int64_t started_ms = 0;
  std::int64_t established_ms = 0;
  std::int64_t last_data_ms = 0;
  std::int64_t last_rx_ms = 0;  // anything at all, for the venue's heartbeat
  std::int64_t last_control_ms = -1'000'000;
  std::int64_t ping_since_ms = -1;  // an application heartbeat is awaiting its pong since then
  std::int64_t next_id = 1;         // control request ids on this connection
  std::vector<char> buf;  // reassembly; capacity max_message_bytes + padding
  std::size_t len = 0;
  bool overflow = false;
  std::unique_ptr<venue::WsProtocol> proto;
  std::deque<std::string> control;  // frames waiting for their pacing slot (heartbeats first)
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
  // lws hangs up without ever pinging unless hangup > ping (docs/design.md, lws notes).
  retry_.secs_since_valid_ping = static_cast<std::uint16_t>(std::max(1.0, c.ping_interval_s));
  retry_.secs_since_valid_hangup = static_cast<std::uint16_t>(
      std::max<double>(c.pong_timeout_s, retry_.secs_since_valid_ping + 1.0));
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
  for (auto& f : c.proto->control_frames(topics, subscribe, c.next_id)) c.control.push_back(std::move(f));
}

void WsSession::connect(bool replacement_conn, std::int64_t mono_ms) {
  if (names_.empty() || stopped_) return;
  if (!host_.may_connect(mono_ms)) {
    next_connect_ms_ = mono_ms + 1000;
    return;
  }
  const auto& cfg = host_.feed_config();
  const net::Endpoint& ep = host_.ws_endpoint();
  auto c = std::make_unique<Conn>();
  c->owner = this;
  c->replacement = replacement_conn;
  c->started_ms = mono_ms;
  c->last_rx_ms = mono_ms;
  c->buf.resize(cfg.max_message_bytes + venue::kParsePadding);
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
  ci.path = path.c_str();
  ci.host = ep.host.c_str();
  ci.origin = ep.host.c_str();
  ci.protocol = nullptr;
  ci.local_protocol_name = "mdfeed-ws";
  ci.retry_and_idle_policy = &retry_;
  ci.opaque_user_data = c.get();
  // No ci.pwsi: lws writes NULL through it after a failed connection's callback, when the Conn
  // has already been forgotten. The wsi comes from the return value and from callbacks.
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

void WsSession::close_conn(Conn& c, std::string why) {
  last_error_ = std::move(why);
  c.closing = true;
  net::close_async(c.wsi);
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
  for (auto& cp : conns_) {
    Conn& c = *cp;
    if (c.closing || c.wsi == nullptr) continue;
    if (!c.established) {
      if (mono_ms - c.started_ms > kConnectTimeoutMs) close_conn(c, "connect timeout");
      continue;
    }
    // Data staleness is our own timer: lws only counts pongs as validity.
    const std::int64_t since = c.has_data ? c.last_data_ms : c.established_ms;
    if (mono_ms - since > stale_ms) {
      spdlog::warn("ws[{}:{}]: no kline data for {} ms, reconnecting", cfg.name, id_, mono_ms - since);
      ++stats_.stale_reconnects;
      close_conn(c, "stale: no data for " + std::to_string((mono_ms - since) / 1000) + " s");
      continue;
    }
    // The venue's application heartbeat (OKX text ping, Bybit op:ping): an unanswered one
    // means the path is dead even if lws's own keepalive has not noticed yet.
    if (c.ping_since_ms >= 0 && mono_ms - c.ping_since_ms > pong_deadline_ms) {
      spdlog::warn("ws[{}:{}]: heartbeat unanswered for {} ms, reconnecting", cfg.name, id_, mono_ms - c.ping_since_ms);
      ++stats_.heartbeat_timeouts;
      close_conn(c, "heartbeat unanswered for " + std::to_string((mono_ms - c.ping_since_ms) / 1000) + " s");
      continue;
    }
    if (auto hb = c.proto->heartbeat(mono_ms, c.last_rx_ms, heartbeat_ms)) {
      c.control.push_front(std::move(*hb));  // ahead of queued subscriptions
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

void WsSession::on_receive(Conn& c, const char* data, std::size_t len, bool first, bool final) {
  if (first) {
    c.len = 0;
    c.overflow = false;
  }
  const std::size_t max = host_.feed_config().max_message_bytes;
  if (c.overflow || c.len + len > max) {
    c.overflow = true;
    return;
  }
  std::memcpy(c.buf.data() + c.len, data, len);
  c.len += len;
  if (final) on_message(c);
}

void WsSession::on_message(Conn& c) {
  const std::int64_t now = net::mono_ms();
  ++stats_.messages;
  c.last_rx_ms = now;
  // The buffer always has kParsePadding bytes past the largest message.
  on_event(c, c.proto->parse(c.buf.data(), c.len, c.buf.size()), now);
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
    o->closing = true;
    if (o->wsi != nullptr) net::close_async(o->wsi);
  }
  c.replacement = false;
  connected_wall_ms_ = net::wall_ms();
  ++stats_.rotations;
  spdlog::info("ws[{}:{}]: replacement connection live, old one closing", host_.feed_config().name, id_);
}

int WsSession::on_writeable(Conn& c) {
  if (c.overflow) {
    static constexpr char kWhy[] = "message too big";
    unsigned char why[sizeof kWhy];
    std::memcpy(why, kWhy, sizeof kWhy);
    lws_close_reason(c.wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, why, sizeof kWhy - 1);
    return -1;
  }
  if (c.control.empty() || c.closing) return 0;
  const std::int64_t now = net::mono_ms();
  const std::int64_t gap = 1000 / std::max<std::uint32_t>(1, host_.feed_config().max_control_msgs_per_s);
  if (now - c.last_control_ms < gap) return 0;  // tick() asks again when the slot opens
  const std::string& m = c.control.front();
  std::vector<unsigned char> out(LWS_PRE + m.size());
  std::memcpy(out.data() + LWS_PRE, m.data(), m.size());
  if (lws_write(c.wsi, out.data() + LWS_PRE, m.size(), LWS_WRITE_TEXT) < static_cast<int>(m.size())) return -1;
  c.control.pop_front();
  c.last_control_ms = now;
  ++stats_.control_sent;
  return 0;
}

void WsSession::on_closed(Conn& c, const std::string& why) {
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
  if (c->wsi == nullptr && reason != LWS_CALLBACK_CLIENT_CONNECTION_ERROR && reason != LWS_CALLBACK_CLIENT_CLOSED)
    c->wsi = wsi;
  try {
    switch (reason) {
      case LWS_CALLBACK_CLIENT_ESTABLISHED:
        s.on_established(*c, net::mono_ms());
        return 0;
      case LWS_CALLBACK_CLIENT_RECEIVE:
        s.on_receive(*c, static_cast<const char*>(in), len, lws_is_first_fragment(wsi) != 0,
                     lws_is_final_fragment(wsi) != 0);
        if (c->overflow && !c->closing) {
          // Close with 1009 from the writeable callback, lws's safe place to hang up: returning
          // -1 from inside a TLS read corrupted lws 4.1's heap in our tests.
          ++s.stats_.oversize;
          s.last_error_ = "message larger than max_message_bytes";
          c->closing = true;
          lws_rx_flow_control(wsi, 0);
          lws_callback_on_writable(wsi);
        }
        return 0;
      case LWS_CALLBACK_CLIENT_WRITEABLE:
        return s.on_writeable(*c);
      case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        std::string why = in != nullptr ? std::string(static_cast<const char*>(in), strnlen(static_cast<const char*>(in), 256))
                                        : std::string("connection error");
        if (!c->tls_error.empty()) why = "TLS certificate refused: " + c->tls_error;
        spdlog::warn("ws[{}:{}]: connection error: {}", s.host_.feed_config().name, s.id_, why);
        lws_set_opaque_user_data(wsi, nullptr);
        c->wsi = nullptr;
        s.on_closed(*c, why);
        return 0;
      }
      case LWS_CALLBACK_CLIENT_CLOSED:
        lws_set_opaque_user_data(wsi, nullptr);
        c->wsi = nullptr;
        s.on_closed(*c, c->overflow ? "closed: message too big (1009)" : "closed by peer or keepalive");
        return 0;
      default:
        return 0;
    }
  } catch (const std::exception& e) {
    spdlog::error("ws: {}", e.what());  // nothing crosses an lws callback
    return -1;
  }
}

}  // namespace mdfeed
