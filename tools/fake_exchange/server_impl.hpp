// Internal to the fake exchange: the Server class behind run_server(). Its methods are spread
// over server.cpp (start-up, lws dispatch, cron), server_ws.cpp (WebSocket streams and control
// messages), server_rest.cpp (REST) and server_faults.cpp (fault commands).
#pragma once

#include <libwebsockets.h>
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <optional>

#include "fake_exchange/commands.hpp"
#include "fake_exchange/input_thread.hpp"
#include "fake_exchange/options.hpp"
#include "fake_exchange/replay.hpp"
#include "fake_exchange/rest.hpp"
#include "fake_exchange/server_support.hpp"
#include "fake_exchange/streams.hpp"
#include "fake_exchange/venues/venue.hpp"

namespace mdfeed::fake::detail {

class Server {
 public:
  explicit Server(const Options& options)
      : opts_(options),
        clock_(options.start_ms, options.speed, mono_us()),
        venues_(make_venues(options)),
        parser_(static_cast<std::size_t>(options.max_message_bytes)),
        tick_us_(std::clamp<std::int64_t>(shortest_update_ms(options) * 1000 / 4, 1000, kMaxTickUs)) {}

  ~Server() {
    if (ctx_) lws_context_destroy(ctx_);
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int run();
  static int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len);

 private:
  struct Tick {
    lws_sorted_usec_list_t sul;  // first member: lws_container_of needs no offset
    Server* self;
  };

  // --- start-up ---
  bool load_replay();
  bool create_context();
  bool announce_ready();
  static void on_tick(lws_sorted_usec_list_t* sul);

  // --- lws callbacks ---
  int dispatch(lws* wsi, lws_callback_reasons reason, SessionData* pss, void* in, size_t len);
  int on_handshake(lws* wsi, SessionData* pss);
  int on_established(lws* wsi, SessionData* pss);
  int on_receive(Connection& c, const char* in, std::size_t len);
  int on_pong(Connection& c);
  int on_writeable(Connection& c);
  void forget(SessionData* pss);
  static void forget_http(SessionData* pss);
  int on_http(lws* wsi, SessionData* pss, const char* path);
  int on_http_writeable(lws* wsi, SessionData* pss);

  // --- WebSocket sending ---
  bool note_incoming(Connection& c);
  void handle_message(Connection& c, std::string_view message, bool binary);
  void add_subscription(Connection& c, std::string name, std::int64_t sim_now_ms);
  void queue(Connection& c, std::string message);
  bool next_message(Connection& c, std::int64_t now_us);
  bool next_kline(Connection& c, std::int64_t sim_now);
  int write_frame(Connection& c);
  bool has_work(const Connection& c, std::int64_t now_us) const;
  bool silenced(std::int64_t now_us) const {
    return now_us < stall_until_us_ || now_us < deaf_until_us_;
  }
  void request_close(Connection& c, int code, std::string reason, std::int64_t now_us);

  // --- REST ---
  HttpResponse route(const std::string& path, const QueryArgs& args);
  static RestFault take_rest_fault(void* self, std::int64_t& retry_s);

  // --- cron and commands ---
  void tick();
  void end_timed_faults(std::int64_t now_us);
  void drain_commands();
  void apply_command(const std::string& line);
  void apply(const Command& cmd, std::int64_t now_us);
  void drop_all(const char* why);

  Connection* find(std::uint64_t id) {
    const auto it = conns_.find(id);
    return it == conns_.end() ? nullptr : it->second.get();
  }
  std::size_t active() const {
    return static_cast<std::size_t>(std::count_if(
        conns_.begin(), conns_.end(), [](const auto& kv) { return kv.second->established; }));
  }
  std::int64_t sim_now(std::int64_t now_us) const { return clock_.now_ms(now_us); }
  bool symbol_exists(const std::string& s) const {
    return std::find(opts_.invalid_symbols.begin(), opts_.invalid_symbols.end(), s) ==
           opts_.invalid_symbols.end();
  }

  Options opts_;
  SimClock clock_;
  VenueList venues_;
  simdjson::dom::parser parser_;
  std::int64_t tick_us_;
  lws_context* ctx_ = nullptr;
  lws_vhost* vhost_ = nullptr;
  lws_retry_bo_t ping_policy_{};
  Tick tick_{};
  std::atomic<bool> stop_{false};
  CommandInbox inbox_;
  Stats stats_;

  std::map<std::uint64_t, std::unique_ptr<Connection>> conns_;  // handshake onwards
  std::uint64_t next_id_ = 0;
  std::vector<unsigned char> http_buf_ = std::vector<unsigned char>(LWS_PRE + kHttpChunk);
  std::vector<unsigned char> tx_buf_;  // LWS_PRE + one frame; reused, single-threaded

  // Faults
  std::int64_t stall_until_us_ = 0;
  std::int64_t deaf_until_us_ = 0;
  std::int64_t outage_until_us_ = 0;
  bool deaf_active_ = false;
  bool stall_active_ = false;
  bool outage_active_ = false;
  bool fragment_ = false;
  std::int64_t ignore_pings_until_us_ = 0;
  bool ignore_pings_active_ = false;
  std::int64_t max_conn_age_us_ = 0;
  std::int64_t rest_429_left_ = 0;
  std::int64_t rest_429_retry_s_ = 1;
  std::int64_t rest_418_left_ = 0;
  std::int64_t rest_418_retry_s_ = 1;
  SkipRules skips_;

  // Replay mode
  Capture capture_;
  std::optional<ReplaySchedule> replay_;
  std::int64_t replay_start_us_ = 0;
};

}  // namespace mdfeed::fake::detail
