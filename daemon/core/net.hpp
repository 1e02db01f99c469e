// Small networking helpers shared by the WebSocket sessions and the REST client.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct lws;
struct lws_context;
struct lws_vhost;

namespace mdfeed::net {

// scheme://host[:port][/prefix]. Only TLS schemes (wss, https) are accepted: verification is
// never optional in mdfeed.
struct Endpoint {
  std::string host;
  int port = 443;
  std::string path_prefix;  // "" or "/x" (no trailing '/')
};

[[nodiscard]] std::optional<Endpoint> parse_url(std::string_view url, std::string_view scheme);

[[nodiscard]] inline std::int64_t mono_ms() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

[[nodiscard]] inline std::int64_t wall_ms() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// From LWS_CALLBACK_RECEIVE_CLIENT_HTTP: reads what is there of an HTTP client's body, which lws
// hands over as LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ. Returns the callback's result.
[[nodiscard]] int read_http_body(lws* wsi) noexcept;

// A data connection after its upgrade: from now on OpenSSL reads ahead, so one read() brings
// every TLS record the socket holds (without it, each record costs two: its 5-byte header, then
// its body). Returns false if the connection has no TLS object (never so in mdfeed).
bool start_read_ahead(lws* wsi) noexcept;

// From LWS_CALLBACK_RECEIVE_CLIENT_HTTP on a connection with read-ahead: read_http_body until
// OpenSSL holds no complete record. lws 4.1 looks only at SSL_pending (bytes already decrypted),
// and poll() cannot see records buffered but not yet decrypted, so anything left there would
// wait for the peer's next bytes. At most kReadAheadReads records are read with read-ahead on
// (each may refill the buffer from the socket), so a flooding peer cannot hold the service loop;
// then what is buffered (at most ~17 KB) is finished with read-ahead off: no socket read beyond
// the record in progress. The next records wait for poll(), like every other connection's.
inline constexpr int kReadAheadReads = 16;
[[nodiscard]] int read_tls_stream(lws* wsi) noexcept;

// Records OpenSSL still holds for a read-ahead connection: read_tls_stream stopped because
// OpenSSL had to write first. The writeable callback drains them.
[[nodiscard]] bool tls_records_buffered(lws* wsi) noexcept;

// Kills a wsi from outside its own callback: lws closes it on its next service pass.
void close_async(lws* wsi) noexcept;

}  // namespace mdfeed::net

namespace mdfeed::net {

// First member of every object stored as an lws wsi's opaque user data. lws 4.1 may deliver a
// client connection's early callbacks (e.g. CONNECTION_ERROR) to the vhost's first protocol,
// not the one asked for, so the callback must tell a WebSocket session from a REST call by
// looking at the object, never by the protocol it was called through.
struct LwsUser {
  enum class Kind : std::uint32_t { kWs = 0x6d647773, kRest = 0x6d647273 };
  explicit LwsUser(Kind k) : kind(k) {}
  Kind kind;
};

}  // namespace mdfeed::net
