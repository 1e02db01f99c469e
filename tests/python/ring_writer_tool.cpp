// Test helper for the Python client: writes known bars into a ring with the real C++ writer, so
// the Python tests compare against exactly what C++ stored (bit patterns printed on stdout).
//
//   ring_writer_tool --dir D [--feed F] [--symbol S] [--interval I] [--capacity C]
//                    [--closed N] [--forming] [--values synth|tricky]
//                    [--unknown-fields all|odd]
//                    [--hold | --stress [--revs R]] [--max-ms MS]
//   ring_writer_tool --print-layout
//   ring_writer_tool --dir D --many N [--no-doorbell]
//
// Output: one "BAR <index> <fields...>" line per closed bar written, "FORMING <index> <fields>"
// for the forming bar (doubles as 16 hex digits of their bits), then "READY <path>". With --hold
// the writer stays live (heartbeat every 100 ms); with --stress it rewrites the forming bar and
// closes bars at full speed. --unknown-fields writes the bars (all, or those with an odd index)
// as OKX/Bybit are stored: NaN taker-buy volumes, trades 0 and kBarNoTrades. Both end at EOF on stdin or after --max-ms, then the writer closes
// (state "stopped") and "DONE closed=<n> updates=<n>" is printed.
//
// --many N writes N rings binance/SYM000.1m ... (capacity 16) and opens the shm dir's doorbell
// as the daemon does (not with --no-doorbell), prints "READY <dir>", then takes one command per
// line on stdin: ring indexes "K1 K2 ..." publish a forming bar on each of those rings, then
// ring the bell once (one service pass); "bell" rings it with no change. Each command is
// answered "RANG <bell value>". EOF closes every ring and prints "DONE".
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "mdfeed/doorbell_writer.hpp"
#include "mdfeed/layout.hpp"
#include "mdfeed/names.hpp"
#include "mdfeed/ring_writer.hpp"
#include "test_util.hpp"

namespace {

struct Args {
  mdfeed::RingWriter::Options ring;
  std::uint64_t closed = 0;
  bool forming = false;
  bool tricky = false;
  enum class Unknown { kNone, kAll, kOdd } unknown = Unknown::kNone;
  bool hold = false;
  bool stress = false;
  std::uint64_t revs = 50;  // forming updates per bar in --stress (synth rev must stay < 1000)
  std::int64_t max_ms = 60'000;
  std::uint32_t many = 0;
  bool doorbell = true;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "ring_writer_tool: %s\n", why);
  std::exit(2);
}

Args::Unknown parse_unknown(const std::string& v) {
  if (v == "all") return Args::Unknown::kAll;
  if (v == "odd") return Args::Unknown::kOdd;
  usage("--unknown-fields takes all or odd");
}

Args parse(int argc, char** argv) {
  Args a;
  a.ring.feed = "binance";
  a.ring.symbol = "BTCUSDT";
  a.ring.interval = "1m";
  a.ring.capacity = 64;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + k).c_str());
      return argv[++i];
    };
    if (k == "--dir") a.ring.shm_dir = val();
    else if (k == "--feed") a.ring.feed = val();
    else if (k == "--symbol") a.ring.symbol = val();
    else if (k == "--interval") a.ring.interval = val();
    else if (k == "--capacity") a.ring.capacity = static_cast<std::uint32_t>(std::stoul(val()));
    else if (k == "--closed") a.closed = std::stoull(val());
    else if (k == "--forming") a.forming = true;
    else if (k == "--values") a.tricky = val() == "tricky";
    else if (k == "--unknown-fields") a.unknown = parse_unknown(val());
    else if (k == "--hold") a.hold = true;
    else if (k == "--stress") a.stress = true;
    else if (k == "--revs") a.revs = std::stoull(val());
    else if (k == "--max-ms") a.max_ms = std::stoll(val());
    else if (k == "--many") a.many = static_cast<std::uint32_t>(std::stoul(val()));
    else if (k == "--no-doorbell") a.doorbell = false;
    else usage(("unknown argument " + k).c_str());
  }
  if (a.ring.shm_dir.empty()) usage("--dir is required");
  if (!a.tricky && a.ring.interval != "1m") usage("synth values are 1m bars");
  if (a.revs < 1 || a.revs >= 1000) usage("--revs must be in [1, 999]");
  return a;
}

// Open time of bar i of the tricky series: contiguous in the ring's own interval (months start
// on the 1st, from December 2023).
std::int64_t open_time(const std::string& interval, std::uint64_t i) {
  std::int64_t t = mdfeed::test::kBaseOpenMs;
  if (interval == "1M") {
    t = mdfeed::next_open_ms(interval, t);
    for (std::uint64_t k = 0; k < i; ++k) t = mdfeed::next_open_ms(interval, t);
    return t;
  }
  return t + static_cast<std::int64_t>(i) * mdfeed::interval_ms(interval).value_or(60'000);
}

// Doubles chosen to catch any lossy path: non-terminating binary fractions, a value one ulp
// above another, tiny, huge, subnormal and negative zero. Integers beyond 2^53 for trades.
mdfeed::Bar tricky_bar(const std::string& interval, std::uint64_t i, bool closed) {
  const double k = static_cast<double>(i);
  mdfeed::Bar b{};
  b.open_time_ms = open_time(interval, i);
  b.close_time_ms = open_time(interval, i + 1) - 1;
  b.open = 43210.12345678 + k * 0.01;
  b.high = std::nextafter(b.open, std::numeric_limits<double>::infinity());
  b.low = 0.1 + 0.2;
  b.close = 1.0 / 3.0 * (k + 1.0);
  b.volume = 1e-8 * (k + 1.0);
  b.quote_volume = 1e300 / (k + 1.0);
  b.taker_buy_volume = std::numeric_limits<double>::denorm_min() * (k + 1.0);
  b.taker_buy_quote_volume = -0.0;
  b.trades = (std::uint64_t{1} << 53) + i;
  b.flags = (closed ? mdfeed::kBarClosed : 0U) | (i % 2 == 0 ? mdfeed::kBarBackfilled : 0U);
  return b;
}

mdfeed::Bar make_bar(const Args& a, std::uint64_t i, bool closed) {
  const mdfeed::Bar b = a.tricky ? tricky_bar(a.ring.interval, i, closed)
                                 : mdfeed::test::synth_bar(i, closed ? 0 : 1, closed);
  const bool unknown = a.unknown == Args::Unknown::kAll ||
                       (a.unknown == Args::Unknown::kOdd && i % 2 == 1);
  return unknown ? mdfeed::test::with_unknown_fields(b) : b;
}

std::uint64_t bits(double d) {
  std::uint64_t u = 0;
  std::memcpy(&u, &d, sizeof u);
  return u;
}

void print_bar(const char* tag, std::uint64_t index, const mdfeed::Bar& b) {
  std::printf("%s %" PRIu64 " %" PRId64 " %" PRId64, tag, index, b.open_time_ms, b.close_time_ms);
  for (double d : {b.open, b.high, b.low, b.close, b.volume, b.quote_volume, b.taker_buy_volume,
                   b.taker_buy_quote_volume})
    std::printf(" %016" PRIx64, bits(d));
  std::printf(" %" PRIu64 " %" PRIu32 "\n", b.trades, b.flags);
}

// True once stdin reached EOF (the test closed its end of the pipe) or errored.
bool stdin_closed() {
  pollfd p{STDIN_FILENO, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if ((p.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) return true;
  char buf[256];
  return ::read(STDIN_FILENO, buf, sizeof buf) <= 0;
}

using Clock = std::chrono::steady_clock;

// Keeps the writer live without new data, as the daemon does on a quiet market.
void hold(mdfeed::RingWriter& w, Clock::time_point deadline) {
  while (Clock::now() < deadline && !stdin_closed()) {
    w.heartbeat();
    ::usleep(100'000);
  }
}

// Full speed: `revs` forming updates per bar, then the bar closes. Every field is a function
// of (index, rev), so the Python readers can detect any torn read.
std::uint64_t stress(mdfeed::RingWriter& w, const Args& a, Clock::time_point deadline) {
  std::uint64_t updates = 0;
  for (std::uint64_t batch = 0;; ++batch) {
    const std::uint64_t i = w.closed_count();
    for (std::uint64_t rev = 1; rev < a.revs; ++rev, ++updates)
      w.publish_forming(mdfeed::test::synth_bar(i, rev, false));
    w.append_closed(mdfeed::test::synth_bar(i, a.revs, true));
    ++updates;
    if (batch % 64 == 0) {
      w.heartbeat();
      if (Clock::now() >= deadline || stdin_closed()) return updates;
    }
  }
}

// --many: N rings and the doorbell, driven line by line from stdin.
int many(const Args& a) {
  std::vector<std::unique_ptr<mdfeed::RingWriter>> rings;
  for (std::uint32_t k = 0; k < a.many; ++k) {
    mdfeed::RingWriter::Options o = a.ring;
    char sym[16];
    std::snprintf(sym, sizeof sym, "SYM%03u", k);
    o.symbol = sym;
    o.capacity = 16;
    rings.push_back(std::make_unique<mdfeed::RingWriter>(mdfeed::RingWriter::open(o)));
  }
  mdfeed::DoorbellWriter bell;
  if (a.doorbell) bell = mdfeed::DoorbellWriter::open(a.ring.shm_dir);
  std::printf("READY %s\n", a.ring.shm_dir.c_str());
  std::fflush(stdout);
  char line[4096];
  std::uint64_t rev = 1;
  while (std::fgets(line, sizeof line, stdin) != nullptr) {
    std::istringstream in(line);
    std::string word;
    while (in >> word) {
      if (word == "bell") continue;
      const auto k = std::stoul(word);
      if (k >= rings.size()) {
        std::fprintf(stderr, "ring_writer_tool: no ring %lu\n", k);
        return 2;
      }
      auto& w = *rings[k];
      w.publish_forming(mdfeed::test::synth_bar(w.closed_count(), 1 + rev++ % 998, false));
      w.notify();
    }
    bell.ring();  // after the ring updates, once: what the daemon does per service pass
    std::printf("RANG %u\n", bell.value());
    std::fflush(stdout);
  }
  for (auto& w : rings) w->close();
  std::printf("DONE closed=0 updates=%" PRIu64 "\n", rev - 1);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--print-layout") == 0) {
    std::printf("SPEC %s\nHASH %" PRIu64 "\n", mdfeed::kLayoutSpec, mdfeed::kLayoutHash);
    return 0;
  }
  const Args a = parse(argc, argv);
  try {
    if (a.many > 0) return many(a);
    auto w = mdfeed::RingWriter::open(a.ring);
    for (std::uint64_t n = 0; n < a.closed; ++n) {
      const std::uint64_t i = w.closed_count();  // continue the series of a reused/replaced ring
      const mdfeed::Bar b = make_bar(a, i, true);
      w.append_closed(b);
      print_bar("BAR", i, b);
    }
    if (a.forming) {
      const mdfeed::Bar f = make_bar(a, w.closed_count(), false);
      w.publish_forming(f);
      print_bar("FORMING", w.closed_count(), f);
    }
    w.heartbeat();
    w.notify();
    std::printf("READY %s\n", w.path().c_str());
    std::fflush(stdout);
    const auto deadline = Clock::now() + std::chrono::milliseconds(a.max_ms);
    std::uint64_t updates = 0;
    if (a.stress) updates = stress(w, a, deadline);
    else if (a.hold) hold(w, deadline);
    const std::uint64_t closed = w.closed_count();
    w.close();
    std::printf("DONE closed=%" PRIu64 " updates=%" PRIu64 "\n", closed, updates);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ring_writer_tool: %s\n", e.what());
    return 1;
  }
}
