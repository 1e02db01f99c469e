// Header-only C++17 waiter over many rings: block once until any of them changes, without
// polling, on the shm directory's doorbell (<shm.dir>/mdfeed.doorbell, one futex word the daemon
// bumps once per service pass in which it published; layout in mdfeed/doorbell_layout.hpp).
//
//   std::vector<mdfeed::Ring> rings;                      // e.g. 50 symbols, opened as usual
//   for (auto& s : symbols) rings.push_back(mdfeed::Ring::open("binance", s, "1m"));
//   mdfeed::Watcher watcher(rings);                       // rings must outlive it, not move
//   for (;;)
//     for (std::size_t i : watcher.wait(std::chrono::seconds(1)))   // indexes into rings
//       on_update(rings[i]);
//
// wait() returns the rings whose update_count() moved since they were added or last returned.
// The doorbell is mapped PROT_READ like the rings (FUTEX_WAIT needs no write access).
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "mdfeed/doorbell_layout.hpp"
#include "mdfeed/error.hpp"
#include "mdfeed/mapped_file.hpp"
#include "mdfeed/reader.hpp"

namespace mdfeed {

struct WatcherOptions {
  // With no usable doorbell file (no daemon yet, or one older than the doorbell), wait()
  // falls back to checking the rings this often.
  std::chrono::nanoseconds poll_interval = std::chrono::milliseconds(10);
  // A wait blocked on the bell still re-checks the rings this often, and looks whether the
  // doorbell file appeared or was replaced: the bound on noticing a change that no bell
  // announced (a writer other than the daemon). Never the normal wake-up path.
  std::chrono::nanoseconds recheck_interval = std::chrono::seconds(1);
};

class Watcher {
 public:
  using Options = WatcherOptions;

  Watcher() = default;
  explicit Watcher(Options o) : opt_(o) {}
  // Watches every ring of the vector, in order (indexes are positions in it). The vector must
  // not be resized, nor the rings moved, while watched.
  explicit Watcher(const std::vector<Ring>& rings, Options o = {}) : opt_(o) {
    for (const Ring& r : rings) add(r);
  }

  Watcher(Watcher&&) noexcept = default;
  Watcher& operator=(Watcher&&) noexcept = default;
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;
  ~Watcher() = default;

  // Starts watching `ring` (not owned: it must outlive the watcher and stay at its address;
  // Ring::reopen_if_replaced is fine) from its current update count. Returns its index, the
  // number wait() reports it by. The first ring fixes the shm directory whose doorbell is used
  // (the ring's path minus <feed>/<file>); a ring from another directory throws Error.
  std::size_t add(const Ring& ring) {
    const std::string dir = shm_dir_of(ring.path());
    if (rings_.empty() && !bell_.tried) {
      dir_ = dir;
      probe_doorbell();
    } else if (dir != dir_) {
      throw Error("mdfeed: Watcher: " + ring.path() + " is not in " + dir_ +
                  " (one watcher follows one shm directory's doorbell)");
    }
    rings_.push_back(&ring);
    seen_.push_back(ring.update_count());
    return rings_.size() - 1;
  }

  // Blocks until at least one watched ring's update count differs from the last one seen, or
  // the timeout expires. Returns the indexes of every such ring, ascending (empty on timeout),
  // and remembers their new counts. A change made before the call is returned at once; none is
  // ever lost (the bell is read before the rings, and the futex waits on the value read).
  [[nodiscard]] std::vector<std::size_t> wait(std::chrono::nanoseconds timeout) {
    std::vector<std::size_t> out;
    wait(timeout, out);
    return out;
  }

  // Same, into a caller-owned vector (cleared first; no allocation once it has the capacity).
  // Returns out.size().
  std::size_t wait(std::chrono::nanoseconds timeout, std::vector<std::size_t>& out) {
    out.clear();
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + std::max(timeout, std::chrono::nanoseconds::zero());
    for (;;) {
      const std::uint32_t* word = bell_word();
      // The bell first: a publish not yet visible in the counts below has not bumped it yet.
      const std::uint32_t bell = word != nullptr ? __atomic_load_n(word, __ATOMIC_ACQUIRE) : 0;
      collect(out);
      if (!out.empty()) return out.size();
      const auto now = clock::now();
      if (now >= deadline) return 0;
      if (now >= next_probe_) {
        next_probe_ = now + opt_.recheck_interval;
        if (probe_doorbell()) continue;  // a new bell: read it before sleeping on it
      }
      const auto left = std::min<clock::duration>(deadline - now, next_probe_ - now);
      if (word == nullptr) {
        std::this_thread::sleep_for(std::min<clock::duration>(left, opt_.poll_interval));
        continue;
      }
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
      // Not FUTEX_PRIVATE_FLAG: the daemon is another process. Returns at once if the bell
      // moved since it was read (EAGAIN), on a wake, a signal or the timeout; all loop.
      syscall(SYS_futex, word, FUTEX_WAIT, bell, &ts, nullptr, 0);
    }
  }

  [[nodiscard]] const Ring& ring(std::size_t i) const noexcept { return *rings_[i]; }
  [[nodiscard]] std::size_t size() const noexcept { return rings_.size(); }
  // The shm directory followed ("" before the first add).
  [[nodiscard]] const std::string& shm_dir() const noexcept { return dir_; }
  // True while a doorbell is mapped; false means wait() polls every poll_interval.
  [[nodiscard]] bool has_doorbell() const noexcept { return bell_word() != nullptr; }

  // <dir> of <dir>/<feed>/<SYMBOL>.<interval>.ring.
  [[nodiscard]] static std::string shm_dir_of(const std::string& ring_path) {
    std::string p = ring_path;
    for (int up = 0; up < 2; ++up) {
      const auto slash = p.find_last_of('/');
      if (slash == std::string::npos) return ".";
      p.erase(slash == 0 ? 1 : slash);
    }
    return p;
  }

 private:
  struct Bell {
    MappedFile file;  // read-only, whole file; empty when there is no usable doorbell
    bool tried = false;
  };

  [[nodiscard]] const std::uint32_t* bell_word() const noexcept {
    if (!bell_.file) return nullptr;
    return &static_cast<const DoorbellHeader*>(bell_.file.data())->bell;
  }

  void collect(std::vector<std::size_t>& out) {
    for (std::size_t i = 0; i < rings_.size(); ++i) {
      const std::uint32_t u = rings_[i]->update_count();
      if (u != seen_[i]) {
        seen_[i] = u;
        out.push_back(i);
      }
    }
  }

  // Maps the doorbell if there is none yet or the file was replaced. True if the bell changed.
  bool probe_doorbell() noexcept {
    bell_.tried = true;
    next_probe_ = std::chrono::steady_clock::now() + opt_.recheck_interval;
    const std::string path = doorbell_path(dir_);
    if (bell_.file && !bell_.file.replaced_at(path)) return false;
    try {
      MappedFile f = MappedFile::open_read_only(path, kDoorbellFileSize, "one page", path);
      if (!doorbell_compatible(*static_cast<const DoorbellHeader*>(f.data()), f.size()))
        return false;  // keep what we have (or poll): a newer daemon's format, or half-made
      bell_.file = std::move(f);
      return true;
    } catch (const Error&) {
      return false;  // no doorbell (yet): poll
    }
  }

  Options opt_{};
  std::string dir_;
  std::vector<const Ring*> rings_;
  std::vector<std::uint32_t> seen_;
  Bell bell_;
  std::chrono::steady_clock::time_point next_probe_{};
};

}  // namespace mdfeed
