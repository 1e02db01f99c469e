// The fake exchange server: start-up, the lws callback dispatch and the periodic cron. All state
// lives on the lws service thread; the only cross-thread entry is the command inbox
// (input_thread.hpp), drained on LWS_CALLBACK_EVENT_WAIT_CANCELLED and on every tick.
//
// Nothing is queued per kline: each subscription is a StreamCursor that knows which closes it
// still owes, and a writeable callback pulls the next owed message (server_ws.cpp). Memory stays
// bounded however fast the simulated clock runs or however slowly a client reads, and no bar is
// ever skipped.
#include "fake_exchange/server.hpp"

#include <openssl/ssl.h>

#include <cstdio>
#include <cstring>
#include <fstream>

#include "fake_exchange/server_impl.hpp"

namespace mdfeed::fake {
namespace detail {
namespace {

const lws_protocols kProtocols[] = {
    {"mdfeed-fake-exchange", &Server::callback, sizeof(SessionData), 16 * 1024, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},  // lws 4.1 has no LWS_PROTOCOL_LIST_TERM
};

}  // namespace

// ------------------------------------------------------------------------------------------------
// Start-up

int Server::run() {
  if (!load_replay() || !create_context()) return 1;
  if (!opts_.ca_file.empty())
    emit("cert-check " + certificate_verdict(opts_.cert_file, opts_.ca_file));
  for (const std::string& f : opts_.faults) apply_command(f);

  InputThread input(
      inbox_, stop_, [this] { lws_cancel_service(ctx_); }, opts_.exit_on_stdin_eof);
  input.start();
  tick_.self = this;
  lws_sul_schedule(ctx_, 0, &tick_.sul, &Server::on_tick, tick_us_);
  if (!announce_ready()) {
    input.shutdown();
    return 1;
  }
  while (!stop_.load()) {
    if (lws_service(ctx_, 0) < 0) break;
  }
  input.shutdown();  // before the context goes: the thread calls lws_cancel_service
  lws_context_destroy(ctx_);
  ctx_ = nullptr;
  emit("stats " + stats_.json(active(), inbox_.dropped()));
  return 0;
}

bool Server::load_replay() {
  if (opts_.replay_file.empty()) return true;
  std::ifstream in(opts_.replay_file);
  std::string error;
  if (!in || !parse_capture(in, capture_, error)) {
    std::fprintf(stderr, "mdfeed-fake-exchange: --replay %s: %s\n", opts_.replay_file.c_str(),
                 in ? error.c_str() : "cannot open");
    return false;
  }
  replay_.emplace(capture_, opts_.replay_speed);
  replay_start_us_ = mono_us();
  // The exchange clock (E of our own messages, /api/v3/time, REST history) starts where the
  // capture does, so REST backfill and the replayed klines belong to the same era.
  if (!opts_.start_ms_set) {
    opts_.start_ms = capture_.first_recv_ms;
    if (!opts_.history_start_set)
      opts_.history_start_ms = std::max<std::int64_t>(0, opts_.start_ms - kDefaultHistoryMs);
    clock_ = SimClock(opts_.start_ms, opts_.speed, replay_start_us_);
  }
  return true;
}

bool Server::create_context() {
  lws_set_log_level(opts_.verbose ? (LLL_ERR | LLL_WARN | LLL_NOTICE) : (LLL_ERR | LLL_WARN),
                    nullptr);
  // Binance pings every 20 s and hangs up after a minute without a pong; lws does the same for
  // us once the vhost has an idle policy (secs_since_valid_hangup > _ping, or no ping at all).
  const auto ping = static_cast<std::uint16_t>(opts_.ping_secs > 0 ? opts_.ping_secs : 0xffff);
  ping_policy_.secs_since_valid_ping = ping;
  ping_policy_.secs_since_valid_hangup = static_cast<std::uint16_t>(
      std::min<int>(0xffff, opts_.ping_secs > 0 ? 3 * opts_.ping_secs : 0xffff));
  ping_policy_.conceal_count = LWS_RETRY_CONCEAL_ALWAYS;

  lws_context_creation_info info;
  std::memset(&info, 0, sizeof(info));
  info.port = opts_.port;
  info.iface = "127.0.0.1";
  info.protocols = kProtocols;
  info.vhost_name = kVhostName;
  info.server_string = kVhostName;
  info.user = this;
  info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_DISABLE_IPV6 |
                 LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
  info.ssl_cert_filepath = opts_.cert_file.c_str();
  info.ssl_private_key_filepath = opts_.key_file.c_str();
  info.alpn = opts_.alpn.c_str();
  info.retry_and_idle_policy = &ping_policy_;
  info.max_http_header_data = static_cast<unsigned short>(kMaxUrlBytes);

  // TLS versions outside [min, max] are switched off. TLS < 1.2 signs with SHA-1, which
  // OpenSSL 3 allows only at security level 0: lowered here, on this test server, and never in
  // the client (which must refuse such a server).
  const int lo = tls_version_index(opts_.tls_min);
  const int hi = tls_version_index(opts_.tls_max);
  const std::uint64_t no_version[] = {SSL_OP_NO_TLSv1, SSL_OP_NO_TLSv1_1, SSL_OP_NO_TLSv1_2,
                                      SSL_OP_NO_TLSv1_3};
  std::uint64_t ssl_options = 0;
  for (int v = 0; v < 4; ++v)
    if (v < lo || v > hi) ssl_options |= no_version[v];
  info.ssl_options_set = static_cast<long>(ssl_options);
  if (lo < 2) info.ssl_cipher_list = "DEFAULT:@SECLEVEL=0";

  ctx_ = lws_create_context(&info);
  if (!ctx_) {
    std::fprintf(stderr, "mdfeed-fake-exchange: cannot create the server (port %d, cert %s)\n",
                 opts_.port, opts_.cert_file.c_str());
    return false;
  }
  vhost_ = lws_get_vhost_by_name(ctx_, kVhostName);
  return vhost_ != nullptr;
}

bool Server::announce_ready() {
  const int port = lws_get_vhost_listen_port(vhost_);
  if (port <= 0) {
    std::fprintf(stderr, "mdfeed-fake-exchange: no listening port\n");
    return false;
  }
  const std::string content = "port=" + std::to_string(port) + "\n";
  if (!opts_.ready_file.empty()) {
    // Write then rename, so a test polling for the file never reads half of it.
    const std::string tmp = opts_.ready_file + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "w");
    const bool written = f && std::fputs(content.c_str(), f) >= 0;
    if (f) std::fclose(f);
    if (!written || std::rename(tmp.c_str(), opts_.ready_file.c_str()) != 0) {
      std::fprintf(stderr, "mdfeed-fake-exchange: cannot write %s\n", opts_.ready_file.c_str());
      return false;
    }
  }
  emit("ready port=" + std::to_string(port));
  return true;
}

// ------------------------------------------------------------------------------------------------
// lws callbacks

int Server::callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) {
  lws_context* ctx = wsi ? lws_get_context(wsi) : nullptr;
  auto* self = ctx ? static_cast<Server*>(lws_context_user(ctx)) : nullptr;
  if (!self) return lws_callback_http_dummy(wsi, reason, user, in, len);
  try {  // nothing may unwind through lws's C frames
    return self->dispatch(wsi, reason, static_cast<SessionData*>(user), in, len);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mdfeed-fake-exchange: callback %d: %s\n", static_cast<int>(reason),
                 e.what());
  } catch (...) {
    std::fprintf(stderr, "mdfeed-fake-exchange: callback %d: unknown exception\n",
                 static_cast<int>(reason));
  }
  return -1;
}

int Server::dispatch(lws* wsi, lws_callback_reasons reason, SessionData* pss, void* in,
                     size_t len) {
  Connection* c = pss && pss->conn_id ? find(pss->conn_id) : nullptr;
  switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
      ++stats_.tcp_accepts;
      return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
      return pss ? on_handshake(wsi, pss) : 1;
    case LWS_CALLBACK_ESTABLISHED:
      return pss ? on_established(wsi, pss) : -1;
    case LWS_CALLBACK_RECEIVE:
      return c ? on_receive(*c, static_cast<const char*>(in), len) : -1;
    case LWS_CALLBACK_RECEIVE_PONG:
      return c ? on_pong(*c) : 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: {
      // The client's close frame (RFC 6455 5.5.1): its status code, for the tests.
      const auto* p = static_cast<const unsigned char*>(in);
      const unsigned code = len >= 2 ? (static_cast<unsigned>(p[0]) << 8) | p[1] : 1005U;
      if (c) emit("peer-close id=" + std::to_string(c->id) + " code=" + std::to_string(code));
      return 0;  // lws echoes it and closes
    }
    case LWS_CALLBACK_SERVER_WRITEABLE:
      return c ? on_writeable(*c) : -1;
    case LWS_CALLBACK_CLOSED:
      forget(pss);
      return 0;
    case LWS_CALLBACK_CLOSED_HTTP:
      forget_http(pss);  // not the connection record: an upgrade in progress may own one
      return lws_callback_http_dummy(wsi, reason, pss, in, len);
    case LWS_CALLBACK_WSI_DESTROY:  // last call for every wsi, user space still intact
      forget(pss);
      return lws_callback_http_dummy(wsi, reason, pss, in, len);
    case LWS_CALLBACK_HTTP:
      return pss ? on_http(wsi, pss, static_cast<const char*>(in)) : -1;
    case LWS_CALLBACK_HTTP_WRITEABLE:
      return pss ? on_http_writeable(wsi, pss) : -1;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
      drain_commands();
      return 0;
    default:
      return lws_callback_http_dummy(wsi, reason, pss, in, len);
  }
}

// ------------------------------------------------------------------------------------------------
// Cron and commands

void Server::on_tick(lws_sorted_usec_list_t* sul) {
  Tick* t = lws_container_of(sul, Tick, sul);
  try {
    t->self->tick();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mdfeed-fake-exchange: tick: %s\n", e.what());
  }
  lws_sul_schedule(t->self->ctx_, 0, &t->self->tick_.sul, &Server::on_tick, t->self->tick_us_);
}

// Runs every tick_us_ on the service thread. In order, it:
//  1. applies queued stdin commands (also applied on lws_cancel_service wake-ups);
//  2. ends timed faults (stall, deaf, outage) and says so on stdout;
//  3. closes connections that are due: shutdown-event deadlines, max-conn-age, the venue's idle
//     rule (OKX, Bybit), and forced kills of closes that could not be written in the grace period;
//  4. marks forming updates due on connections whose update period has elapsed;
//  5. asks for a writeable callback on every connection with something to send.
void Server::tick() {
  drain_commands();
  const std::int64_t now = mono_us();
  end_timed_faults(now);
  for (auto& [id, cp] : conns_) {
    Connection& c = *cp;
    if (!c.established) continue;
    if (c.kill_at_us >= 0 && now >= c.kill_at_us) {
      c.kill_at_us = -1;
      ++stats_.conn_killed;
      kill_abruptly(c.wsi);
      continue;
    }
    if (c.close_at_us >= 0 && now >= c.close_at_us) {
      c.close_at_us = -1;
      request_close(c, LWS_CLOSE_STATUS_GOINGAWAY, "server shutdown", now);
    }
    if (max_conn_age_us_ > 0 && now - c.opened_us >= max_conn_age_us_)
      request_close(c, LWS_CLOSE_STATUS_GOINGAWAY, "connection max age", now);
    if (c.rules.idle_close_ms > 0 && c.close_code == 0 &&
        now - c.last_activity_us >= c.rules.idle_close_ms * 1000) {
      ++stats_.idle_closes;
      emit("idle-close id=" + std::to_string(c.id) + " venue=" + std::string(c.venue->name()));
      request_close(c, c.rules.idle_close_code, std::string(c.rules.idle_close_reason), now);
    }
    if (now >= c.next_update_us) {
      for (Subscription& s : c.subs)
        if (s.cursor) s.cursor->mark_update_due();
      c.next_update_us += c.update_us;
      if (c.next_update_us <= now) c.next_update_us = now + c.update_us;
    }
    if (has_work(c, now)) lws_callback_on_writable(c.wsi);
  }
}

}  // namespace detail

int run_server(const Options& options) {
  block_stop_signals();
  detail::Server server(options);
  return server.run();
}

}  // namespace mdfeed::fake
