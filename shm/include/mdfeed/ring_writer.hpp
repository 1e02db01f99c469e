// Single-writer side of a bar ring. The only code in mdfeed that writes shared memory.
// One RingWriter per (feed, symbol, interval); it must be used from one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "mdfeed/layout.hpp"
#include "mdfeed/mapped_file.hpp"
#include "mdfeed/wake_scheduler.hpp"

namespace mdfeed {

class RingWriter {
 public:
  struct Options {
    std::string shm_dir;   // must exist; the per-feed subdirectory is created (mode 2750)
    std::string feed;      // [a-z0-9_-]
    std::string symbol;    // [A-Z0-9_-]
    std::string interval;  // one of kIntervals
    std::uint32_t capacity = 4096;  // power of two
    std::uint64_t instance_id = 0;  // 0: random
    // Hands wake-ups of rings with many blocked readers to another thread (the daemon's); null:
    // notify() always wakes inline. Must outlive the writer.
    WakeScheduler* waker = nullptr;
  };

  // How open() obtained the file.
  enum class OpenMode { kCreated, kReused, kReplaced };

  // Opens a compatible existing ring (repairing slots left odd by a crash) or creates a new one,
  // fully initialised and fallocate'd under a temporary name, then rename()d into place.
  // Throws mdfeed::Error with the path and reason (ENOSPC, EACCES, ...).
  static RingWriter open(const Options& opt);

  RingWriter(RingWriter&& o) noexcept;
  RingWriter& operator=(RingWriter&& o) noexcept;
  RingWriter(const RingWriter&) = delete;
  RingWriter& operator=(const RingWriter&) = delete;
  ~RingWriter();

  // Appends the next closed bar (absolute index = closed_count()). The caller guarantees
  // open-time order and contiguity; the bar is stored with kBarClosed set.
  void append_closed(const Bar& bar) noexcept;
  // Publishes the bar still forming (index = closed_count()).
  void publish_forming(const Bar& bar) noexcept;
  // Clears the forming slot (e.g. the forming bar was just closed and no successor is known).
  void clear_forming() noexcept;
  // Wakes readers blocked in wait_for_update (FUTEX_WAKE). Cheap to skip when nothing changed;
  // the append/publish calls do NOT wake, so a batch of updates costs one syscall. With a
  // WakeScheduler, a ring with many blocked readers is only marked here and woken by the
  // scheduler's thread: the cost of this call does not grow with readers.
  void notify() noexcept;
  // Writes the heartbeat (CLOCK_MONOTONIC ns). Call periodically even when the market is quiet.
  void heartbeat() noexcept;
  // The same with a time the caller read once for many rings (one clock read per sweep).
  void heartbeat(std::uint64_t now_ns) noexcept;
  void set_state(WriterState s) noexcept;

  [[nodiscard]] std::uint64_t closed_count() const noexcept;
  [[nodiscard]] std::optional<Bar> last_closed() const noexcept;
  [[nodiscard]] std::uint32_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::uint64_t instance_id() const noexcept;
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] OpenMode open_mode() const noexcept { return mode_; }
  [[nodiscard]] std::uint32_t repaired_slots() const noexcept { return repaired_; }

  // Marks the ring stopped (clean exit) and unmaps. Also done by the destructor.
  void close() noexcept;

 private:
  RingWriter() = default;
  void init_header(const Options& opt, std::int64_t ivl_ms) noexcept;
  void repair() noexcept;
  void take_ownership(std::uint64_t instance) noexcept;
  void write_slot(Slot& s, std::uint64_t index, const Bar& bar, std::uint32_t flags) noexcept;
  void bump() noexcept;
  void bump_and_notify() noexcept;

  RingHeader* hdr_ = nullptr;
  Slot* slots_ = nullptr;
  MappedFile file_;  // read-write, whole file
  std::uint32_t capacity_ = 0;
  std::uint64_t closed_ = 0;  // writer's own copy of closed_count
  std::uint32_t upd_ = 0;     // writer's own copy of update_count
  std::string path_;
  OpenMode mode_ = OpenMode::kCreated;
  std::uint32_t repaired_ = 0;
  WakeScheduler* waker_ = nullptr;
  std::unique_ptr<RingWakeState> wake_;  // stable address: the scheduler may hold it
};

[[nodiscard]] const char* to_string(RingWriter::OpenMode m) noexcept;

}  // namespace mdfeed
