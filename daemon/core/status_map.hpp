// How the daemon's objects appear in the status segment (mdfeed-ctl, /metrics): one pure mapping
// per row type, so the service only decides when to publish.
#pragma once

#include "core/feed.hpp"
#include "status/status.hpp"

namespace mdfeed {

[[nodiscard]] status::StreamInfo stream_info(const Stream& s);
// The same into an existing row: no allocation when the strings already hold the same text.
void fill_stream_info(const Stream& s, status::StreamInfo& si);
[[nodiscard]] status::ConnectionInfo connection_info(const Feed& f, const WsSession& ses);

}  // namespace mdfeed
