// The wake-up scheduler's thread: every period, one FUTEX_WAKE per delegated ring with pending
// updates; rings whose crowd has gone return to inline wake-ups.
#include "mdfeed/wake_scheduler.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>

namespace mdfeed {

int futex_wake_all(std::uint32_t* word) noexcept {
  // Not FUTEX_PRIVATE_FLAG: the readers are other processes.
  return static_cast<int>(syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0));
}

WakeScheduler::WakeScheduler(std::chrono::microseconds period)
    : period_(std::max(period, std::chrono::microseconds(50))), thread_([this] { run(); }) {}

WakeScheduler::~WakeScheduler() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void WakeScheduler::after_inline_wake(RingWakeState& s, int woken) {
  if (woken <= kInlineMaxWaiters) return;
  std::lock_guard<std::mutex> g(mu_);
  s.quiet_rounds = 0;
  if (!s.listed) {
    rings_.push_back(&s);
    s.listed = true;
  }
  s.delegated.store(true, std::memory_order_release);
  cv_.notify_all();
}

void WakeScheduler::forget(RingWakeState& s) {
  std::lock_guard<std::mutex> g(mu_);
  rings_.erase(std::remove(rings_.begin(), rings_.end(), &s), rings_.end());
  s.listed = false;
  s.delegated.store(false, std::memory_order_release);
}

std::size_t WakeScheduler::delegated_rings() const {
  std::lock_guard<std::mutex> g(mu_);
  return rings_.size();
}

// Under mu_, so forget() cannot unmap a ring while it is being woken.
void WakeScheduler::round() {
  for (std::size_t i = 0; i < rings_.size();) {
    RingWakeState& s = *rings_[i];
    const bool demoted = !s.delegated.load(std::memory_order_seq_cst);
    if (s.pending.exchange(false, std::memory_order_seq_cst)) {
      const int woken = futex_wake_all(s.futex_word);
      wakes_.fetch_add(1, std::memory_order_relaxed);
      // Few readers left: back to inline wake-ups (lower latency) after a run of such rounds.
      s.quiet_rounds = woken <= kInlineMaxWaiters ? s.quiet_rounds + 1 : 0;
      if (!demoted && s.quiet_rounds >= kQuietRoundsToInline)
        s.delegated.store(false, std::memory_order_seq_cst);
    }
    if (demoted) {
      // Demoted a round ago: the writer wakes inline now, and a mark it made before it saw the
      // flag was just served above (it marks before it looks). Drop the ring.
      s.listed = false;
      rings_.erase(rings_.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    ++i;
  }
}

void WakeScheduler::run() {
  std::unique_lock<std::mutex> lk(mu_);
  while (!stop_) {
    if (rings_.empty()) {
      cv_.wait(lk, [this] { return stop_ || !rings_.empty(); });
      continue;
    }
    round();
    cv_.wait_for(lk, period_, [this] { return stop_; });
  }
}

}  // namespace mdfeed
