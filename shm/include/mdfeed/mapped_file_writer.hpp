// Writer side of a shared segment file: the one place that creates (temporary name, fallocate,
// mmap, rename) or reuses one. Used by the ring writer and the daemon's status segment; not
// installed (readers only ever map read-only, see mapped_file.hpp).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "mdfeed/mapped_file.hpp"

namespace mdfeed {

// Throws Error naming dir unless it exists and is a directory: the shm dir is created by
// systemd-tmpfiles (or the admin), never by the daemon.
void require_shm_dir(const std::string& dir);

// Maps an existing file read-write, whole, for reuse in place; nullopt if it does not exist or
// is smaller than min_size (the caller creates a new one). Throws Error on other failures.
[[nodiscard]] std::optional<MappedFile> map_existing_rw(const std::string& path,
                                                        std::size_t min_size);

// A new segment being built under <path>.tmp.<pid>: mode 0640, every page reserved with
// posix_fallocate (a full /dev/shm fails here, not with a SIGBUS in a reader later) and mapped
// read-write, zero-filled. Fill it, store its ready signal (version) with release, then
// publish(): rename() over path, so a reader sees either the old file (its mapping stays valid)
// or the complete new one. Dropped unpublished, the temporary file is unlinked.
class PendingFile {
 public:
  // Throws Error with the path and reason (ENOSPC: "shm filesystem full").
  static PendingFile create(const std::string& path, std::size_t size);

  PendingFile(PendingFile&& o) noexcept;
  PendingFile& operator=(PendingFile&& o) noexcept;
  PendingFile(const PendingFile&) = delete;
  PendingFile& operator=(const PendingFile&) = delete;
  ~PendingFile();

  [[nodiscard]] void* data() noexcept { return map_.data(); }
  [[nodiscard]] std::size_t size() const noexcept { return map_.size(); }

  // Renames the file into place and hands over its mapping. On failure throws Error, unlinks
  // the temporary file and leaves whatever was at path untouched.
  [[nodiscard]] MappedFile publish();

 private:
  PendingFile() = default;
  void discard() noexcept;

  std::string path_;
  std::string tmp_;
  MappedFile map_;
};

}  // namespace mdfeed
