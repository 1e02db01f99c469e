// Writer side of the shm directory's doorbell (<shm.dir>/mdfeed.doorbell, layout in
// mdfeed/doorbell_layout.hpp). Used by the daemon once per service pass; not installed.
#pragma once

#include <cstdint>
#include <string>

#include "mdfeed/doorbell_layout.hpp"
#include "mdfeed/mapped_file.hpp"

namespace mdfeed {

class DoorbellWriter {
 public:
  // How open() obtained the file.
  enum class OpenMode { kCreated, kReused, kReplaced };

  // Reuses a compatible <shm_dir>/mdfeed.doorbell in place (the bell keeps counting, so
  // waiters of the previous daemon keep waiting on the live word and a full /dev/shm is no
  // obstacle), else creates one under a temporary name (fallocate'd) and rename()s it over
  // whatever was there. Throws Error with the path and reason.
  static DoorbellWriter open(const std::string& shm_dir);

  DoorbellWriter() = default;  // not open: ring() does nothing
  DoorbellWriter(DoorbellWriter&& o) noexcept;
  DoorbellWriter& operator=(DoorbellWriter&& o) noexcept;
  DoorbellWriter(const DoorbellWriter&) = delete;
  DoorbellWriter& operator=(const DoorbellWriter&) = delete;
  ~DoorbellWriter() = default;

  // Bumps the bell (release) and wakes every waiter (FUTEX_WAKE, INT_MAX, shared futex). Call
  // AFTER the ring updates it announces. One syscall, whatever the number of rings.
  void ring() noexcept;

  [[nodiscard]] std::uint32_t value() const noexcept;
  [[nodiscard]] bool is_open() const noexcept { return hdr_ != nullptr; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] OpenMode open_mode() const noexcept { return mode_; }

 private:
  DoorbellHeader* hdr_ = nullptr;
  MappedFile file_;  // read-write, whole file
  std::string path_;
  OpenMode mode_ = OpenMode::kCreated;
};

}  // namespace mdfeed
