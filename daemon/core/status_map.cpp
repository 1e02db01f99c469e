// Stream and connection rows of the status segment.
#include "core/status_map.hpp"

namespace mdfeed {
namespace {

status::StreamState to_status(const Stream& s) {
  if (s.retired) return status::StreamState::kRetired;
  switch (s.book.state()) {
    case BookState::kBackfilling: return status::StreamState::kBackfilling;
    case BookState::kLive: return status::StreamState::kLive;
    case BookState::kGapFilling: return status::StreamState::kGapFilling;
    case BookState::kFailed: return status::StreamState::kFailed;
  }
  return status::StreamState::kPending;
}

}  // namespace

status::StreamInfo stream_info(const Stream& s) {
  status::StreamInfo si;
  fill_stream_info(s, si);
  return si;
}

void fill_stream_info(const Stream& s, status::StreamInfo& si) {
  si.feed = s.feed.cfg.name;
  si.symbol = s.symbol;
  si.interval = s.interval;
  si.state = to_status(s);
  si.conn_id = s.session != nullptr ? static_cast<std::uint32_t>(s.session->id()) : 0;
  si.last_update_ns = s.last_update_ns;
  si.closed_bars = s.ring.closed_count();
  const BookCounters& c = s.book.counters();
  si.gaps_filled = c.gaps_detected;  // gap episodes (reconnects, jumps); backfill is not a gap
  si.late_closes = c.late_closes_fetched;
  si.dropped = c.duplicates_dropped + c.stale_dropped + c.out_of_order_dropped + c.missing_dropped;
  si.bad_messages = s.session != nullptr ? s.session->stats().bad : 0;  // per connection
  si.explicit_gaps = c.explicit_gaps;
  si.last_bar_open_ms = s.book.last_closed_open_ms().value_or(0);
  si.failure = s.book.failure_reason();
}

status::ConnectionInfo connection_info(const Feed& f, const WsSession& ses) {
  status::ConnectionInfo ci;
  ci.feed = f.cfg.name;
  ci.id = static_cast<std::uint32_t>(ses.id());
  ci.state = ses.state();
  ci.streams = static_cast<std::uint32_t>(ses.stream_count());
  ci.connected_since_ms = ses.state() == ConnState::kConnected ? ses.connected_since_wall_ms() : 0;
  ci.reconnects = ses.stats().reconnects;
  ci.messages = ses.stats().messages;
  // The connection's own error, else the feed's REST state (a ban stops every backfill).
  ci.last_error = ses.last_error();
  if (ci.last_error.empty()) ci.last_error = f.rest_state(net::mono_ms());
  return ci;
}

}  // namespace mdfeed
