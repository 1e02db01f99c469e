// Installed-package consumer: reads a ring through the installed <mdfeed/reader.hpp> only.
//   consumer SHM_DIR   prints "closed=N latest=K forming=yes|no first_open=MS", exit 0;
//                      "not found: ..." with exit 3 when there is no ring.
#include <mdfeed/reader.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer SHM_DIR\n");
    return 2;
  }
  try {
    const mdfeed::Ring ring = mdfeed::Ring::open("binance", "BTCUSDT", "1m", argv[1]);
    const auto view = ring.latest(5);
    long long first_open = 0;
    for (const mdfeed::Bar& b : view) {
      if (first_open == 0) first_open = static_cast<long long>(b.open_time_ms);
    }
    std::printf("closed=%llu latest=%zu forming=%s first_open=%lld valid=%d\n",
                static_cast<unsigned long long>(ring.closed_count()), view.size(),
                ring.forming() ? "yes" : "no", first_open, view.valid() ? 1 : 0);
    return 0;
  } catch (const mdfeed::NotFound& e) {
    std::printf("not found: %s\n", e.what());
    return 3;
  } catch (const mdfeed::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
