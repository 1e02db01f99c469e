// Single-writer ring: create/reuse/repair of the file and the seqlocked slot writes.
#include "mdfeed/ring_writer.hpp"

#include <linux/futex.h>
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
#include "mdfeed/mapped_file_writer.hpp"
#include "mdfeed/names.hpp"
#include "mdfeed/seqlock.hpp"

namespace mdfeed {
namespace {

using detail::errno_text;

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

void ensure_feed_dir(const RingWriter::Options& opt) {
  require_shm_dir(opt.shm_dir);
  const std::string dir = ring_dir(opt.shm_dir, opt.feed);
  if (::mkdir(dir.c_str(), 02750) != 0 && errno != EEXIST) {
    const int e = errno;
    throw Error("mdfeed: cannot create " + dir + ": " + errno_text(e));
  }
  // mkdir applies the umask and may drop setgid; make the mode what docs/design.md promises.
  (void)::chmod(dir.c_str(), 02750);
}

// A ring in the format this build writes, of any valid capacity, wholly backed by the file.
bool same_layout(const RingHeader& h, std::size_t size) {
  return size >= kHeaderSize && h.magic == kMagic && (h.version >> 16) == kVersionMajor &&
         h.layout_hash == kLayoutHash && h.header_size == kHeaderSize &&
         h.slot_size == kSlotSize && is_power_of_two(h.capacity) && h.capacity <= (1U << 24) &&
         size >= ring_file_size(h.capacity);
}

// Reusable in place: same layout, capacity and names.
bool compatible(const RingHeader& h, std::size_t size, const RingWriter::Options& opt) {
  return same_layout(h, size) && h.capacity == opt.capacity &&
         detail::header_name(h.interval, kIntervalNameLen) == opt.interval &&
         detail::header_name(h.symbol, kNameLen) == opt.symbol &&
         detail::header_name(h.feed, kNameLen) == opt.feed;
}

// The newest closed bars of an old ring (same layout, other capacity) worth carrying into its
// replacement. Its writer is gone (we are it now), so a slot that is odd or holds another index
// cannot change any more: history that does not read cleanly is dropped rather than retried,
// and the daemon backfills it from REST.
std::vector<Bar> salvage_history(const MappedFile& old, std::uint32_t new_capacity) {
  const auto& h = *static_cast<const RingHeader*>(old.data());
  if (!same_layout(h, old.size())) return {};
  const auto* slots =
      reinterpret_cast<const Slot*>(static_cast<const char*>(old.data()) + kHeaderSize);
  const std::uint64_t closed = __atomic_load_n(&h.closed_count, __ATOMIC_ACQUIRE);
  std::uint64_t n = closed;
  if (n > h.capacity - 1ULL) n = h.capacity - 1ULL;
  if (n > new_capacity - 1ULL) n = new_capacity - 1ULL;
  std::vector<Bar> bars(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const std::uint64_t want = closed - n + i;
    const Slot& s = slots[want & (h.capacity - 1ULL)];
    std::uint64_t idx = kNoIndex;
    const bool ok = seqlock::try_read(s.seq, [&]() noexcept {
      idx = __atomic_load_n(&s.index, __ATOMIC_RELAXED);
      seqlock::load_words(&s.bar, &bars[i], sizeof(Bar));
    });
    if (!ok || idx != want) return {};
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
  w.waker_ = opt.waker;
  if (w.waker_ != nullptr) w.wake_ = std::make_unique<RingWakeState>();
  w.path_ = ring_path(opt.shm_dir, opt.feed, opt.symbol, opt.interval);
  w.capacity_ = opt.capacity;
  const std::size_t size = ring_file_size(opt.capacity);
  const std::uint64_t instance = opt.instance_id != 0 ? opt.instance_id : random_u64();

  std::vector<Bar> carried;
  if (std::optional<MappedFile> old = map_existing_rw(w.path_, kHeaderSize)) {
    auto* h = static_cast<RingHeader*>(old->data());
    if (compatible(*h, old->size(), opt)) {
      w.hdr_ = h;
      w.slots_ = reinterpret_cast<Slot*>(static_cast<char*>(old->data()) + kHeaderSize);
      w.file_ = std::move(*old);
      w.mode_ = OpenMode::kReused;
      w.closed_ = h->closed_count;
      w.upd_ = h->update_count;
      w.repair();
      w.take_ownership(instance);
      return w;
    }
    carried = salvage_history(*old, opt.capacity);
  }

  // Build the new file complete under a temporary name, then rename it over any old one: a
  // reader sees either the old file (still mapped, still valid) or the complete new one.
  const bool had_old = ::access(w.path_.c_str(), F_OK) == 0;
  PendingFile fresh = PendingFile::create(w.path_, size);
  w.hdr_ = static_cast<RingHeader*>(fresh.data());
  w.slots_ = reinterpret_cast<Slot*>(static_cast<char*>(fresh.data()) + kHeaderSize);
  w.init_header(opt, *ivl_ms);
  for (const Bar& b : carried) w.append_closed(b);
  w.take_ownership(instance);
  // The version is the ready signal: everything above is visible before it.
  __atomic_store_n(&w.hdr_->version, kVersion, __ATOMIC_RELEASE);
  try {
    w.file_ = fresh.publish();
  } catch (...) {
    w.hdr_ = nullptr;  // fresh unmaps the file: w must not touch it on the way out
    w.slots_ = nullptr;
    throw;
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
  // The header never moves after open: the scheduler's thread may read this from the first
  // delegation on, so it is written once, here, before any delegation can happen.
  if (wake_) wake_->futex_word = &hdr_->update_count;
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
    file_ = std::move(o.file_);
    capacity_ = o.capacity_;
    closed_ = o.closed_;
    upd_ = o.upd_;
    path_ = std::move(o.path_);
    mode_ = o.mode_;
    repaired_ = o.repaired_;
    waker_ = std::exchange(o.waker_, nullptr);
    wake_ = std::move(o.wake_);  // the scheduler holds its address, which does not move
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
  if (waker_ == nullptr) {
    futex_wake_all(&hdr_->update_count);
    return;
  }
  // Mark first, then look: if the scheduler demotes the ring between the two, the writer sees
  // it and wakes inline; if not, the scheduler's next round serves the mark (seq_cst order).
  wake_->pending.store(true, std::memory_order_seq_cst);
  if (wake_->delegated.load(std::memory_order_seq_cst)) return;
  wake_->pending.store(false, std::memory_order_relaxed);
  const int woken = futex_wake_all(&hdr_->update_count);
  if (woken > WakeScheduler::kInlineMaxWaiters) {
    try {
      waker_->after_inline_wake(*wake_, woken);
    } catch (...) {
      // std::mutex failing to lock: keep waking inline, correct if slower.
    }
  }
}

void RingWriter::bump_and_notify() noexcept {
  bump();
  notify();
}

void RingWriter::heartbeat() noexcept { heartbeat(detail::monotonic_ns()); }

void RingWriter::heartbeat(std::uint64_t now_ns) noexcept {
  __atomic_store_n(&hdr_->heartbeat_ns, now_ns, __ATOMIC_RELEASE);
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
  if (waker_ != nullptr && wake_) {
    try {
      waker_->forget(*wake_);  // before unmapping: the scheduler never touches this ring again
    } catch (...) {
    }
    waker_ = nullptr;  // the final wake-up below is inline
  }
  set_state(WriterState::kStopped);
  bump_and_notify();
  file_.reset();
  hdr_ = nullptr;
  slots_ = nullptr;
}

}  // namespace mdfeed
