// A whole-file MAP_SHARED mapping that remembers which file it maps, and the read-only mapping
// every reader (ring, status) opens a published segment with. Header-only, C++17. The writer
// side (create under a temporary name, fallocate, rename; reuse in place) is
// mdfeed/mapped_file_writer.hpp, which is not installed.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <utility>

#include "mdfeed/error.hpp"

namespace mdfeed {

namespace detail {
inline std::string errno_text(int e) { return std::strerror(e); }
}  // namespace detail

// Owns one mapping of a whole file (munmap on destruction) and the file's identity, so a reader
// can tell when the path has been rename()d over by a new file.
class MappedFile {
 public:
  MappedFile() = default;
  MappedFile(void* base, std::size_t len, const struct stat& st) noexcept
      : base_(base), len_(len), ino_(st.st_ino), dev_(st.st_dev) {}
  MappedFile(MappedFile&& o) noexcept { swap(o); }
  MappedFile& operator=(MappedFile&& o) noexcept {
    if (this != &o) {
      reset();
      swap(o);
    }
    return *this;
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile() { reset(); }

  // Maps path PROT_READ, whole: a reader can never write shared memory. The file must be at
  // least min_size bytes (else IncompatibleLayout "... smaller than <min_what>"); a missing file
  // or directory is NotFound with not_found as the message; anything else is Error.
  // Writers fallocate a file before publishing it and never truncate it, so every page of this
  // mapping stays backed: a reader never gets SIGBUS.
  static MappedFile open_read_only(const std::string& path, std::size_t min_size,
                                   const std::string& min_what, const std::string& not_found) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      const int e = errno;
      if (e == ENOENT || e == ENOTDIR) throw NotFound(not_found);
      throw Error("mdfeed: cannot open " + path + ": " + detail::errno_text(e));
    }
    struct stat st{};
    if (::fstat(fd, &st) != 0) {
      const int e = errno;
      ::close(fd);
      throw Error("mdfeed: cannot stat " + path + ": " + detail::errno_text(e));
    }
    const auto size = static_cast<std::size_t>(st.st_size);
    if (size < min_size) {
      ::close(fd);
      throw IncompatibleLayout("mdfeed: " + path + ": file is " + std::to_string(size) +
                               " bytes, smaller than " + min_what);
    }
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    const int e = errno;
    ::close(fd);
    if (p == MAP_FAILED) throw Error("mdfeed: cannot map " + path + ": " + detail::errno_text(e));
    return MappedFile(p, size, st);
  }

  [[nodiscard]] void* data() noexcept { return base_; }
  [[nodiscard]] const void* data() const noexcept { return base_; }
  [[nodiscard]] std::size_t size() const noexcept { return len_; }
  [[nodiscard]] explicit operator bool() const noexcept { return base_ != nullptr; }

  // True if path now names another file than the one mapped (rename()d over). A path that is
  // gone is not a replacement: the mapping we hold is still the best there is.
  [[nodiscard]] bool replaced_at(const std::string& path) const noexcept {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) return false;
    return st.st_ino != ino_ || st.st_dev != dev_;
  }

  void reset() noexcept {
    if (base_ != nullptr) ::munmap(base_, len_);
    base_ = nullptr;
    len_ = 0;
    ino_ = 0;
    dev_ = 0;
  }

  void swap(MappedFile& o) noexcept {
    std::swap(base_, o.base_);
    std::swap(len_, o.len_);
    std::swap(ino_, o.ino_);
    std::swap(dev_, o.dev_);
  }

 private:
  void* base_ = nullptr;
  std::size_t len_ = 0;
  ino_t ino_ = 0;
  dev_t dev_ = 0;
};

}  // namespace mdfeed
