// mdfeed-ctl tail: print each update as the daemon publishes it. Blocks in
// Ring::wait_for_update (FUTEX_WAIT on the ring's update counter), never polls.
#include <cstdio>
#include <cstring>
#include <optional>
#include <vector>

#include "cli.hpp"
#include "ring_util.hpp"

namespace mdfeed::ctl {
namespace {

// Upper bound of one futex wait: how quickly we notice a replaced file or the deadline.
constexpr std::chrono::milliseconds kWaitSlice{1000};

class Tail {
 public:
  Tail(Ring ring, bool json, std::uint64_t max_updates)
      : ring_(std::move(ring)), json_(json), max_(max_updates) {
    resync();
  }

  [[nodiscard]] bool done() const noexcept { return printed_ >= max_; }
  [[nodiscard]] std::uint64_t printed() const noexcept { return printed_; }

  // Waits up to `slice` for the next update and prints what changed.
  void step(std::chrono::milliseconds slice) {
    if (!ring_.wait_for_update(seen_update_, slice)) {
      if (ring_.reopen_if_replaced()) resync();  // daemon restarted with a new file
      return;
    }
    seen_update_ = ring_.update_count();
    print_closed();
    print_forming();
  }

 private:
  void resync() {
    seen_update_ = ring_.update_count();
    seen_closed_ = ring_.closed_count();
    last_forming_ = ring_.forming();
  }

  void print_closed() {
    const std::uint64_t closed = ring_.closed_count();
    if (closed <= seen_closed_) return;
    std::uint64_t first = seen_closed_;
    // More than a ring's worth arrived since we looked: the oldest are gone; say so.
    if (closed - first > ring_.capacity() - 1ULL) {
      const std::uint64_t skip = closed - first - (ring_.capacity() - 1ULL);
      std::fprintf(stderr, "mdfeed-ctl: tail: skipped %llu bars overwritten before we read them\n",
                   static_cast<unsigned long long>(skip));
      first += skip;
    }
    bars_.resize(static_cast<std::size_t>(closed - first));
    if (ring_.copy_range(first, bars_.size(), bars_.data()))
      for (const Bar& b : bars_) emit(b);
    seen_closed_ = closed;
  }

  void print_forming() {
    const std::optional<Bar> f = ring_.forming();
    const bool same = f.has_value() == last_forming_.has_value() &&
                      (!f || std::memcmp(&*f, &*last_forming_, sizeof(Bar)) == 0);
    last_forming_ = f;
    if (f && !same) emit(*f);
  }

  void emit(const Bar& b) {
    if (done()) return;
    if (json_) {
      Json j;
      bar_json(j, b);
      write_out(j.str() + "\n");
    } else {
      write_out(bar_line(b));
    }
    ++printed_;
  }

  Ring ring_;
  bool json_;
  std::uint64_t max_;
  std::uint64_t printed_ = 0;
  std::uint32_t seen_update_ = 0;
  std::uint64_t seen_closed_ = 0;
  std::optional<Bar> last_forming_;
  std::vector<Bar> bars_;
};

}  // namespace

int run_tail(const Invocation& inv) {
  const RingName name = parse_ring_name(inv.positional[0], inv.positional[1]);
  const auto count = inv.value("count");
  const std::uint64_t max_updates =
      count ? parse_count(*count, "--count", 1, UINT64_MAX) : UINT64_MAX;
  const auto timeout_text = inv.value("timeout");
  using Clock = std::chrono::steady_clock;
  // No --timeout: a deadline that never comes (the loop still wakes every slice).
  const Clock::time_point deadline =
      timeout_text ? Clock::now() + parse_seconds(*timeout_text, "--timeout") : Clock::time_point::max();
  Tail tail(open_ring(inv, name), inv.flag("json"), max_updates);
  while (!tail.done()) {
    const Clock::time_point now = Clock::now();
    if (now >= deadline) break;
    const auto left = deadline == Clock::time_point::max()
                          ? kWaitSlice
                          : std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    tail.step(std::min(kWaitSlice, std::max(left, std::chrono::milliseconds(1))));
  }
  if (tail.done() || !count) return kExitOk;
  std::fprintf(stderr, "mdfeed-ctl: tail: timed out after %s s with %llu of %llu updates\n",
               timeout_text->c_str(), static_cast<unsigned long long>(tail.printed()),
               static_cast<unsigned long long>(max_updates));
  return kExitError;
}

}  // namespace mdfeed::ctl
