// The service: context and vhost setup, streams (ring + book), feeds (sessions + REST), the
// periodic cron, reload and shutdown.
#include "core/service.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "core/logging.hpp"
#include "ops/metrics.hpp"
#include "ops/sd_notify.hpp"
#include "mdfeed/error.hpp"
#include "mdfeed/names.hpp"

namespace mdfeed {

namespace {

Service* g_service = nullptr;  // one per process; lws's TLS callbacks may come without a wsi

constexpr std::int64_t kCronMs = 100;
constexpr std::int64_t kSummaryMs = 60'000;
constexpr std::int64_t kReadyTimeoutMs = 30'000;

BookOptions book_options(const FeedConfig& c, const adapter::Adapter& ad) {
  BookOptions o;
  o.close_grace_ms = static_cast<std::int64_t>(c.close_grace_s * 1000.0);
  o.backfill_bars = c.backfill_bars;
  o.max_fetch_bars = static_cast<std::uint32_t>(ad.limits->max_klines_per_request);
  return o;
}

void lws_log_to_spdlog(int level, const char* line) {
  std::string_view s(line);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  if (level & LLL_ERR)
    spdlog::warn("lws: {}", s);
  else
    spdlog::debug("lws: {}", s);
}

}  // namespace

// --------------------------------------------------------------------------------------------
// Stream

Stream::Stream(Feed& f, std::string sym, std::string ivl, std::string stream_name, RingWriter w,
               BookOptions bo)
    : feed(f),
      symbol(std::move(sym)),
      interval(std::move(ivl)),
      name(std::move(stream_name)),
      ring(std::move(w)),
      sink(ring),
      book(interval, bo, sink) {}

// --------------------------------------------------------------------------------------------
// Feed

Feed::Feed(Service& s, FeedConfig c, const adapter::Adapter& ad, lws_vhost* vh)
    : svc(s),
      cfg(std::move(c)),
      adapter(ad),
      vhost(vh),
      ws_ep(net::parse_url(cfg.ws_url, "wss").value()),
      rest_ep(net::parse_url(cfg.rest_url, "https").value()),
      rest(s.context(), vh, RestClient::Options{rest_ep, static_cast<int>(cfg.rest_weight_per_min), 0.8, 4,
                                   static_cast<std::int64_t>(cfg.rest_timeout_s * 1000.0), 16u << 20}) {}

Feed::~Feed() { sessions.clear(); }

bool Feed::may_connect(std::int64_t mono_ms) {
  const auto& lim = *adapter.limits;
  while (!attempts_.empty() && attempts_.front() <= mono_ms - lim.connect_window_ms) attempts_.pop_front();
  // Stay well inside the venue's per-IP budget (Binance: 300 per 5 minutes).
  if (attempts_.size() >= static_cast<std::size_t>(lim.max_connect_attempts * 8 / 10)) return false;
  attempts_.push_back(mono_ms);
  return true;
}

void Feed::attach(Stream& s) {
  by_name[s.name] = &s;
  WsSession* target = nullptr;
  for (auto& ses : sessions)
    if (ses->stream_count() < cfg.max_streams_per_conn) {
      target = ses.get();
      break;
    }
  if (target == nullptr) {
    sessions.push_back(std::make_unique<WsSession>(*this, static_cast<int>(sessions.size())));
    target = sessions.back().get();
  }
  target->add_streams({s.name});
  s.session = target;
}

void Feed::detach(Stream& s) {
  if (s.session != nullptr) s.session->remove_streams({s.name});
  s.session = nullptr;
  by_name.erase(s.name);
}

void Feed::on_kline(adapter::KlineMsg& msg, std::int64_t mono_ms) {
  if (!msg.stream.empty()) {
    key_buf_.assign(msg.stream.data(), msg.stream.size());
  } else {
    key_buf_ = adapter.stream_name(msg.symbol, msg.interval);
  }
  const auto it = by_name.find(key_buf_);
  if (it == by_name.end()) return;  // unsubscribed a moment ago
  Stream& s = *it->second;
  clock.observe(msg.event_time_ms, mono_ms);
  s.last_update_ns = static_cast<std::uint64_t>(mono_ms) * 1'000'000ULL;
  s.book.on_stream_update(msg.bar, msg.event_time_ms);
  s.sink.flush();
  pump_fetch(s, mono_ms);
}

void Feed::on_connection_lost(const std::vector<std::string>& names) {
  for (const auto& n : names)
    if (const auto it = by_name.find(n); it != by_name.end()) it->second->book.on_reconnect();
}

void Feed::request_server_time(std::int64_t mono_ms) {
  if (time_requested || clock.known() || mono_ms < time_retry_ms) return;
  time_requested = true;
  rest.get(std::string(adapter.server_time_target), 1, [this](RestResponse&& r) {
    time_requested = false;
    const std::int64_t now = net::mono_ms();
    if (r.ok()) {
      if (auto t = adapter.parse_server_time(r.body)) {
        clock.observe(*t, now);
        return;
      }
    }
    time_retry_ms = now + 2000;
    spdlog::warn("rest[{}]: server time request failed: {}", cfg.name,
                 r.error.empty() ? "HTTP " + std::to_string(r.http_status) : r.error);
  });
}

void Feed::pump_fetch(Stream& s, std::int64_t mono_ms) {
  if (s.fetch_in_flight || !s.failure.empty()) return;
  auto req = s.book.next_fetch(clock, mono_ms);
  if (!req) return;
  s.fetch_in_flight = true;
  const int limit = static_cast<int>(std::clamp<std::uint32_t>(req->bar_count, 1, static_cast<std::uint32_t>(adapter.limits->max_klines_per_request)));
  std::string target = adapter.klines_target(s.symbol, s.interval, req->start_open_ms, req->end_open_ms, limit);
  Stream* sp = &s;
  const FetchRequest r0 = *req;
  rest.get(std::move(target), adapter.limits->klines_weight(limit), [this, sp, r0](RestResponse&& r) {
    Stream& st = *sp;
    st.fetch_in_flight = false;
    const std::int64_t now = net::mono_ms();
    std::vector<Bar> rows;
    adapter::RestResult pr;
    if (!r.error.empty()) {
      pr.status = adapter::RestStatus::kError;
      pr.message = r.error;
    } else if (r.http_status == 429 || r.http_status == 418) {
      pr.status = adapter::RestStatus::kApiError;
      pr.code = r.http_status;
      pr.message = "rate limited (HTTP " + std::to_string(r.http_status) + "), retry after " +
                   std::to_string(r.retry_after_ms) + " ms";
    } else {
      pr = adapter.parse_klines(r.body, rows);
      if (pr.ok() && r.http_status != 200) {
        pr.status = adapter::RestStatus::kError;
        pr.message = "HTTP " + std::to_string(r.http_status);
      }
    }
    if (pr.status == adapter::RestStatus::kInvalidSymbol) {
      st.failure = "invalid symbol: " + pr.message;
      st.book.mark_failed(st.failure);
      spdlog::error("stream {}:{}:{} failed: the exchange says {} ({}); other streams continue",
                    cfg.name, st.symbol, st.interval, pr.message, pr.code);
      return;
    }
    if (!pr.ok()) {
      ++st.rest_errors;
      st.book.on_fetch_failed(r0, now, r.retry_after_ms);
      static log::RateLimiter limiter;
      std::uint64_t suppressed = 0;
      if (limiter.allow(now, suppressed))
        spdlog::warn("rest[{}]: klines {} {} failed: {}{}", cfg.name, st.symbol, st.interval, pr.message,
                     suppressed > 0 ? fmt::format(" [{} more suppressed]", suppressed) : std::string());
      return;
    }
    st.book.on_fetch_result(r0, rows, now);
    st.sink.flush();
    pump_fetch(st, now);
  });
}

void Feed::tick(std::int64_t mono_ms) {
  request_server_time(mono_ms);
  for (auto& s : sessions) s->tick(mono_ms);
  for (auto& [name, s] : by_name) pump_fetch(*s, mono_ms);
  rest.pump(mono_ms);
}

// --------------------------------------------------------------------------------------------
// Service

Service::Service(Config cfg, ServiceOptions opt) : cfg_(std::move(cfg)), opt_(std::move(opt)) {
  g_service = this;
  std::random_device rd;
  instance_id_ = (static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^ static_cast<std::uint64_t>(getpid());
  if (instance_id_ == 0) instance_id_ = 1;
  for (const auto& f : cfg_.feeds)
    if (!f.ca_file.empty() &&
        std::find(extra_ca_files_.begin(), extra_ca_files_.end(), f.ca_file) == extra_ca_files_.end())
      extra_ca_files_.push_back(f.ca_file);
  try {
    init();
  } catch (...) {
    // The destructor does not run for a constructor that throws: release lws and OpenSSL
    // state here, so a start-up error (missing shm dir, full /dev/shm) exits cleanly.
    teardown();
    throw;
  }
}

void Service::init() {
  create_context();
  open_streams();
  std::uint32_t sessions = 0;
  for (const auto& f : feeds_) sessions += static_cast<std::uint32_t>(f->sessions.size());
  // Room for growth by reload; the writer replaces the file if it ever needs more.
  status_.emplace(status::StatusWriter::open(cfg_.shm_dir, sessions + 8,
                                             static_cast<std::uint32_t>(streams_.size()) + 64));
  status_->edit().daemon.config_path = opt_.config_path;
  status_->edit().daemon.instance_id = instance_id_;
  publish_status();
  start_metrics();
}

Service::~Service() { teardown(); }

void Service::teardown() noexcept {
  status_.reset();
  feeds_.clear();  // sessions and REST calls first: their callbacks point at streams
  streams_.clear();
  retired_.clear();
  if (ctx_ != nullptr) lws_context_destroy(ctx_);
  ctx_ = nullptr;
  g_service = nullptr;
}

namespace {

// Both protocols share one callback: it dispatches on the object behind the wsi (LwsUser).
const lws_protocols kProtocols[] = {
    {"mdfeed-ws", &Service::protocol_callback, 0, 0, 0, nullptr, 0},
    {"mdfeed-rest", &Service::protocol_callback, 0, 0, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},  // lws 4.1: no LWS_PROTOCOL_LIST_TERM
};

}  // namespace

void Service::create_context() {
  lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_to_spdlog);
  lws_context_creation_info info{};
  info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.user = this;
  info.pt_serv_buf_size = 16384;  // room for long stream URLs and venue headers
  ctx_ = lws_create_context(&info);
  if (ctx_ == nullptr) throw Error("mdfeed: cannot create the libwebsockets context");

  lws_context_creation_info vi{};
  vi.port = CONTEXT_PORT_NO_LISTEN;
  vi.protocols = kProtocols;
  vi.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  vi.vhost_name = "mdfeed-client";
  vi.user = this;
  // TLS 1.2 or better. Verification itself is lws's default and is never relaxed.
  vi.ssl_client_options_set = static_cast<long>(SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1);
  client_vh_ = lws_create_vhost(ctx_, &vi);
  if (client_vh_ == nullptr) throw Error("mdfeed: cannot create the client vhost (TLS setup failed?)");
}

Stream& Service::add_stream(Feed& f, const std::string& symbol, const std::string& interval) {
  RingWriter::Options ro;
  ro.shm_dir = cfg_.shm_dir;
  ro.feed = f.cfg.name;
  ro.symbol = symbol;
  ro.interval = interval;
  ro.capacity = cfg_.capacity;
  ro.instance_id = instance_id_;
  RingWriter w = RingWriter::open(ro);  // throws with path and reason (ENOSPC, EACCES...)
  const auto mode = w.open_mode();
  const auto last = w.last_closed();
  auto s = std::make_unique<Stream>(f, symbol, interval, f.adapter.stream_name(symbol, interval),
                                    std::move(w), book_options(f.cfg, f.adapter));
  if (last.has_value()) {
    s->book.resume_after(last->open_time_ms);
  } else {
    s->book.start_fresh();
  }
  spdlog::debug("ring {} {} ({} closed bars)", s->ring.path(), to_string(mode), s->ring.closed_count());
  Stream& ref = *s;
  streams_[StreamKey{f.cfg.name, symbol, interval}] = std::move(s);
  f.attach(ref);
  return ref;
}

void Service::open_streams() {
  std::size_t reused = 0;
  for (const auto& fc : cfg_.feeds) {
    const adapter::Adapter* ad = adapter::find_adapter(fc.exchange);
    if (ad == nullptr) throw Error("mdfeed: unknown exchange adapter '" + fc.exchange + "'");
    feeds_.push_back(std::make_unique<Feed>(*this, fc, *ad, client_vh_));
    Feed& f = *feeds_.back();
    for (const auto& sym : fc.symbols)
      for (const auto& ivl : fc.intervals) {
        Stream& s = add_stream(f, sym, ivl);
        if (s.ring.closed_count() > 0) ++reused;
      }
  }
  spdlog::info("{} rings ready in {} ({} resumed with history), {} connection(s) planned", streams_.size(),
               cfg_.shm_dir, reused, [this] {
                 std::size_t n = 0;
                 for (const auto& f : feeds_) n += f->sessions.size();
                 return n;
               }());
}

bool Service::retire_stream(const StreamKey& key) {
  auto it = streams_.find(key);
  if (it == streams_.end()) return false;
  Stream& s = *it->second;
  s.feed.detach(s);
  s.ring.set_state(WriterState::kRetired);
  s.retired = true;
  s.ring.notify();
  spdlog::info("stream {}:{}:{} removed; ring left readable, marked retired", key.feed, key.symbol, key.interval);
  retired_.push_back(std::move(it->second));
  streams_.erase(it);
  return true;
}

// Rewrites fc.symbols/intervals to the streams of that feed that are open now, in order.
void Service::running_streams(FeedConfig& fc) const {
  std::vector<std::string> syms, ivls;
  for (const auto& [k, s] : streams_) {
    if (k.feed != fc.name) continue;
    if (std::find(syms.begin(), syms.end(), k.symbol) == syms.end()) syms.push_back(k.symbol);
    if (std::find(ivls.begin(), ivls.end(), k.interval) == ivls.end()) ivls.push_back(k.interval);
  }
  fc.symbols = std::move(syms);
  fc.intervals = std::move(ivls);
}

void Service::request_stop() noexcept {
  stop_requested_ = true;
  if (ctx_ != nullptr) lws_cancel_service(ctx_);
}

void Service::request_reload() noexcept {
  reload_requested_ = true;
  if (ctx_ != nullptr) lws_cancel_service(ctx_);
}

void Service::handle_flags() {
  if (stop_requested_.exchange(false) && !stopping_) {
    stopping_ = true;
    ops::notify_stopping();
    spdlog::info("stopping");
  }
  if (reload_requested_.exchange(false) && !stopping_) reload();
}

int Service::protocol_callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len) {
  Service* self = g_service;
  switch (reason) {
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS: {
      // ca_file ADDS trust anchors: the system store stays loaded (lws loaded it already).
      auto* ctx = static_cast<SSL_CTX*>(user);
      if (self == nullptr || ctx == nullptr) return 0;
      SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
      for (const auto& ca : self->extra_ca_files_) {
        if (SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr) != 1) {
          spdlog::error("tls: cannot load CA file {}", ca);
          return 1;
        }
      }
      return 0;
    }
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
      if (self != nullptr) self->handle_flags();
      return 0;
    case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
      // Only observe: lws and OpenSSL decide. A refusal's real reason ("certificate has
      // expired", "unable to get local issuer certificate", "hostname mismatch") is kept for
      // the log and status instead of lws's generic "connect SSL err".
      // lws passes the X509_STORE_CTX as `user` and preverify_ok as `len`.
      if (len == 0 && user != nullptr) {
        auto* xs = static_cast<X509_STORE_CTX*>(user);
        WsSession::note_tls_error(wsi, X509_verify_cert_error_string(X509_STORE_CTX_get_error(xs)));
      }
      return 0;
    default:
      break;
  }
  const auto* u = wsi != nullptr ? static_cast<const net::LwsUser*>(lws_get_opaque_user_data(wsi)) : nullptr;
  if (u == nullptr) return 0;
  if (u->kind == net::LwsUser::Kind::kRest) return RestClient::lws_callback(wsi, static_cast<int>(reason), in, len);
  return WsSession::lws_callback(wsi, reason, in, len);
}

void Service::heartbeat_rings() {
  for (auto& [k, s] : streams_) s->ring.heartbeat();
}

bool Service::all_connected() const {
  for (const auto& f : feeds_)
    for (const auto& s : f->sessions)
      if (s->state() != ConnState::kConnected) return false;
  return true;
}

std::string Service::summary_line() const {
  std::size_t live = 0, failed = 0, conns_up = 0, conns = 0;
  std::uint64_t msgs = 0, bad = 0, reconnects = 0;
  for (const auto& [k, s] : streams_) {
    if (!s->failure.empty()) ++failed;
    else if (s->book.state() == BookState::kLive) ++live;
  }
  for (const auto& f : feeds_)
    for (const auto& s : f->sessions) {
      ++conns;
      if (s->state() == ConnState::kConnected) ++conns_up;
      msgs += s->stats().messages;
      bad += s->stats().bad;
      reconnects += s->stats().reconnects;
    }
  return fmt::format("{}/{} streams live, {} failed; {}/{} connections up; {} msgs, {} bad, {} reconnects",
                     live, streams_.size(), failed, conns_up, conns, msgs, bad, reconnects);
}

void Service::log_summary(std::int64_t mono_ms) {
  if (mono_ms - last_summary_ms_ < kSummaryMs) return;
  last_summary_ms_ = mono_ms;
  spdlog::info("summary: {}", summary_line());
}

void Service::cron() {
  const std::int64_t now = net::mono_ms();
  ++progress_;
  handle_flags();
  if (stopping_) return;
  for (auto& f : feeds_) f->tick(now);
  if (now - last_heartbeat_ms_ >= static_cast<std::int64_t>(cfg_.heartbeat_ms)) {
    last_heartbeat_ms_ = now;
    heartbeat_rings();
  }
  if (status_) status_->heartbeat();
  if (now - last_status_ms_ >= 250) {
    last_status_ms_ = now;
    publish_status();
  }
  notify_systemd(now);
  log_summary(now);
}

namespace {

status::StreamState to_status(const Stream& s) {
  if (s.retired) return status::StreamState::kRetired;
  if (!s.failure.empty()) return status::StreamState::kFailed;
  switch (s.book.state()) {
    case BookState::kBackfilling: return status::StreamState::kBackfilling;
    case BookState::kLive: return status::StreamState::kLive;
    case BookState::kGapFilling: return status::StreamState::kGapFilling;
    case BookState::kFailed: return status::StreamState::kFailed;
  }
  return status::StreamState::kPending;
}

status::StreamInfo stream_info(const Stream& s) {
  status::StreamInfo si;
  si.feed = s.feed.cfg.name;
  si.symbol = s.symbol;
  si.interval = s.interval;
  si.state = to_status(s);
  si.conn_id = s.session != nullptr ? static_cast<std::uint32_t>(s.session->id()) : 0;
  si.last_update_ns = s.last_update_ns;
  si.closed_bars = s.ring.closed_count();
  const BookCounters& c = s.book.counters();
  si.gaps_filled = c.gaps_detected;  // gap episodes (reconnects, jumps); backfill is not a gap
  si.late_closes = c.late_closes_fetched;
  si.dropped = c.duplicates_dropped + c.stale_dropped + c.out_of_order_dropped + c.missing_dropped;
  si.bad_messages = s.session != nullptr ? s.session->stats().bad : 0;  // per connection
  si.explicit_gaps = c.explicit_gaps;
  si.last_bar_open_ms = s.book.last_closed_open_ms().value_or(0);
  si.failure = s.failure;
  return si;
}

}  // namespace

// Every ~250 ms: one consistent snapshot for mdfeed-ctl and /metrics. Cheap (a few hundred
// bytes per stream) and off the message path.
void Service::publish_status() {
  if (!status_) return;
  status::Snapshot& snap = status_->edit();
  snap.daemon.summary = summary_line();
  snap.connections.clear();
  for (const auto& f : feeds_)
    for (const auto& ses : f->sessions) {
      status::ConnectionInfo ci;
      ci.feed = f->cfg.name;
      ci.id = static_cast<std::uint32_t>(ses->id());
      ci.state = ses->state();
      ci.streams = static_cast<std::uint32_t>(ses->stream_count());
      ci.connected_since_ms = ses->state() == ConnState::kConnected ? ses->connected_since_wall_ms() : 0;
      ci.reconnects = ses->stats().reconnects;
      ci.messages = ses->stats().messages;
      ci.last_error = ses->last_error();
      snap.connections.push_back(std::move(ci));
    }
  snap.streams.clear();
  for (const auto& [k, s] : streams_) snap.streams.push_back(stream_info(*s));
  for (const auto& s : retired_) snap.streams.push_back(stream_info(*s));
  if (!status_->publish()) {
    static log::RateLimiter limiter(std::chrono::seconds(60));
    std::uint64_t suppressed = 0;
    if (limiter.allow(net::mono_ms(), suppressed)) spdlog::warn("status: {}", status_->last_error());
  }
}

// READY=1 once every ring exists (done before run()) and a first connection is up, or after a
// timeout with STATUS= saying why. WATCHDOG=1 only from the cron, i.e. only while the service
// loop makes progress: a wedged loop stops the pings and systemd restarts us.
void Service::notify_systemd(std::int64_t mono_ms) {
  if (!ready_sent_) {
    bool connected = false;
    std::string why;
    for (const auto& f : feeds_)
      for (const auto& s : f->sessions) {
        if (s->ever_connected()) connected = true;
        if (why.empty() && !s->last_error().empty()) why = s->last_error();
      }
    if (connected) {
      ops::notify_ready(summary_line());
      ready_sent_ = true;
      spdlog::info("ready: {}", summary_line());
    } else if (mono_ms - start_mono_ms_ >= kReadyTimeoutMs) {
      ops::notify_ready("no exchange connection yet" + (why.empty() ? std::string() : ": " + why));
      ready_sent_ = true;
      spdlog::warn("ready without a connection after {} s: {}", kReadyTimeoutMs / 1000, why.empty() ? "no answer" : why);
    }
  }
  if (ready_sent_ && mono_ms - last_status_notify_ms_ >= 5000) {
    last_status_notify_ms_ = mono_ms;
    ops::notify_status(summary_line());
  }
  if (watchdog_us_ > 0 && mono_ms - last_watchdog_ms_ >= watchdog_us_ / 2000 && progress_ != last_watchdog_progress_) {
    last_watchdog_ms_ = mono_ms;
    last_watchdog_progress_ = progress_;
    ops::notify_watchdog();
  }
}

void Service::reload() {
  ops::notify_reloading();
  struct ReadyAgain {
    ~ReadyAgain() { ops::notify_ready(); }
  } ready_again;  // READY=1 whatever the outcome: the service keeps running either way
  spdlog::info("reload requested: re-reading {}", opt_.config_path);
  LoadResult lr = load_config_file(opt_.config_path);
  if (!lr.ok()) {
    for (const auto& e : lr.errors) spdlog::error("reload: {}", e.str());
    spdlog::error("reload rejected: {} error(s); the running configuration stays", lr.errors.size());
    return;
  }
  const ConfigDiff d = diff(cfg_, *lr.config);
  for (const auto& k : d.restart_needed) spdlog::warn("reload: {} changed; takes effect after a restart", k);
  if (lr.config->log_level != cfg_.log_level) log::set_level(lr.config->log_level);
  std::size_t added = 0;
  std::size_t removed = 0;
  for (const auto& k : d.removed) if (retire_stream(k)) ++removed;
  for (const auto& k : d.added) {
    Feed* f = nullptr;
    for (auto& fp : feeds_)
      if (fp->cfg.name == k.feed) f = fp.get();
    if (f == nullptr) {
      spdlog::warn("reload: new feed {} needs a restart", k.feed);
      continue;
    }
    if (streams_.count(k) != 0) continue;  // already running
    try {
      add_stream(*f, k.symbol, k.interval);
      ++added;
      spdlog::info("stream {}:{}:{} added", k.feed, k.symbol, k.interval);
    } catch (const std::exception& e) {
      spdlog::error("reload: cannot add {}:{}:{}: {}", k.feed, k.symbol, k.interval, e.what());
    }
  }
  // cfg_ describes what runs: live-reloadable values from the new file, restart-only values
  // from the old one, and the streams that are actually open (a failed add is retried by the
  // next SIGHUP because it is still missing from cfg_).
  cfg_.log_level = lr.config->log_level;
  for (auto& fc : cfg_.feeds) {
    for (const auto& nf : lr.config->feeds) {
      if (nf.name != fc.name) continue;
      fc.backfill_bars = nf.backfill_bars;
      fc.stale_after_s = nf.stale_after_s;
      fc.close_grace_s = nf.close_grace_s;
    }
    running_streams(fc);
  }
  for (auto& f : feeds_)
    for (const auto& fc : cfg_.feeds)
      if (fc.name == f->cfg.name) {
        f->cfg.symbols = fc.symbols;
        f->cfg.intervals = fc.intervals;
        f->cfg.backfill_bars = fc.backfill_bars;
        f->cfg.stale_after_s = fc.stale_after_s;
        f->cfg.close_grace_s = fc.close_grace_s;
      }
  spdlog::info("reload done: {} added, {} removed; {}", added, removed, summary_line());
}

void Service::on_cron(lws_sorted_usec_list_t* sul) {
  auto* c = reinterpret_cast<CronSul*>(sul);  // sul is CronSul's first member
  Service& self = *c->self;
  try {
    self.cron();
  } catch (const std::exception& e) {
    spdlog::error("cron: {}", e.what());
  }
  if (!self.stopping_) lws_sul_schedule(self.ctx_, 0, &c->sul, &Service::on_cron, kCronMs * LWS_US_PER_MS);
}

int Service::run() {
  start_mono_ms_ = net::mono_ms();
  if (auto wd = ops::watchdog_interval()) watchdog_us_ = wd->count();
  cron_.self = this;
  lws_sul_schedule(ctx_, 0, &cron_.sul, &Service::on_cron, kCronMs * LWS_US_PER_MS);
  spdlog::info("mdfeed running: {}", describe(cfg_));
  while (!stopping_) {
    if (lws_service(ctx_, 0) < 0) break;
  }
  lws_sul_cancel(&cron_.sul);
  for (auto& f : feeds_)
    for (auto& s : f->sessions) s->stop();
  for (auto& [k, s] : streams_) s->ring.close();
  spdlog::info("stopped: {}", summary_line());
  if (status_) status_->close();
  return 0;
}

}  // namespace mdfeed

namespace mdfeed {

namespace {

// Per-HTTP-connection state for /metrics (lws allocates it zeroed; we own `body`).
struct MetricsPss {
  std::string* body;
  std::size_t sent;
};

const lws_protocols kMetricsProtocols[] = {
    {"http", &Service::protocol_callback_metrics_trampoline, sizeof(MetricsPss), 0, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

}  // namespace

int Service::protocol_callback_metrics_trampoline(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                                                   std::size_t len) {
  try {
    return metrics_callback(wsi, reason, user, in, len);
  } catch (const std::exception& e) {
    spdlog::error("metrics: {}", e.what());  // nothing crosses an lws callback
    return -1;
  }
}

// Prometheus text format at /metrics, served by the lws context we already run: the page is
// rendered from the status snapshot (the same data mdfeed-ctl shows) and written in chunks.
int Service::metrics_callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t /*len*/) {
  auto* pss = static_cast<MetricsPss*>(user);
  Service* self = g_service;
  switch (reason) {
    case LWS_CALLBACK_HTTP: {
      const char* uri = static_cast<const char*>(in);
      if (self == nullptr || !self->status_ || uri == nullptr || std::strcmp(uri, "/metrics") != 0) {
        lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, "try /metrics");
        return lws_http_transaction_completed(wsi) ? -1 : 0;
      }
      pss->body = new std::string(ops::format_prometheus(self->status_->snapshot(), status::monotonic_ns()));
      pss->sent = 0;
      unsigned char buf[LWS_PRE + 1024];
      unsigned char* start = buf + LWS_PRE;
      unsigned char* p = start;
      unsigned char* end = buf + sizeof buf - 1;
      if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, ops::kPrometheusContentType, pss->body->size(), &p, end) ||
          lws_finalize_write_http_header(wsi, start, &p, end))
        return 1;
      lws_callback_on_writable(wsi);
      return 0;
    }
    case LWS_CALLBACK_HTTP_WRITEABLE: {
      if (pss == nullptr || pss->body == nullptr) return -1;
      constexpr std::size_t kChunk = 16384;
      std::vector<unsigned char> buf(LWS_PRE + kChunk);
      const std::size_t n = std::min(kChunk, pss->body->size() - pss->sent);
      std::memcpy(buf.data() + LWS_PRE, pss->body->data() + pss->sent, n);
      const bool last = pss->sent + n == pss->body->size();
      if (lws_write(wsi, buf.data() + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != static_cast<int>(n))
        return -1;
      pss->sent += n;
      if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
      }
      return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
      if (pss != nullptr) {
        delete pss->body;
        pss->body = nullptr;
      }
      return 0;
    default:
      return lws_callback_http_dummy(wsi, reason, user, in, 0);
  }
}

void Service::start_metrics() {
  if (cfg_.metrics_listen.empty()) return;
  const auto colon = cfg_.metrics_listen.rfind(':');
  const std::string host = cfg_.metrics_listen.substr(0, colon);
  const int port = std::atoi(cfg_.metrics_listen.c_str() + colon + 1);
  lws_context_creation_info vi{};
  vi.port = port;
  vi.iface = host.c_str();
  vi.protocols = kMetricsProtocols;
  vi.vhost_name = "mdfeed-metrics";
  metrics_vh_ = lws_create_vhost(ctx_, &vi);
  if (metrics_vh_ == nullptr) throw Error("mdfeed: cannot listen for metrics on " + cfg_.metrics_listen);
  spdlog::info("metrics: serving Prometheus text at http://{}/metrics", cfg_.metrics_listen);
}

}  // namespace mdfeed
