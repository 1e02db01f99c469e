// Feeds and streams: routing klines to books, the exchange clock, and the REST policy.
#include "core/feed.hpp"

#include <algorithm>

#include "core/logging.hpp"

namespace mdfeed {

BookOptions book_options(const FeedConfig& c, const venue::Spec& spec) {
  BookOptions o;
  o.close_grace_ms = static_cast<std::int64_t>(c.close_grace_s * 1000.0);
  o.backfill_bars = c.backfill_bars;
  o.max_fetch_bars = spec.limits.max_klines_per_request;
  o.max_pending = std::max<std::size_t>(o.max_pending, o.max_fetch_bars);
  return o;
}

Stream::Stream(Feed& f, std::string sym, std::string ivl, std::string t, RingWriter w, BookOptions bo,
               PublishTracker& published)
    : feed(f),
      symbol(std::move(sym)),
      interval(std::move(ivl)),
      topic(std::move(t)),
      ring(std::move(w)),
      sink(ring, published),
      book(interval, bo, sink) {}

namespace {

// Every queued stream is looked at again at least this often, whatever its book says: a cheap
// guard against a missed event, at 1/100 of the old every-100-ms sweep.
constexpr std::int64_t kSafetyRecheckMs = 10'000;

RestClient::Options rest_options(const FeedConfig& c, const venue::Spec& spec, const net::Endpoint& ep) {
  RestClient::Options o;
  o.endpoint = ep;
  // rest_weight_per_min is per minute; the venue counts over its own window (OKX 2 s, Bybit
  // 5 s), so the budget is scaled to that window and never bunches up inside a minute.
  const auto& l = spec.limits;
  o.window_ms = l.rest_window_ms;
  o.budget = std::max(1, static_cast<int>(static_cast<double>(c.rest_weight_per_min) *
                                          static_cast<double>(l.rest_window_ms) / 60'000.0));
  o.timeout_ms = static_cast<std::int64_t>(c.rest_timeout_s * 1000.0);
  o.reset_header = std::string(spec.rest_reset_header);
  return o;
}

}  // namespace

Feed::Feed(FeedConfig c, const venue::Spec& s, lws_context* ctx, lws_vhost* vh)
    : cfg(std::move(c)),
      spec_(s),
      ctx_(ctx),
      vhost_(vh),
      ws_ep_(net::parse_url(cfg.ws_url, "wss").value()),
      rest_ep_(net::parse_url(cfg.rest_url, "https").value()),
      rest_(ctx, vh, rest_options(cfg, s, rest_ep_)) {}

Feed::~Feed() { sessions_.clear(); }

void Feed::stop() {
  for (auto& s : sessions_) s->stop();
}

bool Feed::may_connect(std::int64_t mono_ms) {
  const auto& lim = spec_.limits;
  while (!attempts_.empty() && attempts_.front() <= mono_ms - lim.connect_window_ms) attempts_.pop_front();
  // Stay well inside the venue's per-IP budget (Binance: 300 per 5 minutes; OKX: 3 per second).
  const std::size_t cap = std::max<std::size_t>(1, lim.max_connect_attempts * 8 / 10);
  if (attempts_.size() >= cap) return false;
  attempts_.push_back(mono_ms);
  return true;
}

void Feed::attach(Stream& s) {
  by_topic_.insert(&s);
  WsSession* target = nullptr;
  for (auto& ses : sessions_)
    if (ses->stream_count() < cfg.max_streams_per_conn) {
      target = ses.get();
      break;
    }
  if (target == nullptr) {
    sessions_.push_back(std::make_unique<WsSession>(*this, static_cast<int>(sessions_.size())));
    target = sessions_.back().get();
  }
  target->add_streams({s.topic});
  s.session = target;
  schedule(s, 0);  // due at once: backfill or resume
}

void Feed::detach(Stream& s) {
  if (s.session != nullptr) s.session->remove_streams({s.topic});
  s.session = nullptr;
  by_topic_.erase(s.topic);
}

void Feed::on_kline(const venue::Event& e, std::int64_t mono_ms) {
  Stream* const sp = by_topic_.find(e.topic);
  if (sp == nullptr) return;  // unsubscribed a moment ago
  Stream& s = *sp;
  // The exchange clock works from whatever time the venue gives: an event time, or else the
  // bar's open, a lower bound (the clock keeps the freshest offset, so it never runs ahead).
  clock_.observe(e.event_time_ms != venue::kNoTime ? e.event_time_ms : e.bar.open_time_ms, mono_ms);
  s.last_update_ns = static_cast<std::uint64_t>(mono_ms) * 1'000'000ULL;
  s.book.on_stream_update(e.bar, e.event_time_ms);
  // Readers are woken once the session has handed over the whole read: a read that carries 32
  // updates of one ring costs one FUTEX_WAKE, not 32 (the update count still moves on each).
  if (s.sink.dirty() && !s.flush_queued) {
    unflushed_.push_back(&s);
    s.flush_queued = true;
  }
  pump_fetch(s, mono_ms);
}

void Feed::on_read_done() noexcept {
  for (Stream* s : unflushed_) {
    s->sink.flush();
    s->flush_queued = false;
  }
  unflushed_.clear();
}

void Feed::on_connection_lost(const std::vector<std::string>& topics) {
  for (const auto& t : topics)
    if (Stream* s = by_topic_.find(t); s != nullptr) {
      s->book.on_reconnect();
      schedule(*s, 0);
    }
}

void Feed::request_server_time(std::int64_t mono_ms) {
  if (time_requested_ || clock_.known() || mono_ms < time_retry_ms_) return;
  time_requested_ = true;
  rest_.get(std::string(spec_.rest.server_time_target), spec_.rest.server_time_cost, [this](RestResponse&& r) {
    time_requested_ = false;
    const std::int64_t now = net::mono_ms();
    if (r.ok()) {
      if (auto t = spec_.rest.parse_server_time(r.body)) {
        clock_.observe(*t, now);
        // The clock was what every book waited for: all of them are due now.
        by_topic_.for_each([this, now](Stream& st) { schedule(st, now); });
        return;
      }
    }
    time_retry_ms_ = now + 2000;
    spdlog::warn("rest[{}]: server time request failed: {}", cfg.name,
                 r.error.empty() ? "HTTP " + std::to_string(r.http_status) : r.error);
  });
}

void Feed::schedule(Stream& s, std::int64_t at) {
  if (s.due_at <= at) return;  // an earlier check is queued; it reschedules
  s.due_at = at;
  due_.push(Due{at, &s});
}

void Feed::pump_fetch(Stream& s, std::int64_t mono_ms) {
  if (s.book.in_flight() || s.book.state() == BookState::kFailed) return;
  const auto req = s.book.next_fetch(clock_, mono_ms);
  if (!req) {
    const auto due = s.book.next_due_mono_ms(clock_, mono_ms);
    schedule(s, std::min(due.value_or(Stream::kNever), mono_ms + kSafetyRecheckMs));
    return;
  }
  const int limit = static_cast<int>(std::clamp<std::uint32_t>(req->bar_count, 1, spec_.limits.max_klines_per_request));
  const auto now_ex = clock_.now(mono_ms).value_or(req->issued_exchange_ms);
  venue::KlinesRequest kr =
      spec_.rest.klines_request(s.symbol, s.interval, req->start_open_ms, req->end_open_ms, limit, now_ex);
  Stream* sp = &s;
  const FetchRequest r0 = *req;
  rest_.get(std::move(kr.target), kr.cost, [this, sp, r0](RestResponse&& r) { on_fetch_answer(*sp, r0, std::move(r)); });
}

// The venue classifies the answer; what to do about it is core's policy, the same for every
// venue: rows go to the book, a rate limit or ban pauses this feed's REST (the whole feed,
// because limits are per IP), an unknown symbol fails that stream alone, anything else is
// retried with the book's backoff.
void Feed::on_fetch_answer(Stream& st, const FetchRequest& r0, RestResponse&& r) {
  const std::int64_t now = net::mono_ms();
  std::vector<Bar> rows;
  venue::RestOutcome o;
  if (!r.error.empty()) {
    o.verdict = venue::RestVerdict::kMalformed;
    o.message = r.error;
  } else {
    o = spec_.rest.classify({r.http_status, r.body, r.retry_after, r.reset_header,
                             clock_.now(now).value_or(net::wall_ms())});
    if (o.ok()) o = spec_.rest.parse_klines(r.body, st.symbol, st.interval, rows);
  }
  switch (o.verdict) {
    case venue::RestVerdict::kOk:
      st.book.on_fetch_result(r0, rows, now);
      st.sink.flush();
      pump_fetch(st, now);
      return;
    case venue::RestVerdict::kInvalidSymbol: {
      const std::string why = "invalid symbol: " + o.message;
      st.book.mark_failed(why);
      spdlog::error("stream {}:{}:{} failed: the exchange says {} ({}); other streams continue", cfg.name,
                    st.symbol, st.interval, o.message, o.code);
      return;
    }
    case venue::RestVerdict::kRetryAfter:
    case venue::RestVerdict::kBanned: {
      const bool ban = o.verdict == venue::RestVerdict::kBanned;
      const std::int64_t wait = o.wait_ms > 0 ? o.wait_ms : (ban ? spec_.limits.ban_default_ms : 60'000);
      // The venue bans IPs that ignore this: stop every request of this feed until then.
      rest_.pause_until(now + wait);
      if (now + wait > limited_until_ms_) {
        limited_until_ms_ = now + wait;
        banned_ = ban;
      }
      ++st.rest_errors;
      st.book.on_fetch_failed(r0, now, wait);
      break;
    }
    case venue::RestVerdict::kVenueError:
    case venue::RestVerdict::kMalformed:
      ++st.rest_errors;
      st.book.on_fetch_failed(r0, now, 0);
      break;
  }
  pump_fetch(st, now);  // queues the retry at the book's backoff time
  static log::RateLimiter limiter;
  std::uint64_t suppressed = 0;
  if (limiter.allow(now, suppressed))
    spdlog::warn("rest[{}]: klines {} {} failed ({}): {}{}", cfg.name, st.symbol, st.interval,
                 venue::to_string(o.verdict), o.message,
                 suppressed > 0 ? fmt::format(" [{} more suppressed]", suppressed) : std::string());
}

std::string Feed::rest_state(std::int64_t mono_ms) const {
  if (mono_ms >= limited_until_ms_) return {};
  return std::string(banned_ ? "REST banned by the venue for " : "REST rate limited for ") +
         std::to_string((limited_until_ms_ - mono_ms + 999) / 1000) + " s";
}

void Feed::tick(std::int64_t mono_ms) {
  request_server_time(mono_ms);
  for (auto& s : sessions_) s->tick(mono_ms);
  while (!due_.empty() && due_.top().at <= mono_ms) {
    const Due d = due_.top();
    due_.pop();
    Stream& s = *d.stream;
    if (d.at != s.due_at) continue;  // superseded by an earlier entry
    s.due_at = Stream::kNever;
    if (s.retired || s.session == nullptr) continue;  // detached; the ring stays readable
    pump_fetch(s, mono_ms);
    if (s.due_at == Stream::kNever) schedule(s, mono_ms + kSafetyRecheckMs);  // in flight
  }
  rest_.pump(mono_ms);
}

}  // namespace mdfeed
