// The network layer's shared state: one lws context and one client vhost (TLS 1.2+, the system
// trust store plus any ca_file from the config, verification never relaxed), and the one lws
// protocol callback that dispatches to WebSocket sessions and REST calls. Service thread only,
// except wake(), which any thread may call.
#pragma once

#include <libwebsockets.h>

#include <functional>
#include <string>
#include <vector>

namespace mdfeed::net {

class NetContext {
 public:
  // on_wake runs on the service thread after wake() (from any thread).
  NetContext(std::vector<std::string> extra_ca_files, std::function<void()> on_wake);
  ~NetContext();
  NetContext(const NetContext&) = delete;
  NetContext& operator=(const NetContext&) = delete;

  [[nodiscard]] lws_context* context() const noexcept { return ctx_; }
  [[nodiscard]] lws_vhost* client_vhost() const noexcept { return client_vh_; }

  // Thread-safe: interrupts lws_service so on_wake runs.
  void wake() noexcept;

  static int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len);

 private:
  std::vector<std::string> extra_ca_files_;
  std::function<void()> on_wake_;
  lws_context* ctx_ = nullptr;
  lws_vhost* client_vh_ = nullptr;
};

}  // namespace mdfeed::net
