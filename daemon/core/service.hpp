// The daemon's service: one lws context and one service thread that owns every feed session,
// REST client, bar book and ring writer. Other threads only set flags and call
// lws_cancel_service (signals).
#pragma once

#include <libwebsockets.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "adapter/adapter.hpp"
#include "config/config.hpp"
#include "core/net.hpp"
#include "core/rest_client.hpp"
#include "core/ws_session.hpp"
#include "mdfeed/book/bar_book.hpp"
#include "mdfeed/ring_writer.hpp"
#include "status/status.hpp"

namespace mdfeed {

class Service;
class Feed;

// The book's output goes straight into the ring; readers are woken once per message.
class RingSink final : public BookSink {
 public:
  explicit RingSink(RingWriter& w) : w_(w) {}
  void publish_closed(const Bar& b) override { w_.append_closed(b); dirty_ = true; }
  void publish_forming(const Bar& b) override { w_.publish_forming(b); dirty_ = true; }
  void clear_forming() override { w_.clear_forming(); dirty_ = true; }
  void flush() noexcept {
    if (dirty_) w_.notify();
    dirty_ = false;
  }

 private:
  RingWriter& w_;
  bool dirty_ = false;
};

struct Stream {
  Stream(Feed& f, std::string sym, std::string ivl, std::string stream_name, RingWriter w,
         BookOptions bo);
  Feed& feed;
  std::string symbol, interval, name;  // name: the venue's stream name
  RingWriter ring;
  RingSink sink;
  BarBook book;
  WsSession* session = nullptr;
  std::uint64_t last_update_ns = 0;  // CLOCK_MONOTONIC of the last kline update
  bool retired = false;
  bool fetch_in_flight = false;
  std::uint64_t rest_errors = 0;
  std::string failure;  // set when the stream failed for good (e.g. invalid symbol)
};

class Feed {
 public:
  Feed(Service& svc, FeedConfig cfg, const adapter::Adapter& ad, lws_vhost* vhost);
  ~Feed();

  Service& svc;
  FeedConfig cfg;
  const adapter::Adapter& adapter;
  lws_vhost* vhost;
  net::Endpoint ws_ep, rest_ep;
  ExchangeClock clock;
  RestClient rest;
  std::vector<std::unique_ptr<WsSession>> sessions;
  std::unordered_map<std::string, Stream*> by_name;
  bool time_requested = false;
  std::int64_t time_retry_ms = 0;

  // Venue connection-attempt budget (per IP, sliding window).
  [[nodiscard]] bool may_connect(std::int64_t mono_ms);
  void on_kline(adapter::KlineMsg& msg, std::int64_t mono_ms);
  void on_connection_lost(const std::vector<std::string>& names);
  void attach(Stream& s);   // assigns a session with room, subscribing if live
  void detach(Stream& s);   // unsubscribes
  void tick(std::int64_t mono_ms);

 private:
  void pump_fetch(Stream& s, std::int64_t mono_ms);
  void request_server_time(std::int64_t mono_ms);
  std::deque<std::int64_t> attempts_;
  std::string key_buf_;
};

struct ServiceOptions {
  std::string config_path;
};

class Service {
 public:
  Service(Config cfg, ServiceOptions opt);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Runs until SIGTERM/SIGINT. Returns the process exit code.
  int run();

  // Thread-safe requests (from the signal thread).
  void request_stop() noexcept;
  void request_reload() noexcept;

  [[nodiscard]] const Config& config() const noexcept { return cfg_; }
  [[nodiscard]] lws_context* context() const noexcept { return ctx_; }
  [[nodiscard]] std::uint64_t progress() const noexcept { return progress_; }

  // lws entry points.
  static int protocol_callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len);

 private:
  friend class Feed;
  static void on_cron(lws_sorted_usec_list_t* sul);
  void init();
  void teardown() noexcept;
  void create_context();
  void open_streams();
  Stream& add_stream(Feed& f, const std::string& symbol, const std::string& interval);
  bool retire_stream(const StreamKey& key);
  void running_streams(FeedConfig& fc) const;
  void cron();
  void heartbeat_rings();
  void log_summary(std::int64_t mono_ms);
  void handle_flags();
  void reload();
  void notify_systemd(std::int64_t mono_ms);
  void publish_status();
  void start_metrics();
  static int metrics_callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len);

 public:
  static int protocol_callback_metrics_trampoline(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                                                  std::size_t len);

 private:
  [[nodiscard]] bool all_connected() const;
  [[nodiscard]] std::string summary_line() const;

  Config cfg_;
  ServiceOptions opt_;
  lws_context* ctx_ = nullptr;
  lws_vhost* client_vh_ = nullptr;
  std::vector<std::unique_ptr<Feed>> feeds_;
  std::map<StreamKey, std::unique_ptr<Stream>> streams_;
  std::vector<std::unique_ptr<Stream>> retired_;  // rings kept mapped, marked retired
  struct CronSul {
    lws_sorted_usec_list_t sul;
    Service* self;
  } cron_{};
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> reload_requested_{false};
  bool stopping_ = false;
  bool ready_sent_ = false;
  std::uint64_t progress_ = 0;
  std::int64_t start_mono_ms_ = 0;
  std::int64_t last_heartbeat_ms_ = 0;
  std::int64_t last_summary_ms_ = 0;
  std::int64_t last_watchdog_ms_ = 0;
  std::int64_t last_status_notify_ms_ = 0;
  std::int64_t watchdog_us_ = 0;
  std::uint64_t instance_id_ = 0;
  std::vector<std::string> extra_ca_files_;
  std::optional<status::StatusWriter> status_;
  std::int64_t last_status_ms_ = 0;
  std::uint64_t last_watchdog_progress_ = 0;
  lws_vhost* metrics_vh_ = nullptr;
};

}  // namespace mdfeed
