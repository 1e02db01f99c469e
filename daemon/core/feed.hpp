// Feeds and streams. A Stream is one (feed, symbol, interval): its ring, its bar book and the
// sink between them. A Feed is one config feed on one venue: its WebSocket sessions, its REST
// client, the exchange clock, and the REST policy (what to do with the venue's verdict on each
// answer). Service thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <queue>
#include <string>
#include <unordered_map>

#include "core/topic_index.hpp"
#include <vector>

#include "config/config.hpp"
#include "core/net.hpp"
#include "core/rest_client.hpp"
#include "core/ws_session.hpp"
#include "mdfeed/book/bar_book.hpp"
#include "mdfeed/ring_writer.hpp"
#include "venue/venue.hpp"

namespace mdfeed {

class Feed;

// Whether any ring was published to since the service last looked: the service rings the shm
// directory's doorbell once per lws_service pass in which it is set (Service::run). One per
// Service, shared by every stream's sink; service thread only.
struct PublishTracker {
  bool published = false;
};

// The book's output goes straight into the ring; readers are woken by flush(), once per TLS read
// that touched the ring (Feed::on_read_done), not once per message.
class RingSink final : public BookSink {
 public:
  RingSink(RingWriter& w, PublishTracker& t) : w_(w), tracker_(t) {}
  void publish_closed(const Bar& b) override { w_.append_closed(b); mark(); }
  void publish_forming(const Bar& b) override { w_.publish_forming(b); mark(); }
  void clear_forming() override { w_.clear_forming(); mark(); }
  void flush() noexcept {
    if (dirty_) w_.notify();
    dirty_ = false;
  }
  [[nodiscard]] bool dirty() const noexcept { return dirty_; }

 private:
  void mark() noexcept {
    dirty_ = true;
    tracker_.published = true;
  }

  RingWriter& w_;
  PublishTracker& tracker_;
  bool dirty_ = false;
};

// What the stream is lives in its book (state, failure) and ring; this holds only what neither
// knows: where it is subscribed, when it last moved, and whether config removed it.
struct Stream {
  Stream(Feed& f, std::string sym, std::string ivl, std::string topic, RingWriter w, BookOptions bo,
         PublishTracker& published);
  Feed& feed;
  std::string symbol, interval;  // interval: canonical
  std::string topic;             // the venue's key for this stream's klines
  bool flush_queued = false;     // in Feed::unflushed_ (its readers are woken after the read)
  RingWriter ring;
  RingSink sink;
  BarBook book;
  WsSession* session = nullptr;
  std::uint64_t last_update_ns = 0;  // CLOCK_MONOTONIC of the last kline update
  bool retired = false;
  std::uint64_t rest_errors = 0;
  // The feed's due-time queue holds this stream for then (mono ms); kNever: not queued.
  static constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
  std::int64_t due_at = kNever;
};

[[nodiscard]] BookOptions book_options(const FeedConfig& c, const venue::Spec& spec);

class Feed final : public SessionHost {
 public:
  Feed(FeedConfig cfg, const venue::Spec& spec, lws_context* ctx, lws_vhost* vhost);
  ~Feed() override;
  Feed(const Feed&) = delete;
  Feed& operator=(const Feed&) = delete;

  // SessionHost
  [[nodiscard]] const FeedConfig& feed_config() const override { return cfg; }
  [[nodiscard]] const venue::Spec& spec() const override { return spec_; }
  [[nodiscard]] const net::Endpoint& ws_endpoint() const override { return ws_ep_; }
  [[nodiscard]] lws_context* context() const override { return ctx_; }
  [[nodiscard]] lws_vhost* vhost() const override { return vhost_; }
  [[nodiscard]] bool may_connect(std::int64_t mono_ms) override;
  void on_kline(const venue::Event& e, std::int64_t mono_ms) override;
  void on_connection_lost(const std::vector<std::string>& topics) override;
  void on_read_done() noexcept override;

  void attach(Stream& s);  // assigns a session with room, subscribing if live
  void detach(Stream& s);  // unsubscribes
  void tick(std::int64_t mono_ms);
  void stop();  // closes the sessions

  [[nodiscard]] const std::vector<std::unique_ptr<WsSession>>& sessions() const noexcept { return sessions_; }
  [[nodiscard]] const RestClient& rest() const noexcept { return rest_; }
  // "banned by the venue for 540 s", "rate limited for 2 s", or "".
  [[nodiscard]] std::string rest_state(std::int64_t mono_ms) const;

  FeedConfig cfg;  // live-reloadable values are updated in place by Service::reload

 private:
  void pump_fetch(Stream& s, std::int64_t mono_ms);
  // Queues the stream's next REST check for at (mono ms), unless an earlier one is queued.
  void schedule(Stream& s, std::int64_t at);
  void on_fetch_answer(Stream& s, const FetchRequest& req, RestResponse&& r);
  void request_server_time(std::int64_t mono_ms);

  const venue::Spec& spec_;
  lws_context* ctx_;
  lws_vhost* vhost_;
  net::Endpoint ws_ep_, rest_ep_;
  ExchangeClock clock_;
  RestClient rest_;
  std::vector<std::unique_ptr<WsSession>> sessions_;
  TopicIndex<Stream> by_topic_;
  // Streams with a REST check due: a fetch, a retry, a late-close deadline. The periodic tick
  // visits only these, not every stream (entries superseded by an earlier one are skipped).
  struct Due {
    std::int64_t at;
    Stream* stream;
    bool operator>(const Due& o) const noexcept { return at > o.at; }
  };
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_;
  bool time_requested_ = false;
  std::int64_t time_retry_ms_ = 0;
  std::int64_t limited_until_ms_ = 0;  // the venue said to back off until then (mono)
  bool banned_ = false;                // ... and it was a ban
  std::deque<std::int64_t> attempts_;
  std::vector<Stream*> unflushed_;  // streams updated during the current read; woken after it
};

}  // namespace mdfeed
