// mdfeed-ctl list: every ring under the shm directory (<dir>/<feed>/<SYMBOL>.<interval>.ring).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cli.hpp"
#include "mdfeed/names.hpp"
#include "ring_util.hpp"

namespace mdfeed::ctl {
namespace {

namespace fs = std::filesystem;

struct Entry {
  std::string feed, symbol, interval, writer, path;
  std::uint64_t closed = 0;
  std::uint32_t capacity = 0;
  std::uint32_t writer_pid = 0;
  std::int64_t last_bar_open_ms = 0;
  std::int64_t heartbeat_age_ms = -1;
};

std::size_t interval_rank(const std::string& name) {
  std::size_t i = 0;
  for (const auto& iv : kIntervals) {
    if (iv.name == name) return i;
    ++i;
  }
  return i;
}

bool is_ring_file(const fs::directory_entry& e) {
  const std::string name = e.path().filename().string();
  const std::string suffix = kRingSuffix;
  // A writer creates <name>.ring.tmp.<pid> and renames it; only finished files count.
  return e.is_regular_file() && name.size() > suffix.size() &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Entry describe(const Ring& r) {
  Entry e;
  e.feed = r.feed();
  e.symbol = r.symbol();
  e.interval = r.interval();
  e.path = r.path();
  e.closed = r.closed_count();
  e.capacity = r.capacity();
  e.writer = writer_text(r);
  e.writer_pid = r.writer_pid();
  const auto age = r.heartbeat_age();
  if (age != std::chrono::nanoseconds::max())
    e.heartbeat_age_ms = std::chrono::duration_cast<std::chrono::milliseconds>(age).count();
  const std::vector<Bar> last = r.copy_latest(1);
  if (!last.empty()) e.last_bar_open_ms = last.front().open_time_ms;
  return e;
}

// Unreadable files are reported on stderr and make the exit status 1, but do not hide the rest.
std::vector<Entry> scan(const std::string& dir, int& errors) {
  std::vector<Entry> out;
  std::error_code ec;
  for (const auto& feed_dir : fs::directory_iterator(dir, ec)) {
    if (!feed_dir.is_directory() || !valid_feed_name(feed_dir.path().filename().string())) continue;
    std::error_code ec2;
    for (const auto& f : fs::directory_iterator(feed_dir.path(), ec2)) {
      if (!is_ring_file(f)) continue;
      try {
        out.push_back(describe(Ring::open_path(f.path().string())));
      } catch (const std::exception& e) {
        std::fprintf(stderr, "mdfeed-ctl: list: %s\n", e.what());
        ++errors;
      }
    }
    if (ec2) {
      std::fprintf(stderr, "mdfeed-ctl: list: %s: %s\n", feed_dir.path().c_str(), ec2.message().c_str());
      ++errors;
    }
  }
  if (ec) throw std::runtime_error("cannot read shm directory " + dir + ": " + ec.message());
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) {
    if (a.feed != b.feed) return a.feed < b.feed;
    if (a.symbol != b.symbol) return a.symbol < b.symbol;
    return interval_rank(a.interval) < interval_rank(b.interval);
  });
  return out;
}

std::string render_json(const std::vector<Entry>& entries) {
  Json j;
  j.begin_array();
  for (const Entry& e : entries)
    j.begin_object()
        .key("feed").value(e.feed)
        .key("symbol").value(e.symbol)
        .key("interval").value(e.interval)
        .key("closed_bars").value(e.closed)
        .key("capacity").value(e.capacity)
        .key("writer").value(e.writer)
        .key("writer_pid").value(e.writer_pid)
        .key("heartbeat_age_ms").value(e.heartbeat_age_ms)
        .key("last_bar_open_time").value(e.last_bar_open_ms)
        .key("path").value(e.path)
        .end_object();
  j.end_array();
  return j.str() + "\n";
}

std::string render_table(const std::vector<Entry>& entries, const std::string& dir, bool color) {
  if (entries.empty()) return "no rings under " + dir + "\n";
  Table t({"FEED", "SYMBOL", "INTERVAL", "CLOSED", "CAPACITY", "WRITER", "LAST_BAR"},
          {false, false, false, true, true, false, false});
  for (const Entry& e : entries)
    t.add({e.feed, e.symbol, e.interval, std::to_string(e.closed), std::to_string(e.capacity),
           e.writer, iso_utc(e.last_bar_open_ms)},
          e.writer == "dead" ? Color::kYellow : Color::kNone);
  return t.render(color);
}

}  // namespace

int run_list(const Invocation& inv) {
  require_shm_dir(inv.shm_dir);
  int errors = 0;
  const std::vector<Entry> entries = scan(inv.shm_dir, errors);
  write_out(inv.flag("json") ? render_json(entries)
                             : render_table(entries, inv.shm_dir, want_color(STDOUT_FILENO)));
  return errors == 0 ? kExitOk : kExitError;
}

}  // namespace mdfeed::ctl
