// How the daemon's objects appear in the status segment (mdfeed-ctl, /metrics): one pure mapping
// per row type, so the service only decides when to publish.
#pragma once

#include "core/feed.hpp"
#include "status/status.hpp"

namespace mdfeed {

[[nodiscard]] status::StreamInfo stream_info(const Stream& s);
[[nodiscard]] status::ConnectionInfo connection_info(const Feed& f, const WsSession& ses);

}  // namespace mdfeed
