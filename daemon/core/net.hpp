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

// Kills a wsi from outside its own callback: lws closes it on its next service pass.
void close_async(lws* wsi) noexcept;

}  // namespace mdfeed::net
