// Prometheus /metrics over HTTP on the daemon's own lws context: a listening vhost whose pages
// are rendered from the status snapshot (the same data mdfeed-ctl shows). Service thread only.
#pragma once

#include <libwebsockets.h>

#include <string>

#include "status/status.hpp"

namespace mdfeed {

class MetricsServer {
 public:
  // listen: "host:port". Throws mdfeed::Error when it cannot listen. The status writer must
  // outlive the server.
  MetricsServer(lws_context* ctx, const std::string& listen, const status::StatusWriter& status);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  static int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len);

 private:
  int on_http(lws* wsi, lws_callback_reasons reason, void* user, void* in);
  const status::StatusWriter& status_;
  lws_vhost* vh_ = nullptr;
};

}  // namespace mdfeed
