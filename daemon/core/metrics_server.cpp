// The /metrics HTTP server: one GET, the page written in chunks.
#include "core/metrics_server.hpp"

#include <cstring>
#include <vector>

#include "core/logging.hpp"
#include "mdfeed/error.hpp"
#include "ops/metrics.hpp"

namespace mdfeed {
namespace {

// Per-HTTP-connection state (lws allocates it zeroed; we own `body`).
struct MetricsPss {
  std::string* body;
  std::size_t sent;
};

const lws_protocols kMetricsProtocols[] = {
    {"http", &MetricsServer::callback, sizeof(MetricsPss), 0, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

}  // namespace

MetricsServer::MetricsServer(lws_context* ctx, const std::string& listen, const status::StatusWriter& status)
    : status_(status) {
  const auto colon = listen.rfind(':');
  const std::string host = listen.substr(0, colon);
  const int port = std::atoi(listen.c_str() + colon + 1);
  lws_context_creation_info vi{};
  vi.port = port;
  vi.iface = host.c_str();
  vi.protocols = kMetricsProtocols;
  vi.vhost_name = "mdfeed-metrics";
  vi.user = this;
  vh_ = lws_create_vhost(ctx, &vi);
  if (vh_ == nullptr) throw Error("mdfeed: cannot listen for metrics on " + listen);
  spdlog::info("metrics: serving Prometheus text at http://{}/metrics", listen);
}

MetricsServer::~MetricsServer() = default;  // the vhost goes with the context

int MetricsServer::callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len) {
  auto* self = wsi != nullptr ? static_cast<MetricsServer*>(lws_vhost_user(lws_get_vhost(wsi))) : nullptr;
  try {
    if (self == nullptr) return lws_callback_http_dummy(wsi, reason, user, in, len);
    return self->on_http(wsi, reason, user, in);
  } catch (const std::exception& e) {
    spdlog::error("metrics: {}", e.what());  // nothing crosses an lws callback
    return -1;
  }
}

int MetricsServer::on_http(lws* wsi, lws_callback_reasons reason, void* user, void* in) {
  auto* pss = static_cast<MetricsPss*>(user);
  switch (reason) {
    case LWS_CALLBACK_HTTP: {
      const char* uri = static_cast<const char*>(in);
      if (uri == nullptr || std::strcmp(uri, "/metrics") != 0) {
        lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, "try /metrics");
        return lws_http_transaction_completed(wsi) ? -1 : 0;
      }
      pss->body = new std::string(ops::format_prometheus(status_.snapshot(), status::monotonic_ns()));
      pss->sent = 0;
      unsigned char buf[LWS_PRE + 1024];
      unsigned char* start = buf + LWS_PRE;
      unsigned char* p = start;
      unsigned char* end = buf + sizeof buf - 1;
      if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, ops::kPrometheusContentType, pss->body->size(), &p, end) ||
          lws_finalize_write_http_header(wsi, start, &p, end))
        return 1;
      lws_callback_on_writable(wsi);
      return 0;
    }
    case LWS_CALLBACK_HTTP_WRITEABLE: {
      if (pss == nullptr || pss->body == nullptr) return -1;
      constexpr std::size_t kChunk = 16384;
      std::vector<unsigned char> buf(LWS_PRE + kChunk);
      const std::size_t n = std::min(kChunk, pss->body->size() - pss->sent);
      std::memcpy(buf.data() + LWS_PRE, pss->body->data() + pss->sent, n);
      const bool last = pss->sent + n == pss->body->size();
      if (lws_write(wsi, buf.data() + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != static_cast<int>(n))
        return -1;
      pss->sent += n;
      if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
      }
      return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
      if (pss != nullptr) {
        delete pss->body;
        pss->body = nullptr;
      }
      return 0;
    default:
      return lws_callback_http_dummy(wsi, reason, user, in, 0);
  }
}

}  // namespace mdfeed
