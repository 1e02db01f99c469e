// The fake exchange server: one libwebsockets context, one TLS vhost on 127.0.0.1 serving
// WebSocket kline streams and the REST API on the same port, with fault injection.
#pragma once

#include "fake_exchange/options.hpp"

namespace mdfeed::fake {

// Runs until SIGINT/SIGTERM, then prints the final "stats {...}" line. Returns the exit code
// (0 clean, 1 start-up failure). Start-up problems are reported on stderr.
[[nodiscard]] int run_server(const Options& options);

}  // namespace mdfeed::fake
