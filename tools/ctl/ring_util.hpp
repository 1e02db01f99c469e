// Ring helpers shared by bars, tail and list: opening with clear errors, and bar formatting.
#pragma once

#include <string>

#include "cli.hpp"
#include "format.hpp"
#include "mdfeed/reader.hpp"

namespace mdfeed::ctl {

// docs/design.md: a writer whose heartbeat is older than about 2 s is dead.
inline constexpr std::chrono::milliseconds kWriterDeadAfter{2000};

// Checks the shm dir first so a missing directory is reported as such, not as a missing ring.
[[nodiscard]] Ring open_ring(const Invocation& inv, const RingName& name);
// live / stopped / retired / init, or "dead" for a live writer whose heartbeat stopped.
[[nodiscard]] std::string writer_text(const Ring& ring);

// Fields a venue does not send (DESIGN.md "Venues": NaN doubles, kBarNoTrades for the trade
// count) are null in JSON and "-" in tables and tail lines, never "nan" or 0.
//
// One bar as a JSON object: open_time, close_time (ms), OHLC, volumes, trades, closed.
void bar_json(Json& j, const Bar& b);
// Cells for a bars table row, in bar_headers() order.
[[nodiscard]] std::vector<std::string> bar_headers();
[[nodiscard]] std::vector<bool> bar_right_aligned();
[[nodiscard]] std::vector<std::string> bar_cells(const Bar& b);
// One self-describing line for tail.
[[nodiscard]] std::string bar_line(const Bar& b);

}  // namespace mdfeed::ctl
