// The daemon's service: wiring (network context, feeds, streams, status, metrics), the periodic
// cron, reload and shutdown. One service thread owns everything; other threads only set flags
// and wake it (signals).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/feed.hpp"
#include "core/metrics_server.hpp"
#include "core/net_context.hpp"
#include "mdfeed/doorbell_writer.hpp"
#include "mdfeed/wake_scheduler.hpp"
#include "status/status.hpp"

namespace mdfeed {

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
  [[nodiscard]] std::uint64_t progress() const noexcept { return progress_; }

 private:
  struct CronSul {
    lws_sorted_usec_list_t sul;  // first member: the callback casts back
    Service* self;
  };
  static void on_cron(lws_sorted_usec_list_t* sul);
  void init();
  void teardown() noexcept;
  void open_streams();
  Stream& add_stream(Feed& f, const std::string& symbol, const std::string& interval);
  bool retire_stream(const StreamKey& key);
  void running_streams(FeedConfig& fc) const;
  void cron();
  void log_summary(std::int64_t mono_ms);
  void handle_flags();
  void reload();
  void notify_systemd(std::int64_t mono_ms);
  void publish_status();
  [[nodiscard]] std::uint64_t activity_count() const;
  [[nodiscard]] std::string summary_line() const;
  [[nodiscard]] std::string summary_line(std::size_t live, std::size_t failed) const;
  void relist_streams();

  Config cfg_;
  ServiceOptions opt_;
  std::unique_ptr<net::NetContext> net_;
  // Before the streams: their ring writers hand crowded rings' wake-ups to it.
  WakeScheduler waker_;
  std::vector<std::unique_ptr<Feed>> feeds_;
  std::map<StreamKey, std::unique_ptr<Stream>> streams_;
  // streams_ in its order, as a flat array for the periodic passes over every stream (ring
  // heartbeats, status rows): no tree walk. Rebuilt whenever streams_ changes.
  std::vector<Stream*> stream_list_;
  std::vector<std::unique_ptr<Stream>> retired_;  // rings kept mapped, marked retired
  CronSul cron_{};
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
  std::optional<status::StatusWriter> status_;
  std::int64_t last_status_ms_ = 0;
  std::uint64_t last_activity_ = 0;
  std::uint64_t last_watchdog_progress_ = 0;
  std::unique_ptr<MetricsServer> metrics_;
  PublishTracker published_;  // set by the sinks; rings doorbell_ once per service pass
  DoorbellWriter doorbell_;
};

}  // namespace mdfeed
