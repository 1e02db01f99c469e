// Prints the last N closed bars and the forming bar of one ring, then follows updates for a few
// seconds using the futex wait. Usage: read_latest [SYMBOL] [INTERVAL] [N] [SECONDS] [FEED]
#include <mdfeed/reader.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

void print_bar(const mdfeed::Bar& b, const char* tag) {
  std::printf("%s open_time=%lld o=%.8g h=%.8g l=%.8g c=%.8g v=%.8g trades=%llu\n", tag,
              static_cast<long long>(b.open_time_ms), b.open, b.high, b.low, b.close, b.volume,
              static_cast<unsigned long long>(b.trades));
}

}  // namespace

int main(int argc, char** argv) {
  const std::string symbol = argc > 1 ? argv[1] : "BTCUSDT";
  const std::string interval = argc > 2 ? argv[2] : "1m";
  const auto n = static_cast<std::size_t>(argc > 3 ? std::atoi(argv[3]) : 5);
  const int seconds = argc > 4 ? std::atoi(argv[4]) : 0;
  const std::string feed = argc > 5 ? argv[5] : "binance";
  try {
    auto ring = mdfeed::Ring::open(feed, symbol, interval);
    auto view = ring.latest(n);
    for (const mdfeed::Bar& b : view) print_bar(b, "closed ");
    if (!view.valid()) std::puts("(lapped while printing; re-read)");
    if (auto f = ring.forming()) print_bar(*f, "forming");
    std::printf("closed_count=%llu writer_alive=%d\n",
                static_cast<unsigned long long>(ring.closed_count()), ring.writer_alive() ? 1 : 0);

    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    auto seen = ring.update_count();
    while (std::chrono::steady_clock::now() < end) {
      if (!ring.wait_for_update(seen, std::chrono::milliseconds(500))) continue;
      seen = ring.update_count();
      if (auto f = ring.forming()) print_bar(*f, "update ");
    }
  } catch (const mdfeed::Error& e) {
    std::fprintf(stderr, "read_latest: %s\n", e.what());
    return 1;
  }
  return 0;
}
