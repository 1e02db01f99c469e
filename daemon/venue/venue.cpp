// Venue-neutral helpers: names of enum values, interval look-up, lists for error messages.
#include "venue/venue.hpp"

namespace mdfeed::venue {

WsProtocol::~WsProtocol() = default;

const char* to_string(EventKind k) noexcept {
  switch (k) {
    case EventKind::kKline: return "kline";
    case EventKind::kTrade: return "trade";
    case EventKind::kIgnored: return "ignored";
    case EventKind::kControlReply: return "control reply";
    case EventKind::kShutdown: return "shutdown";
    case EventKind::kNotice: return "notice";
    case EventKind::kPong: return "pong";
    case EventKind::kError: return "error";
  }
  return "?";
}

const char* to_string(RestVerdict v) noexcept {
  switch (v) {
    case RestVerdict::kOk: return "ok";
    case RestVerdict::kRetryAfter: return "rate limited";
    case RestVerdict::kBanned: return "banned";
    case RestVerdict::kInvalidSymbol: return "invalid symbol";
    case RestVerdict::kVenueError: return "venue error";
    case RestVerdict::kMalformed: return "malformed";
  }
  return "?";
}

std::optional<std::string_view> Spec::venue_interval(std::string_view canonical) const noexcept {
  for (std::size_t i = 0; i < interval_count; ++i)
    if (intervals[i].canonical == canonical) return intervals[i].venue;
  return std::nullopt;
}

std::string Spec::interval_list() const {
  std::string s;
  for (std::size_t i = 0; i < interval_count; ++i) {
    if (!s.empty()) s += ' ';
    s += intervals[i].canonical;
  }
  return s;
}

std::string name_list() {
  std::string s;
  for (const Spec* v : all()) {
    if (!s.empty()) s += ' ';
    s += v->name;
  }
  return s;
}

}  // namespace mdfeed::venue
