// mdfeed-ctl bars: the last N closed bars (validated copies) and the forming bar.
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <vector>

#include "cli.hpp"
#include "ring_util.hpp"

namespace mdfeed::ctl {
namespace {

constexpr std::uint64_t kDefaultBars = 10;

std::string render_json(const std::vector<Bar>& bars, const std::optional<Bar>& forming) {
  Json j;
  j.begin_array();
  for (const Bar& b : bars) bar_json(j, b);
  if (forming) bar_json(j, *forming);
  j.end_array();
  return j.str() + "\n";
}

std::string render_table(const Ring& ring, const std::vector<Bar>& bars,
                         const std::optional<Bar>& forming, bool color) {
  Table t(bar_headers(), bar_right_aligned());
  for (const Bar& b : bars) t.add(bar_cells(b));
  if (forming) t.add(bar_cells(*forming), Color::kBold);
  return ring.feed() + ":" + ring.symbol() + " " + ring.interval() + "  closed " +
         std::to_string(ring.closed_count()) + ", capacity " + std::to_string(ring.capacity()) +
         ", writer " + writer_text(ring) + "\n" + t.render(color);
}

}  // namespace

int run_bars(const Invocation& inv) {
  const RingName name = parse_ring_name(inv.positional[0], inv.positional[1]);
  const std::uint64_t n =
      inv.value("count") ? parse_count(*inv.value("count"), "-n", 1, 1U << 24) : kDefaultBars;
  const Ring ring = open_ring(inv, name);
  const std::vector<Bar> bars = ring.copy_latest(static_cast<std::size_t>(n));
  const std::optional<Bar> forming = ring.forming();
  if (inv.flag("json")) {
    write_out(render_json(bars, forming));
    return kExitOk;
  }
  write_out(render_table(ring, bars, forming, want_color(STDOUT_FILENO)));
  if (writer_text(ring) == "dead")
    std::fprintf(stderr, "mdfeed-ctl: warning: the writer of %s is not alive; data may be old\n",
                 name.label().c_str());
  return kExitOk;
}

}  // namespace mdfeed::ctl
