// Creating and reusing segment files: tmp + fallocate + mmap + rename, and reuse in place.
#include "mdfeed/mapped_file_writer.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "mdfeed/error.hpp"

namespace mdfeed {
namespace {

using detail::errno_text;

// Owns an fd for the duration of an open; the mapping outlives it.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

MappedFile map_rw(int fd, std::size_t len, const struct stat& st, const std::string& path) {
  void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    const int e = errno;
    throw Error("mdfeed: cannot map " + path + ": " + errno_text(e));
  }
  return MappedFile(p, len, st);
}

}  // namespace

void require_shm_dir(const std::string& dir) {
  struct stat st{};
  if (::stat(dir.c_str(), &st) != 0) {
    const int e = errno;
    throw Error("mdfeed: shm directory " + dir + " is not usable: " + errno_text(e) +
                (e == ENOENT ? " (create it, e.g. via systemd-tmpfiles, or set shm.dir)" : ""));
  }
  if (!S_ISDIR(st.st_mode)) throw Error("mdfeed: shm.dir " + dir + " is not a directory");
}

std::optional<MappedFile> map_existing_rw(const std::string& path, std::size_t min_size) {
  Fd f{::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW)};
  if (f.fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    const int e = errno;
    throw Error("mdfeed: cannot open " + path + ": " + errno_text(e));
  }
  struct stat st{};
  if (::fstat(f.fd, &st) != 0 || static_cast<std::size_t>(st.st_size) < min_size)
    return std::nullopt;
  return map_rw(f.fd, static_cast<std::size_t>(st.st_size), st, path);
}

PendingFile PendingFile::create(const std::string& path, std::size_t size) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  Fd f{::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640)};
  if (f.fd < 0) {
    const int e = errno;
    throw Error("mdfeed: cannot create " + tmp + ": " + errno_text(e));
  }
  PendingFile p;  // from here on, a throw unlinks tmp
  p.path_ = path;
  p.tmp_ = tmp;
  (void)::fchmod(f.fd, 0640);  // the umask may have narrowed it; readers need group read
  // Reserve every page now: a full /dev/shm must fail here, not SIGBUS a reader later.
  if (const int e = ::posix_fallocate(f.fd, 0, static_cast<off_t>(size)); e != 0)
    throw Error("mdfeed: cannot allocate " + std::to_string(size) + " bytes for " + path + ": " +
                errno_text(e) + (e == ENOSPC ? " (shm filesystem full)" : ""));
  struct stat st{};
  if (::fstat(f.fd, &st) != 0) {
    const int e = errno;
    throw Error("mdfeed: cannot stat " + p.tmp_ + ": " + errno_text(e));
  }
  p.map_ = map_rw(f.fd, size, st, p.tmp_);
  return p;
}

MappedFile PendingFile::publish() {
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const int e = errno;
    throw Error("mdfeed: cannot rename " + tmp_ + " to " + path_ + ": " + errno_text(e));
  }
  tmp_.clear();
  return std::move(map_);
}

void PendingFile::discard() noexcept {
  map_.reset();
  if (!tmp_.empty()) ::unlink(tmp_.c_str());
  tmp_.clear();
}

PendingFile::PendingFile(PendingFile&& o) noexcept
    : path_(std::move(o.path_)), tmp_(std::exchange(o.tmp_, {})), map_(std::move(o.map_)) {}

PendingFile& PendingFile::operator=(PendingFile&& o) noexcept {
  if (this != &o) {
    discard();
    path_ = std::move(o.path_);
    tmp_ = std::exchange(o.tmp_, {});
    map_ = std::move(o.map_);
  }
  return *this;
}

PendingFile::~PendingFile() { discard(); }

}  // namespace mdfeed
