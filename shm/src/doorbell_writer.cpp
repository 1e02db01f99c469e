// The shm directory's doorbell: create or reuse in place, bump and wake.
#include "mdfeed/doorbell_writer.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <optional>
#include <utility>

#include "mdfeed/mapped_file_writer.hpp"

namespace mdfeed {

DoorbellWriter DoorbellWriter::open(const std::string& shm_dir) {
  require_shm_dir(shm_dir);
  DoorbellWriter w;
  w.path_ = doorbell_path(shm_dir);
  const bool had_old = ::access(w.path_.c_str(), F_OK) == 0;
  if (std::optional<MappedFile> old = map_existing_rw(w.path_, kDoorbellFileSize)) {
    auto* h = static_cast<DoorbellHeader*>(old->data());
    if (doorbell_compatible(*h, old->size())) {
      w.hdr_ = h;
      w.file_ = std::move(*old);
      w.mode_ = OpenMode::kReused;
    }
  }
  if (w.hdr_ == nullptr) {
    PendingFile fresh = PendingFile::create(w.path_, kDoorbellFileSize);
    auto* h = static_cast<DoorbellHeader*>(fresh.data());
    h->magic = kDoorbellMagic;
    h->file_size = kDoorbellFileSize;
    // The version is the ready signal: everything above is visible before it.
    __atomic_store_n(&h->version, kDoorbellVersion, __ATOMIC_RELEASE);
    w.file_ = fresh.publish();
    w.hdr_ = static_cast<DoorbellHeader*>(w.file_.data());
    w.mode_ = had_old ? OpenMode::kReplaced : OpenMode::kCreated;
  }
  __atomic_store_n(&w.hdr_->writer_pid, static_cast<std::uint32_t>(getpid()), __ATOMIC_RELEASE);
  return w;
}

DoorbellWriter::DoorbellWriter(DoorbellWriter&& o) noexcept { *this = std::move(o); }

DoorbellWriter& DoorbellWriter::operator=(DoorbellWriter&& o) noexcept {
  if (this != &o) {
    hdr_ = std::exchange(o.hdr_, nullptr);
    file_ = std::move(o.file_);
    path_ = std::move(o.path_);
    mode_ = o.mode_;
  }
  return *this;
}

void DoorbellWriter::ring() noexcept {
  if (hdr_ == nullptr) return;
  // A locked add rather than a store of a private copy: a second writer on the same directory
  // (a test tool next to a daemon) must not make the bell go backwards.
  __atomic_fetch_add(&hdr_->bell, 1U, __ATOMIC_RELEASE);
  syscall(SYS_futex, &hdr_->bell, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

std::uint32_t DoorbellWriter::value() const noexcept {
  return hdr_ != nullptr ? __atomic_load_n(&hdr_->bell, __ATOMIC_ACQUIRE) : 0;
}

}  // namespace mdfeed
