// Wake-ups that do not grow with readers. FUTEX_WAKE wakes every blocked reader inside the
// syscall, so the writer's cost per update grows with the readers blocked on that ring (about
// 1-2 µs each on a VM): 32 blocked readers made one update cost the daemon's service thread
// 65 µs. A ring whose last wake-up found more than kInlineMaxWaiters blocked readers is handed
// to this scheduler: the writer then only marks it pending (an atomic store), and the
// scheduler's thread wakes its readers, coalescing every update of the last period into one
// FUTEX_WAKE. Rings with few blocked readers keep the inline wake-up, so a lone blocking
// reader's latency is unchanged. Policy and measurements: docs/design.md, "Wake-ups".
//
// Readers are unaffected: update_count is bumped on every publish as before, FUTEX_WAIT compares
// against it, so a reader never misses the latest update; it may wake once for several.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace mdfeed {

// One ring's wake-up state, owned by its RingWriter (stable address), shared with the
// scheduler's thread while delegated.
struct RingWakeState {
  std::uint32_t* futex_word = nullptr;   // the ring header's update_count
  std::atomic<bool> delegated{false};    // the writer marks pending instead of waking
  std::atomic<bool> pending{false};      // updates since the scheduler last woke this ring
  std::uint32_t quiet_rounds = 0;        // scheduler wakes in a row that found few waiters
  bool listed = false;                   // in the scheduler's list (guarded by its mutex)
};

class WakeScheduler {
 public:
  // A ring goes to the scheduler when an inline wake-up found more blocked readers than this.
  static constexpr int kInlineMaxWaiters = 2;
  // ... and back to inline wake-ups after this many scheduler rounds with at most that many.
  static constexpr std::uint32_t kQuietRoundsToInline = 64;

  // period: how often the thread wakes the pending rings while any ring is delegated. It is the
  // extra latency a reader of a delegated (crowded) ring may see; with no delegated ring the
  // thread sleeps.
  explicit WakeScheduler(std::chrono::microseconds period = std::chrono::microseconds(500));
  ~WakeScheduler();
  WakeScheduler(const WakeScheduler&) = delete;
  WakeScheduler& operator=(const WakeScheduler&) = delete;

  // Writer thread: after an inline wake-up that woke `woken` readers. Delegates the ring when
  // that is more than kInlineMaxWaiters.
  void after_inline_wake(RingWakeState& s, int woken);
  // Writer thread, before the ring is unmapped: the scheduler never touches it again.
  void forget(RingWakeState& s);

  [[nodiscard]] std::uint64_t wakes() const noexcept { return wakes_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::size_t delegated_rings() const;

 private:
  void run();
  void round();

  const std::chrono::microseconds period_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<RingWakeState*> rings_;  // guarded by mu_
  bool stop_ = false;                  // guarded by mu_
  std::atomic<std::uint64_t> wakes_{0};
  std::thread thread_;
};

// FUTEX_WAKE(INT_MAX) on a process-shared word; returns the number of waiters woken.
int futex_wake_all(std::uint32_t* word) noexcept;

}  // namespace mdfeed
