// WebSocket side of the fake exchange: handshake and stream lists, client control messages and
// their rate limit, and the pull-based writer (replies and fault frames first, then replay
// lines or klines round-robin, one frame per writeable callback).
#include <cstring>

#include "fake_exchange/control.hpp"
#include "fake_exchange/market.hpp"
#include "fake_exchange/probe.hpp"
#include "fake_exchange/server_impl.hpp"
#include "fake_exchange/wire.hpp"

namespace mdfeed::fake::detail {

// The upgrade request: decide now (the headers are gone after ESTABLISHED). The first venue
// that owns the path (venues/registry.cpp) speaks on this connection.
int Server::on_handshake(lws* wsi, SessionData* pss) {
  ++stats_.conn_attempts;
  auto reject = [this](const std::string& why) {
    ++stats_.conn_rejected;
    emit("conn reject reason=" + why);
    return 1;
  };
  if (mono_us() < outage_until_us_) return reject("outage");

  std::vector<char> buf(kMaxUrlBytes + 1);
  if (lws_hdr_copy(wsi, buf.data(), static_cast<int>(buf.size()), WSI_TOKEN_GET_URI) < 0)
    return reject("bad-path");
  auto c = std::make_unique<Connection>();
  c->path = buf.data();
  const QueryArgs args = read_query_args(wsi);
  std::optional<WsHandshake> h;
  for (const auto& v : venues_) {
    if ((h = v->ws_handshake(c->path, args))) {
      c->venue = v.get();
      break;
    }
  }
  if (!h) return reject("bad-path");
  if (!h->reject.empty()) return reject(h->reject);
  c->rules = c->venue->ws_rules();
  c->update_us = update_ms_for(opts_, c->venue->name()) * 1000;
  c->silent = h->silent;
  c->combined = h->combined;
  c->initial_streams = std::move(h->streams);
  if (pss->conn_id) conns_.erase(pss->conn_id);  // a repeated filter call must not leak a record
  c->id = ++next_id_;
  pss->conn_id = c->id;
  conns_[c->id] = std::move(c);
  return 0;
}

int Server::on_established(lws* wsi, SessionData* pss) {
  Connection* c = pss->conn_id ? find(pss->conn_id) : nullptr;
  if (!c) return -1;  // no handshake record: cannot happen with lws 4.1, refuse rather than guess
  const std::int64_t now = mono_us();
  c->wsi = wsi;
  c->established = true;
  c->opened_us = now;
  c->last_activity_us = now;
  c->next_update_us = now + c->update_us;
  if (replay_) c->replay_next = replay_->due_count(now - replay_start_us_);
  ++stats_.conn_opened;
  const std::vector<std::string> names = std::move(c->initial_streams);
  c->initial_streams.clear();
  emit("conn open id=" + std::to_string(c->id) + " path=" + printable(c->path) +
       " streams=" + std::to_string(names.size()) + " active=" + std::to_string(active()) +
       " venue=" + std::string(c->venue->name()) + (c->silent ? " silent=1" : ""));
  for (const std::string& n : names) add_subscription(*c, n, sim_now(now));
  if (deaf_active_) {
    c->flow_off = true;
    lws_rx_flow_control(wsi, 0);
  }
  lws_callback_on_writable(wsi);
  return 0;
}

void Server::forget_http(SessionData* pss) {
  if (!pss || !pss->http) return;
  delete pss->http;
  pss->http = nullptr;
}

// Frees what a closing wsi owned; called on CLOSED and WSI_DESTROY, idempotent.
void Server::forget(SessionData* pss) {
  if (!pss) return;
  forget_http(pss);
  if (!pss->conn_id) return;
  const auto it = conns_.find(pss->conn_id);
  pss->conn_id = 0;
  if (it == conns_.end()) return;
  if (it->second->established) {
    ++stats_.conn_closed;
    const std::uint64_t id = it->second->id;
    const std::uint64_t sent = it->second->sent;
    conns_.erase(it);
    emit("conn close id=" + std::to_string(id) + " sent=" + std::to_string(sent) +
         " active=" + std::to_string(active()));
    return;
  }
  conns_.erase(it);
}

int Server::on_receive(Connection& c, const char* in, std::size_t len) {
  if (c.rx.size() + len > static_cast<std::size_t>(opts_.max_message_bytes)) {
    ++stats_.rx_too_large;
    emit("rx-too-large id=" + std::to_string(c.id));
    lws_close_reason(c.wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, nullptr, 0);
    return -1;
  }
  c.rx.append(in, len);
  // Messages arrive in pieces (fragments, and frames larger than the rx buffer).
  if (!lws_is_final_fragment(c.wsi) || lws_remaining_packet_payload(c.wsi) > 0) return 0;
  const std::string message = std::move(c.rx);
  c.rx.clear();
  if (!note_incoming(c)) return -1;
  if (!c.silent) handle_message(c, message, lws_frame_is_binary(c.wsi));
  lws_callback_on_writable(c.wsi);
  return 0;
}

int Server::on_pong(Connection& c) { return note_incoming(c) ? 0 : -1; }

// Binance allows 5 incoming messages (text, ping, pong) per second per connection (USD-M 10)
// and disconnects above that; lws answers pings itself, so text, binary and pongs are counted.
// The limit is the venue's (WsRules); OKX and Bybit have none per second.
bool Server::note_incoming(Connection& c) {
  const std::int64_t now = mono_us();
  ++stats_.ctrl_msgs_received;
  c.rx_times_us.push_back(now);
  while (!c.rx_times_us.empty() &&
         (c.rx_times_us.front() <= now - 1'000'000 || c.rx_times_us.size() > kMaxRateWindow))
    c.rx_times_us.pop_front();
  const auto rate = static_cast<std::uint64_t>(c.rx_times_us.size());
  stats_.max_ctrl_msgs_per_s = std::max(stats_.max_ctrl_msgs_per_s, rate);
  if (c.rules.ctrl_limit_per_s <= 0 ||
      rate <= static_cast<std::uint64_t>(c.rules.ctrl_limit_per_s))
    return true;
  ++stats_.ctrl_rate_exceeded;
  emit("ctrl-rate-exceeded id=" + std::to_string(c.id) + " count=" + std::to_string(rate));
  static const char kWhy[] = "too many messages per second";
  lws_close_reason(c.wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                   reinterpret_cast<unsigned char*>(const_cast<char*>(kWhy)), sizeof(kWhy) - 1);
  return false;
}

// One client message, answered by the connection's venue. Application pings are answered
// from a queue of their own (sent even during a stall, withheld by ignore-pings), and only an
// answered ping counts as activity for the venue's idle close.
void Server::handle_message(Connection& c, std::string_view message, bool binary) {
  std::vector<std::string> topics;
  topics.reserve(c.subs.size());
  for (const Subscription& s : c.subs) topics.push_back(s.name);
  const WsConnView view{c.id, c.path, c.combined, &topics};
  WsAction a = c.venue->on_message(view, message, binary, parser_);
  const std::int64_t now = mono_us();
  if (!a.unsubscribe.empty()) {
    c.subs.erase(std::remove_if(c.subs.begin(), c.subs.end(),
                                [&](const Subscription& s) {
                                  return std::find(a.unsubscribe.begin(), a.unsubscribe.end(),
                                                   s.name) != a.unsubscribe.end();
                                }),
                 c.subs.end());
    c.rr = 0;
  }
  for (std::string& n : a.subscribe) add_subscription(c, std::move(n), sim_now(now));
  if (a.set_combined) c.combined = *a.set_combined;
  for (std::string& r : a.replies) queue(c, std::move(r));
  if (!a.log.empty()) emit(a.log);
  if (!a.pong) {
    c.last_activity_us = now;
  } else if (now < ignore_pings_until_us_) {
    ++stats_.pings_ignored;
    emit("ping-ignored id=" + std::to_string(c.id));
  } else if (c.pongs.size() < kMaxQueuedReplies) {
    ++stats_.pings_answered;
    c.pongs.push_back(std::move(*a.pong));
  }
}

void Server::add_subscription(Connection& c, std::string name, std::int64_t sim_now_ms) {
  Subscription s{std::move(name), std::nullopt};
  const ParsedStream p = c.venue->parse_topic(s.name);
  if (p.kline && symbol_exists(p.kline->symbol)) s.cursor.emplace(*p.kline, sim_now_ms);
  c.subs.push_back(std::move(s));
}

void Server::queue(Connection& c, std::string message) {
  if (c.replies.size() >= kMaxQueuedReplies) {
    ++stats_.replies_dropped;
    return;
  }
  c.replies.push_back(std::move(message));
}

int Server::on_writeable(Connection& c) {
  const std::int64_t now = mono_us();
  // A requested close goes out once what is already queued (e.g. serverShutdown) has been sent.
  if (c.close_code > 0 && c.out.empty() && c.replies.empty()) {
    lws_close_reason(c.wsi, static_cast<lws_close_status>(c.close_code),
                     reinterpret_cast<unsigned char*>(c.close_reason.data()),
                     c.close_reason.size());
    return -1;
  }
  if (c.out.empty() && !c.pongs.empty() && now >= deaf_until_us_) {
    c.out = std::move(c.pongs.front());  // a stall keeps the heartbeat alive, deaf does not
    c.pongs.pop_front();
    c.frag_size = 0;
    c.out_is_kline = false;
  } else if (silenced(now)) {
    return 0;
  }
  if (c.out.empty() && !next_message(c, now)) return 0;
  if (write_frame(c) < 0) return -1;
  if (has_work(c, now)) lws_callback_on_writable(c.wsi);
  return 0;
}

// Picks the next message: replies and fault frames, then replay lines or klines.
bool Server::next_message(Connection& c, std::int64_t now_us) {
  c.frag_size = 0;
  c.out_is_kline = false;
  if (c.silent) return false;
  if (!c.replies.empty()) {
    c.out = std::move(c.replies.front());
    c.replies.pop_front();
    return true;
  }
  if (c.garbage_left > 0) {
    // Junk that names a subscribed stream reaches the client's kline parser, not just its router.
    const auto sub = std::find_if(c.subs.begin(), c.subs.end(),
                                  [](const Subscription& s) { return s.cursor.has_value(); });
    const StreamKey key = sub != c.subs.end() ? sub->cursor->key() : StreamKey{"BTCUSDT", "1m"};
    c.out = garbage_frame(c.garbage_seq++, key, sim_now(now_us));
    --c.garbage_left;
    ++stats_.garbage_sent;
    return true;
  }
  if (replay_) {
    const std::uint64_t due = replay_->due_count(now_us - replay_start_us_);
    if (due - c.replay_next > replay_->lines()) {  // a whole loop behind: skip ahead
      stats_.replay_lines_skipped += due - replay_->lines() - c.replay_next;
      c.replay_next = due - replay_->lines();
    }
    if (c.replay_next >= due) return false;
    c.out = replay_->payload(c.replay_next++);
    ++stats_.replay_lines_sent;
    return true;
  }
  return next_kline(c, sim_now(now_us));
}

// Round-robin over the subscriptions; suppressed closes are consumed silently (bounded).
bool Server::next_kline(Connection& c, std::int64_t sim_now_ms) {
  const std::size_t n = c.subs.size();
  std::size_t idle = 0;
  std::size_t i = c.rr;
  for (std::size_t budget = n + kMaxSuppressedPerWrite; budget > 0 && idle < n; --budget) {
    Subscription& s = c.subs[i % n];
    if (!s.cursor) {
      ++idle;
      ++i;
      continue;
    }
    const Emit e = s.cursor->next(sim_now_ms, opts_.flood, skips_);
    if (e.kind == EmitKind::kNone) {
      ++idle;
      ++i;
      continue;
    }
    const StreamKey& key = s.cursor->key();
    if (e.kind == EmitKind::kSuppressedClose) {
      ++stats_.kline_closes_suppressed;
      emit("close-suppressed id=" + std::to_string(c.id) + " stream=" + s.name +
           " open=" + std::to_string(e.open_ms));
      idle = 0;
      continue;
    }
    const bool closed = e.kind == EmitKind::kClose;
    BarUnits bar = closed ? truth_units(key.symbol, key.interval, e.open_ms)
                          : forming_units(key.symbol, key.interval, e.open_ms, sim_now_ms);
    if (opts_.flood) bar.last_trade_id = static_cast<std::int64_t>(++c.flood_seq);
    if (opts_.latency_probe && !closed && c.rules.kline_probe)  // stamped right before sending
      c.out = probe_kline_message(key.symbol, key.interval, sim_now_ms, e.open_ms,
                                  opts_.flood ? c.flood_seq : ++c.flood_seq, probe_now_ns(),
                                  c.combined);
    else
      c.out = c.venue->kline_push(s.name, key, sim_now_ms, bar, closed, c.combined);
    c.out_is_kline = true;
    if (fragment_ && c.out.size() >= kFragmentsPerMessage)
      c.frag_size = (c.out.size() + kFragmentsPerMessage - 1) / kFragmentsPerMessage;
    ++(closed ? stats_.kline_closes_sent : stats_.kline_updates_sent);
    c.rr = (i + 1) % n;
    return true;
  }
  return false;
}

// Writes one frame of c.out: the whole message, or the next fragment in fragment mode.
int Server::write_frame(Connection& c) {
  const std::size_t remaining = c.out.size() - c.out_offset;
  const std::size_t chunk = c.frag_size ? std::min(remaining, c.frag_size) : remaining;
  const bool first = c.out_offset == 0;
  const bool last = chunk == remaining;
  int flags = LWS_WRITE_TEXT;
  if (c.frag_size) {
    flags = first ? LWS_WRITE_TEXT : LWS_WRITE_CONTINUATION;
    if (!last) flags |= LWS_WRITE_NO_FIN;
  }
  if (tx_buf_.size() < LWS_PRE + chunk) tx_buf_.resize(LWS_PRE + chunk);
  std::memcpy(tx_buf_.data() + LWS_PRE, c.out.data() + c.out_offset, chunk);
  const int n =
      lws_write(c.wsi, tx_buf_.data() + LWS_PRE, chunk, static_cast<lws_write_protocol>(flags));
  if (n < 0 || static_cast<std::size_t>(n) < chunk) return -1;
  c.out_offset += chunk;
  stats_.ws_bytes_sent += chunk;
  if (last) {
    c.last_activity_us = mono_us();
    c.out.clear();
    c.out_offset = 0;
    ++c.sent;
    ++stats_.ws_messages_sent;
  }
  return 0;
}

bool Server::has_work(const Connection& c, std::int64_t now_us) const {
  if (c.close_code > 0) return true;
  if (!c.pongs.empty() && now_us >= deaf_until_us_) return true;
  if (c.silent) return false;
  if (silenced(now_us)) return false;
  if (!c.out.empty() || !c.replies.empty() || c.garbage_left > 0) return true;
  if (replay_) return c.replay_next < replay_->due_count(now_us - replay_start_us_);
  const std::int64_t sim = sim_now(now_us);
  return std::any_of(c.subs.begin(), c.subs.end(), [&](const Subscription& s) {
    return s.cursor && (opts_.flood || s.cursor->update_due() || s.cursor->close_owed(sim));
  });
}

void Server::request_close(Connection& c, int code, std::string reason, std::int64_t now_us) {
  if (c.close_code > 0) return;
  c.close_code = code;
  c.close_reason = std::move(reason);
  c.kill_at_us = now_us + kCloseGraceUs;
  lws_callback_on_writable(c.wsi);
}

}  // namespace mdfeed::fake::detail
