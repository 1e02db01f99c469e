// HTTPS GET client for one venue's REST API on the shared lws context: a queue paced within the
// venue's weight budget, a few requests in flight, Retry-After honoured for the whole feed, and a
// per-request timeout. Runs on the service thread only.
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
  std::int64_t retry_after_ms = 0;  // from Retry-After on 429/418
  std::string error;               // transport error text, empty on an HTTP answer
  [[nodiscard]] bool ok() const noexcept { return http_status == 200 && error.empty(); }
};

class RestClient {
 public:
  using Callback = std::function<void(RestResponse&&)>;

  struct Options {
    net::Endpoint endpoint;
    int weight_per_min = 6000;
    double budget_fraction = 0.8;  // of the venue's weight: headroom for other clients
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

  [[nodiscard]] std::size_t queued() const noexcept { return queue_.size(); }
  [[nodiscard]] int in_flight() const noexcept { return in_flight_; }
  [[nodiscard]] std::uint64_t requests() const noexcept { return requests_; }
  [[nodiscard]] std::uint64_t throttled() const noexcept { return throttled_; }
  [[nodiscard]] std::int64_t paused_until_ms() const noexcept { return paused_until_; }
  [[nodiscard]] int weight_used_last_min(std::int64_t mono_ms);

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
  std::deque<std::pair<std::int64_t, int>> spent_;  // (mono ms, weight) over the last minute
  std::vector<std::unique_ptr<Call>> calls_;
  int in_flight_ = 0;
  std::int64_t paused_until_ = 0;
  std::uint64_t requests_ = 0;
  std::uint64_t throttled_ = 0;
};

}  // namespace mdfeed
