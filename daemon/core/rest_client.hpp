// HTTPS GET client for one venue's REST API on the shared lws context: a queue paced within the
// venue's budget (cost units per window), a few requests in flight, a pause the owner sets when
// the venue says to back off, and a per-request timeout. It knows no venue: what an answer
// means is the venue's classify() (daemon/venue). Runs on the service thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/net.hpp"

struct lws;
struct lws_vhost;

namespace mdfeed {

struct RestResponse {
  int http_status = 0;             // 0: no HTTP answer (connect/TLS error, timeout)
  std::string body;
  std::string retry_after;         // Retry-After header value, "" when absent
  std::string reset_header;        // Options::reset_header's value, "" when absent
  std::string error;               // transport error text, empty on an HTTP answer
  [[nodiscard]] bool ok() const noexcept { return http_status == 200 && error.empty(); }
};

class RestClient {
 public:
  using Callback = std::function<void(RestResponse&&)>;

  struct Options {
    net::Endpoint endpoint;
    int budget = 6000;               // cost units per window (Binance: weight per minute)
    std::int64_t window_ms = 60'000;
    double budget_fraction = 0.8;    // of the venue's budget: headroom for other clients
    std::string reset_header;        // a venue header to capture, e.g. X-Bapi-Limit-Reset-Timestamp
    int max_in_flight = 4;
    std::int64_t timeout_ms = 10'000;
    std::size_t max_body_bytes = 16u << 20;
  };

  RestClient(lws_context* ctx, lws_vhost* vhost, Options opt);
  ~RestClient();
  RestClient(const RestClient&) = delete;
  RestClient& operator=(const RestClient&) = delete;

  // Queues GET target (path + query). cb runs on the service thread exactly once, unless the
  // client is destroyed first.
  void get(std::string target, int weight, Callback cb);
  // Starts queued requests the budget allows and times out stuck ones. Call periodically.
  void pump(std::int64_t mono_ms);
  // No request starts before until_mono_ms (the venue said to back off, or banned us).
  void pause_until(std::int64_t until_mono_ms) noexcept;

  [[nodiscard]] std::size_t queued() const noexcept { return queue_.size(); }
  [[nodiscard]] int in_flight() const noexcept { return in_flight_; }
  [[nodiscard]] std::uint64_t requests() const noexcept { return requests_; }
  [[nodiscard]] std::uint64_t throttled() const noexcept { return throttled_; }
  [[nodiscard]] std::int64_t paused_until_ms() const noexcept { return paused_until_; }
  [[nodiscard]] int spent_in_window(std::int64_t mono_ms);

  // lws protocol callback for "mdfeed-rest" connections.
  static int lws_callback(lws* wsi, int reason, void* in, std::size_t len);

  struct Call;  // one request on the wire

 private:
  struct Pending {
    std::string target;
    int weight;
    Callback cb;
  };
  void start(Pending&& p, std::int64_t mono_ms);
  void finish(Call* c, RestResponse&& r);

  lws_context* ctx_;
  lws_vhost* vhost_;
  Options opt_;
  std::deque<Pending> queue_;
  std::deque<std::pair<std::int64_t, int>> spent_;  // (mono ms, cost) over the last window
  std::vector<std::unique_ptr<Call>> calls_;
  int in_flight_ = 0;
  std::int64_t paused_until_ = 0;
  std::uint64_t requests_ = 0;
  std::uint64_t throttled_ = 0;
};

}  // namespace mdfeed
