// URL parsing and lws helpers.
#include "core/net.hpp"

#include <libwebsockets.h>

#include <charconv>

namespace mdfeed::net {

std::optional<Endpoint> parse_url(std::string_view url, std::string_view scheme) {
  const std::string want = std::string(scheme) + "://";
  if (url.substr(0, want.size()) != want) return std::nullopt;
  url.remove_prefix(want.size());
  const auto slash = url.find('/');
  std::string_view hostport = url.substr(0, slash);
  Endpoint ep;
  if (slash != std::string_view::npos) {
    ep.path_prefix = std::string(url.substr(slash));
    while (!ep.path_prefix.empty() && ep.path_prefix.back() == '/') ep.path_prefix.pop_back();
  }
  std::string_view host = hostport;
  if (!hostport.empty() && hostport.front() == '[') {  // [::1]:443
    const auto close = hostport.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = hostport.substr(1, close - 1);
    hostport.remove_prefix(close + 1);
    if (!hostport.empty() && hostport.front() != ':') return std::nullopt;
  } else if (const auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
    host = hostport.substr(0, colon);
    hostport.remove_prefix(colon);
  } else {
    hostport = {};
  }
  if (!hostport.empty()) {  // ":port"
    int port = 0;
    const auto* b = hostport.data() + 1;
    const auto* e = hostport.data() + hostport.size();
    const auto r = std::from_chars(b, e, port);
    if (r.ec != std::errc() || r.ptr != e || port <= 0 || port > 65535) return std::nullopt;
    ep.port = port;
  }
  if (host.empty()) return std::nullopt;
  ep.host = std::string(host);
  return ep;
}

int read_http_body(lws* wsi) noexcept {
  char buf[LWS_PRE + 16384];  // one TLS record at most
  char* p = buf + LWS_PRE;
  int n = static_cast<int>(sizeof(buf) - LWS_PRE);
  return lws_http_client_read(wsi, &p, &n) < 0 ? -1 : 0;
}

bool start_read_ahead(lws* wsi) noexcept {
  SSL* ssl = lws_get_ssl(wsi);
  if (ssl == nullptr) return false;
  SSL_set_read_ahead(ssl, 1);
  return true;
}

int read_tls_stream(lws* wsi) noexcept {
  SSL* ssl = lws_get_ssl(wsi);
  if (ssl == nullptr || SSL_get_read_ahead(ssl) == 0) return read_http_body(wsi);
  // Stop when nothing is buffered, or when OpenSSL waits for the socket. Wanting to read, what
  // it holds is the start of a record whose rest wakes poll(). Wanting to write (its answer to a
  // TLS 1.3 KeyUpdate met a full send buffer), it cannot go on until POLLOUT, which lws 4.1 does
  // not ask for: we do, and the writeable callback drains again (tls_records_buffered).
  const auto stopped = [ssl] { return SSL_has_pending(ssl) == 0 || SSL_want(ssl) != SSL_NOTHING; };
  int rc = 0;
  int i = 0;
  for (; i < kReadAheadReads; ++i) {
    if (read_http_body(wsi) < 0) return -1;
    if (stopped()) break;
  }
  if (i == kReadAheadReads) {
    // The buffer holds at most ~17 KB of records (about 800 of the smallest), each read takes one.
    SSL_set_read_ahead(ssl, 0);
    for (int j = 0; j < 2048 && !stopped(); ++j)
      if (read_http_body(wsi) < 0) {
        rc = -1;
        break;
      }
    SSL_set_read_ahead(ssl, 1);
  }
  if (rc == 0 && SSL_want_write(ssl) && SSL_has_pending(ssl)) lws_callback_on_writable(wsi);
  return rc;
}

bool tls_records_buffered(lws* wsi) noexcept {
  SSL* ssl = wsi != nullptr ? lws_get_ssl(wsi) : nullptr;
  return ssl != nullptr && SSL_get_read_ahead(ssl) != 0 && SSL_has_pending(ssl) != 0;
}

void close_async(lws* wsi) noexcept {
  if (wsi != nullptr) lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

}  // namespace mdfeed::net
