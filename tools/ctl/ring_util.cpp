// Ring helpers shared by bars, tail and list.
#include "ring_util.hpp"

#include <cmath>

namespace mdfeed::ctl {
namespace {

// A table/tail cell: "-" for a field the venue does not send (NaN; inf too, as JSON has no
// spelling for either and writes null).
std::string cell(double v) { return std::isfinite(v) ? format_double(v) : "-"; }
std::string trades_cell(const Bar& b) { return b.trades_known() ? std::to_string(b.trades) : "-"; }

}  // namespace

Ring open_ring(const Invocation& inv, const RingName& name) {
  require_shm_dir(inv.shm_dir);
  return Ring::open(name.feed, name.symbol, name.interval, inv.shm_dir);
}

std::string writer_text(const Ring& ring) {
  switch (ring.writer_state()) {
    case WriterState::kLive: return ring.writer_alive(kWriterDeadAfter) ? "live" : "dead";
    case WriterState::kInit: return "init";
    case WriterState::kStopped: return "stopped";
    case WriterState::kRetired: return "retired";
  }
  return "unknown";
}

void bar_json(Json& j, const Bar& b) {
  j.begin_object()
      .key("open_time").value(b.open_time_ms)
      .key("close_time").value(b.close_time_ms)
      .key("open").value(b.open)
      .key("high").value(b.high)
      .key("low").value(b.low)
      .key("close").value(b.close)
      .key("volume").value(b.volume)
      .key("quote_volume").value(b.quote_volume)
      .key("taker_buy_volume").value(b.taker_buy_volume)
      .key("taker_buy_quote_volume").value(b.taker_buy_quote_volume)
      .key("trades");
  if (b.trades_known()) j.value(b.trades);
  else j.null();  // kBarNoTrades: the venue does not count trades, unknown is not zero
  j.key("closed").value(b.closed())
      .key("backfilled").value(b.backfilled())
      .end_object();
}

std::vector<std::string> bar_headers() {
  return {"OPEN_TIME", "OPEN", "HIGH", "LOW", "CLOSE", "VOLUME", "QUOTE_VOLUME", "TRADES", "STATE"};
}

std::vector<bool> bar_right_aligned() {
  return {false, true, true, true, true, true, true, true, false};
}

std::vector<std::string> bar_cells(const Bar& b) {
  return {iso_utc(b.open_time_ms), cell(b.open),   cell(b.high),
          cell(b.low),             cell(b.close),  cell(b.volume),
          cell(b.quote_volume),    trades_cell(b), b.closed() ? "closed" : "forming"};
}

std::string bar_line(const Bar& b) {
  return iso_utc(b.open_time_ms) + (b.closed() ? "  closed   " : "  forming  ") +
         "open=" + cell(b.open) + " high=" + cell(b.high) + " low=" + cell(b.low) +
         " close=" + cell(b.close) + " volume=" + cell(b.volume) +
         " quote_volume=" + cell(b.quote_volume) + " trades=" + trades_cell(b) + "\n";
}

}  // namespace mdfeed::ctl
