// The service: wiring, the periodic cron, reload and shutdown.
#include "core/service.hpp"

#include <unistd.h>

#include <algorithm>
#include <random>

#include "core/logging.hpp"
#include "core/status_map.hpp"
#include "mdfeed/error.hpp"
#include "mdfeed/names.hpp"
#include "ops/sd_notify.hpp"

namespace mdfeed {

namespace {

constexpr std::int64_t kCronMs = 100;
constexpr std::int64_t kSummaryMs = 60'000;
constexpr std::int64_t kReadyTimeoutMs = 30'000;

}  // namespace

// --------------------------------------------------------------------------------------------
// Service

Service::Service(Config cfg, ServiceOptions opt) : cfg_(std::move(cfg)), opt_(std::move(opt)) {
  std::random_device rd;
  instance_id_ = (static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^ static_cast<std::uint64_t>(getpid());
  if (instance_id_ == 0) instance_id_ = 1;
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
  std::vector<std::string> ca_files;
  for (const auto& f : cfg_.feeds)
    if (!f.ca_file.empty() && std::find(ca_files.begin(), ca_files.end(), f.ca_file) == ca_files.end())
      ca_files.push_back(f.ca_file);
  net_ = std::make_unique<net::NetContext>(std::move(ca_files), [this] { handle_flags(); });
  open_streams();
  // <shm.dir>/mdfeed.doorbell, reused in place like the rings: one futex word for readers that
  // follow many rings (mdfeed::Watcher, mdfeed.wait_any). Rung once: the rings just changed
  // owner (update_count bumped).
  doorbell_ = DoorbellWriter::open(cfg_.shm_dir);
  doorbell_.ring();
  std::uint32_t sessions = 0;
  for (const auto& f : feeds_) sessions += static_cast<std::uint32_t>(f->sessions().size());
  // Room for growth by reload; the writer replaces the file if it ever needs more.
  // Reused in place when the previous run's file is compatible, so a restart on a full shm
  // filesystem needs no new space for it (like the rings).
  status_.emplace(status::StatusWriter::open(cfg_.shm_dir, sessions + 8,
                                             static_cast<std::uint32_t>(streams_.size()) + 64,
                                             instance_id_));
  spdlog::debug("status segment {} {}", status_->path(), to_string(status_->open_mode()));
  status_->edit().daemon.config_path = opt_.config_path;
  publish_status();
  if (!cfg_.metrics_listen.empty())
    metrics_ = std::make_unique<MetricsServer>(net_->context(), cfg_.metrics_listen, *status_);
}

Service::~Service() { teardown(); }

void Service::teardown() noexcept {
  feeds_.clear();  // sessions and REST calls first: their callbacks point at streams
  streams_.clear();
  retired_.clear();
  doorbell_.ring();  // the rings closed above bumped their counts
  net_.reset();  // the context (and the metrics vhost) before the status the metrics page reads
  metrics_.reset();
  status_.reset();
}

Stream& Service::add_stream(Feed& f, const std::string& symbol, const std::string& interval) {
  RingWriter::Options ro;
  ro.shm_dir = cfg_.shm_dir;
  ro.feed = f.cfg.name;
  ro.symbol = symbol;
  ro.interval = interval;
  ro.capacity = cfg_.capacity;
  ro.instance_id = instance_id_;
  ro.waker = &waker_;
  RingWriter w = RingWriter::open(ro);  // throws with path and reason (ENOSPC, EACCES...)
  const auto mode = w.open_mode();
  const auto last = w.last_closed();
  // The topic comes from a throwaway protocol object: topics are a pure function of the
  // venue, symbol and interval.
  auto s = std::make_unique<Stream>(f, symbol, interval, f.spec().make_ws(1024)->kline_topic(symbol, interval),
                                    std::move(w), book_options(f.cfg, f.spec()), published_);
  published_.published = true;  // taking the ring over bumped its update count
  if (last.has_value()) {
    s->book.resume_after(last->open_time_ms);
  } else {
    s->book.start_fresh();
  }
  spdlog::debug("ring {} {} ({} closed bars)", s->ring.path(), to_string(mode), s->ring.closed_count());
  Stream& ref = *s;
  streams_[StreamKey{f.cfg.name, symbol, interval}] = std::move(s);
  relist_streams();
  f.attach(ref);
  return ref;
}

void Service::relist_streams() {
  stream_list_.clear();
  stream_list_.reserve(streams_.size());
  for (const auto& [k, s] : streams_) stream_list_.push_back(s.get());
}

void Service::open_streams() {
  std::size_t reused = 0;
  for (const auto& fc : cfg_.feeds) {
    const venue::Spec* spec = venue::find(fc.exchange);
    if (spec == nullptr) throw Error("mdfeed: unknown exchange '" + fc.exchange + "'");
    feeds_.push_back(std::make_unique<Feed>(fc, *spec, net_->context(), net_->client_vhost()));
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
                 for (const auto& f : feeds_) n += f->sessions().size();
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
  relist_streams();
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
  if (net_) net_->wake();
}

void Service::request_reload() noexcept {
  reload_requested_ = true;
  if (net_) net_->wake();
}

void Service::handle_flags() {
  if (stop_requested_.exchange(false) && !stopping_) {
    stopping_ = true;
    ops::notify_stopping();
    spdlog::info("stopping");
  }
  if (reload_requested_.exchange(false) && !stopping_) reload();
}

std::string Service::summary_line() const {
  std::size_t live = 0, failed = 0;
  for (const Stream* s : stream_list_) {
    const BookState st = s->book.state();
    if (st == BookState::kFailed) ++failed;
    else if (st == BookState::kLive) ++live;
  }
  return summary_line(live, failed);
}

std::string Service::summary_line(std::size_t live, std::size_t failed) const {
  std::size_t conns_up = 0, conns = 0;
  std::uint64_t msgs = 0, bad = 0, reconnects = 0;
  std::string rest;
  for (const auto& f : feeds_) {
    if (const std::string r = f->rest_state(net::mono_ms()); !r.empty()) rest += "; " + f->cfg.name + ": " + r;
    for (const auto& s : f->sessions()) {
      ++conns;
      if (s->state() == ConnState::kConnected) ++conns_up;
      msgs += s->stats().messages;
      bad += s->stats().bad;
      reconnects += s->stats().reconnects;
    }
  }
  return fmt::format("{}/{} streams live, {} failed; {}/{} connections up; {} msgs, {} bad, {} reconnects{}",
                     live, streams_.size(), failed, conns_up, conns, msgs, bad, reconnects, rest);
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
    // One clock read for all rings: readers judge liveness at ~2 s, so the µs between the
    // first ring and the last do not matter.
    const std::uint64_t now_ns = status::monotonic_ns();
    for (Stream* s : stream_list_) s->ring.heartbeat(now_ns);
  }
  if (status_) status_->heartbeat();
  // Every 250 ms while anything moves, every second when nothing does (an idle market).
  const std::uint64_t activity = activity_count();
  if (now - last_status_ms_ >= 1000 || (now - last_status_ms_ >= 250 && activity != last_activity_)) {
    last_status_ms_ = now;
    last_activity_ = activity;
    publish_status();
  }
  notify_systemd(now);
  log_summary(now);
}

// Every ~250 ms: one consistent snapshot for mdfeed-ctl and /metrics. Cheap (a few hundred
// bytes per stream) and off the message path.
// Anything a status row could show moving: messages, REST answers, streams added or retired.
std::uint64_t Service::activity_count() const {
  std::uint64_t n = streams_.size() + retired_.size();
  for (const auto& f : feeds_) {
    n += f->rest().requests() + static_cast<std::uint64_t>(f->rest().in_flight());
    for (const auto& s : f->sessions()) n += s->stats().messages + s->stats().reconnects + static_cast<std::uint64_t>(s->state());
  }
  return n;
}

void Service::publish_status() {
  if (!status_) return;
  status::Snapshot& snap = status_->edit();
  snap.connections.clear();
  for (const auto& f : feeds_)
    for (const auto& ses : f->sessions()) snap.connections.push_back(connection_info(*f, *ses));
  // Rows are refilled in place: with thousands of streams, rebuilding every row (and its
  // strings) four times a second was a large part of an idle daemon's cost. The summary counts
  // come from the rows just filled, not from a second pass over every stream.
  snap.streams.resize(stream_list_.size() + retired_.size());
  std::size_t i = 0, live = 0, failed = 0;
  for (const Stream* s : stream_list_) {
    status::StreamInfo& row = snap.streams[i++];
    fill_stream_info(*s, row);
    live += row.state == status::StreamState::kLive ? 1 : 0;
    failed += row.state == status::StreamState::kFailed ? 1 : 0;
  }
  for (const auto& s : retired_) fill_stream_info(*s, snap.streams[i++]);
  snap.daemon.summary = summary_line(live, failed);
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
      for (const auto& s : f->sessions()) {
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
  if (!self.stopping_) lws_sul_schedule(self.net_->context(), 0, &c->sul, &Service::on_cron, kCronMs * LWS_US_PER_MS);
}

int Service::run() {
  start_mono_ms_ = net::mono_ms();
  if (auto wd = ops::watchdog_interval()) watchdog_us_ = wd->count();
  cron_.self = this;
  lws_sul_schedule(net_->context(), 0, &cron_.sul, &Service::on_cron, kCronMs * LWS_US_PER_MS);
  spdlog::info("mdfeed running: {}", describe(cfg_));
  while (!stopping_) {
    if (lws_service(net_->context(), 0) < 0) break;
    // One doorbell per pass, after every ring update of the pass, whatever the number of rings.
    if (published_.published) {
      published_.published = false;
      doorbell_.ring();
    }
  }
  lws_sul_cancel(&cron_.sul);
  for (auto& f : feeds_) f->stop();
  for (auto& [k, s] : streams_) s->ring.close();
  doorbell_.ring();  // closing bumped every ring (state "stopped")
  spdlog::info("stopped: {}", summary_line());
  if (status_) status_->close();
  return 0;
}

}  // namespace mdfeed
