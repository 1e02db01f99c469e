// Single-writer ring: create/reuse/repair of the file and the seqlocked slot writes.
#include "mdfeed/ring_writer.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <utility>
#include <vector>

#include "mdfeed/error.hpp"
#include "mdfeed/names.hpp"
#include "mdfeed/reader.hpp"
#include "mdfeed/seqlock.hpp"

namespace mdfeed {
namespace {

std::string errno_text(int e) { return std::strerror(e); }

std::uint64_t random_u64() {
  std::uint64_t v = 0;
  while (v == 0) {
    if (getrandom(&v, sizeof v, 0) != static_cast<ssize_t>(sizeof v)) {
      v = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
          (static_cast<std::uint64_t>(getpid()) << 32);
    }
  }
  return v;
}

std::int64_t realtime_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void copy_name(char* dst, std::size_t cap, const std::string& s) {
  std::memset(dst, 0, cap);
  std::memcpy(dst, s.data(), s.size() < cap - 1 ? s.size() : cap - 1);
}

// Owns an fd for the duration of open(); the mapping outlives it.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

void ensure_feed_dir(const RingWriter::Options& opt) {
  struct stat st{};
  if (::stat(opt.shm_dir.c_str(), &st) != 0) {
    const int e = errno;
    throw Error("mdfeed: shm directory " + opt.shm_dir + " is not usable: " + errno_text(e) +
                (e == ENOENT ? " (create it, e.g. via systemd-tmpfiles, or set shm.dir)" : ""));
  }
  if (!S_ISDIR(st.st_mode)) throw Error("mdfeed: shm.dir " + opt.shm_dir + " is not a directory");
  const std::string dir = ring_dir(opt.shm_dir, opt.feed);
  if (::mkdir(dir.c_str(), 02750) != 0 && errno != EEXIST) {
    const int e = errno;
    throw Error("mdfeed: cannot create " + dir + ": " + errno_text(e));
  }
  // mkdir applies the umask and may drop setgid; make the mode what DESIGN.md promises.
  (void)::chmod(dir.c_str(), 02750);
}

bool compatible(const RingHeader& h, std::size_t size, const RingWriter::Options& opt) {
  return size >= kHeaderSize && h.magic == kMagic && (h.version >> 16) == kVersionMajor &&
         h.layout_hash == kLayoutHash && h.header_size == kHeaderSize &&
         h.slot_size == kSlotSize && h.capacity == opt.capacity &&
         size >= ring_file_size(h.capacity) &&
         detail::header_name(h.interval, kIntervalNameLen) == opt.interval &&
         detail::header_name(h.symbol, kNameLen) == opt.symbol &&
         detail::header_name(h.feed, kNameLen) == opt.feed;
}

void* map_rw(int fd, std::size_t len, const std::string& path) {
  void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    const int e = errno;
    throw Error("mdfeed: cannot map " + path + ": " + errno_text(e));
  }
  return p;
}

// Closed bars worth carrying into a replacement file (same layout, other capacity). Anything
// unreadable yields an empty history rather than an error: the daemon backfills from REST.
std::vector<Bar> salvage_history(const std::string& path, std::uint32_t new_capacity) {
  std::vector<Bar> bars;
  try {
    Ring old = Ring::open_path(path);
    old.copy_latest(new_capacity - 1, bars);
  } catch (const Error&) {
    bars.clear();
  }
  return bars;
}

}  // namespace

const char* to_string(RingWriter::OpenMode m) noexcept {
  switch (m) {
    case RingWriter::OpenMode::kCreated: return "created";
    case RingWriter::OpenMode::kReused: return "reused";
    case RingWriter::OpenMode::kReplaced: return "replaced";
  }
  return "?";
}

RingWriter RingWriter::open(const Options& opt) {
  if (!valid_feed_name(opt.feed)) throw Error("mdfeed: invalid feed name '" + opt.feed + "'");
  if (!valid_symbol_name(opt.symbol)) throw Error("mdfeed: invalid symbol '" + opt.symbol + "'");
  const auto ivl_ms = interval_ms(opt.interval);
  if (!ivl_ms) throw Error("mdfeed: invalid interval '" + opt.interval + "'");
  if (!is_power_of_two(opt.capacity) || opt.capacity < 2 || opt.capacity > (1U << 24))
    throw Error("mdfeed: ring capacity " + std::to_string(opt.capacity) +
                " must be a power of two in [2, 2^24]");
  ensure_feed_dir(opt);

  RingWriter w;
  w.path_ = ring_path(opt.shm_dir, opt.feed, opt.symbol, opt.interval);
  w.capacity_ = opt.capacity;
  const std::size_t size = ring_file_size(opt.capacity);
  const std::uint64_t instance = opt.instance_id != 0 ? opt.instance_id : random_u64();

  {
    Fd f{::open(w.path_.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW)};
    if (f.fd < 0 && errno != ENOENT) {
      const int e = errno;
      throw Error("mdfeed: cannot open " + w.path_ + ": " + errno_text(e));
    }
    if (f.fd >= 0) {
      struct stat st{};
      if (::fstat(f.fd, &st) == 0 && static_cast<std::size_t>(st.st_size) >= kHeaderSize) {
        const auto fsize = static_cast<std::size_t>(st.st_size);
        void* p = map_rw(f.fd, fsize, w.path_);
        auto* h = static_cast<RingHeader*>(p);
        if (compatible(*h, fsize, opt)) {
          w.hdr_ = h;
          w.map_len_ = fsize;
          w.slots_ = reinterpret_cast<Slot*>(static_cast<char*>(p) + kHeaderSize);
          w.mode_ = OpenMode::kReused;
          w.closed_ = h->closed_count;
          w.upd_ = h->update_count;
          w.repair();
          w.take_ownership(instance);
          return w;
        }
        ::munmap(p, fsize);
      }
    }
  }

  // Create under a temporary name, fully initialised, then rename over any old file so a
  // reader either sees the old (still mapped, still valid) file or the complete new one.
  const bool had_old = ::access(w.path_.c_str(), F_OK) == 0;
  std::vector<Bar> carried = had_old ? salvage_history(w.path_, opt.capacity) : std::vector<Bar>{};
  const std::string tmp = w.path_ + ".tmp." + std::to_string(getpid());
  Fd f{::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640)};
  if (f.fd < 0) {
    const int e = errno;
    throw Error("mdfeed: cannot create " + tmp + ": " + errno_text(e));
  }
  (void)::fchmod(f.fd, 0640);
  // Reserve every page now: a full /dev/shm must fail here, not SIGBUS a reader later.
  if (const int e = ::posix_fallocate(f.fd, 0, static_cast<off_t>(size)); e != 0) {
    ::unlink(tmp.c_str());
    throw Error("mdfeed: cannot allocate " + std::to_string(size) + " bytes for " + w.path_ +
                ": " + errno_text(e) + (e == ENOSPC ? " (shm filesystem full)" : ""));
  }
  void* p = nullptr;
  try {
    p = map_rw(f.fd, size, tmp);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  w.hdr_ = static_cast<RingHeader*>(p);
  w.map_len_ = size;
  w.slots_ = reinterpret_cast<Slot*>(static_cast<char*>(p) + kHeaderSize);
  w.init_header(opt, *ivl_ms);
  for (const Bar& b : carried) w.append_closed(b);
  w.take_ownership(instance);
  // The version is the ready signal: everything above is visible before it.
  __atomic_store_n(&w.hdr_->version, kVersion, __ATOMIC_RELEASE);
  if (::rename(tmp.c_str(), w.path_.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw Error("mdfeed: cannot rename " + tmp + " to " + w.path_ + ": " + errno_text(e));
  }
  w.mode_ = had_old ? OpenMode::kReplaced : OpenMode::kCreated;
  return w;
}

void RingWriter::init_header(const Options& opt, std::int64_t ivl_ms) noexcept {
  RingHeader& h = *hdr_;
  h.magic = kMagic;
  h.header_size = kHeaderSize;
  h.slot_size = kSlotSize;
  h.capacity = opt.capacity;
  h.layout_hash = kLayoutHash;
  h.interval_ms = ivl_ms;
  h.created_ms = realtime_ms();
  copy_name(h.feed, kNameLen, opt.feed);
  copy_name(h.symbol, kNameLen, opt.symbol);
  copy_name(h.interval, kIntervalNameLen, opt.interval);
  h.forming.index = kNoIndex;
  for (std::uint32_t i = 0; i < capacity_; ++i) slots_[i].index = kNoIndex;
}

// A crash can leave at most the slot being written odd. That slot is never part of a readable
// view (views stop one short of capacity), so making it even and empty is enough.
void RingWriter::repair() noexcept {
  auto fix = [this](Slot& s) {
    const std::uint64_t seq = __atomic_load_n(&s.seq, __ATOMIC_RELAXED);
    if ((seq & 1U) == 0) return;
    // Finish the dead writer's write: empty the slot and end it as if begun at seq - 1.
    __atomic_store_n(&s.index, kNoIndex, __ATOMIC_RELAXED);
    seqlock::write_end(s.seq, seq - 1);
    ++repaired_;
  };
  for (std::uint32_t i = 0; i < capacity_; ++i) fix(slots_[i]);
  fix(hdr_->forming);
  clear_forming();
  // If the crash hit between a slot write and the count store, the slot at closed_ may hold a
  // complete bar that was never counted; it stays invisible and is rewritten by the next append.
}

void RingWriter::take_ownership(std::uint64_t instance) noexcept {
  __atomic_store_n(&hdr_->writer_instance, instance, __ATOMIC_RELEASE);
  __atomic_store_n(&hdr_->writer_pid, static_cast<std::uint32_t>(getpid()), __ATOMIC_RELEASE);
  heartbeat();
  set_state(WriterState::kLive);
  bump_and_notify();
}

RingWriter::RingWriter(RingWriter&& o) noexcept { *this = std::move(o); }

RingWriter& RingWriter::operator=(RingWriter&& o) noexcept {
  if (this != &o) {
    close();
    hdr_ = std::exchange(o.hdr_, nullptr);
    slots_ = std::exchange(o.slots_, nullptr);
    map_len_ = std::exchange(o.map_len_, 0);
    capacity_ = o.capacity_;
    closed_ = o.closed_;
    upd_ = o.upd_;
    path_ = std::move(o.path_);
    mode_ = o.mode_;
    repaired_ = o.repaired_;
  }
  return *this;
}

RingWriter::~RingWriter() { close(); }

void RingWriter::write_slot(Slot& s, std::uint64_t index, const Bar& bar,
                            std::uint32_t flags) noexcept {
  Bar tmp = bar;
  tmp.flags = flags;
  const std::uint64_t begun = seqlock::write_begin(s.seq);
  __atomic_store_n(&s.index, index, __ATOMIC_RELAXED);
  seqlock::store_words(&s.bar, &tmp, sizeof tmp);
  seqlock::write_end(s.seq, begun);
}

void RingWriter::bump() noexcept {
  // Single writer: a plain store of our own counter is enough, no locked RMW needed.
  __atomic_store_n(&hdr_->update_count, ++upd_, __ATOMIC_RELEASE);
}

void RingWriter::append_closed(const Bar& bar) noexcept {
  write_slot(slots_[closed_ & (capacity_ - 1ULL)], closed_, bar, bar.flags | kBarClosed);
  ++closed_;
  __atomic_store_n(&hdr_->closed_count, closed_, __ATOMIC_RELEASE);
  bump();
}

void RingWriter::publish_forming(const Bar& bar) noexcept {
  write_slot(hdr_->forming, closed_, bar, bar.flags & ~kBarClosed);
  bump();
}

void RingWriter::clear_forming() noexcept {
  Slot& s = hdr_->forming;
  const std::uint64_t begun = seqlock::write_begin(s.seq);
  __atomic_store_n(&s.index, kNoIndex, __ATOMIC_RELAXED);
  seqlock::write_end(s.seq, begun);
  bump();
}

void RingWriter::notify() noexcept {
  syscall(SYS_futex, &hdr_->update_count, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

void RingWriter::bump_and_notify() noexcept {
  bump();
  notify();
}

void RingWriter::heartbeat() noexcept {
  __atomic_store_n(&hdr_->heartbeat_ns, detail::monotonic_ns(), __ATOMIC_RELEASE);
}

void RingWriter::set_state(WriterState s) noexcept {
  __atomic_store_n(&hdr_->writer_state, static_cast<std::uint32_t>(s), __ATOMIC_RELEASE);
}

std::uint64_t RingWriter::closed_count() const noexcept { return closed_; }

std::optional<Bar> RingWriter::last_closed() const noexcept {
  if (closed_ == 0) return std::nullopt;
  const Slot& s = slots_[(closed_ - 1) & (capacity_ - 1ULL)];
  if (s.index != closed_ - 1) return std::nullopt;
  return s.bar;
}

std::uint64_t RingWriter::instance_id() const noexcept {
  return hdr_ != nullptr ? hdr_->writer_instance : 0;
}

void RingWriter::close() noexcept {
  if (hdr_ == nullptr) return;
  set_state(WriterState::kStopped);
  bump_and_notify();
  ::munmap(hdr_, map_len_);
  hdr_ = nullptr;
  slots_ = nullptr;
}

}  // namespace mdfeed
