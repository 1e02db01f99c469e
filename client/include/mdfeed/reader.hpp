// Header-only C++17 reader for mdfeed bar rings. Maps the ring PROT_READ: a reader can never
// write shared memory, and a crashed or restarted daemon can never make it fault (the daemon
// never truncates a published file; a replaced file keeps the old inode alive for us).
//
//   auto ring = mdfeed::Ring::open("binance", "BTCUSDT", "1m");
//   for (const mdfeed::Bar& b : ring.latest(20)) ...          // zero copy, oldest first
//   auto u = ring.update_count();
//   ring.wait_for_update(u, std::chrono::milliseconds(100));  // futex, no polling
//
// Fields a venue does not send are unknown, not zero (OKX, Bybit): the doubles are NaN and the
// trade count is flagged kBarNoTrades, so check b.trades_known() before using b.trades.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mdfeed/error.hpp"
#include "mdfeed/layout.hpp"
#include "mdfeed/mapped_file.hpp"
#include "mdfeed/names.hpp"
#include "mdfeed/seqlock.hpp"

namespace mdfeed {

namespace detail {

inline std::uint64_t load_acquire(const std::uint64_t* p) noexcept {
  return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
inline std::uint32_t load_acquire(const std::uint32_t* p) noexcept {
  return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

enum class SlotRead { kOk, kBusy, kWrongIndex };

// One seqlock read attempt of a slot expected to hold absolute index `want` (kNoIndex: any).
inline SlotRead try_read_slot(const Slot& slot, std::uint64_t want, Bar& out,
                              std::uint64_t* index_out = nullptr) noexcept {
  std::uint64_t idx = kNoIndex;
  const bool ok = seqlock::try_read(slot.seq, [&]() noexcept {
    idx = __atomic_load_n(&slot.index, __ATOMIC_RELAXED);
    seqlock::load_words(&slot.bar, &out, sizeof(Bar));
  });
  if (!ok) return SlotRead::kBusy;
  if (index_out != nullptr) *index_out = idx;
  if (want != kNoIndex && idx != want) return SlotRead::kWrongIndex;
  return SlotRead::kOk;
}

// Validates a mapped header against the file size. Any inconsistency is IncompatibleLayout,
// never an out-of-bounds read: the only header fields trusted are the ones checked here.
inline std::uint32_t validate_header(const RingHeader& h, std::size_t file_size,
                                     const std::string& path) {
  auto bad = [&](const std::string& why) {
    return IncompatibleLayout("mdfeed: " + path + ": " + why);
  };
  if (h.magic != kMagic) throw bad("not an mdfeed ring (bad magic)");
  const std::uint32_t ver = load_acquire(&h.version);
  if (ver == 0) throw bad("ring is not initialised (version not yet written)");
  const std::uint32_t major = ver >> 16;
  if (major != kVersionMajor)
    throw bad("layout version " + std::to_string(major) + "." + std::to_string(ver & 0xffffU) +
              " is incompatible with this reader's version " + std::to_string(kVersionMajor) +
              "." + std::to_string(kVersionMinor));
  if (h.layout_hash != kLayoutHash)
    throw bad("layout hash mismatch (file " + std::to_string(h.layout_hash) + ", reader " +
              std::to_string(kLayoutHash) + ")");
  if (h.header_size != kHeaderSize || h.slot_size != kSlotSize)
    throw bad("unexpected header/slot size " + std::to_string(h.header_size) + "/" +
              std::to_string(h.slot_size));
  // Read once: the file is shared, and the value checked must be the value used.
  const std::uint32_t cap = __atomic_load_n(&h.capacity, __ATOMIC_RELAXED);
  if (!is_power_of_two(cap) || cap > (1U << 24))
    throw bad("capacity " + std::to_string(cap) + " is not a power of two <= 2^24");
  if (file_size < ring_file_size(cap))
    throw bad("file is " + std::to_string(file_size) + " bytes, expected " +
              std::to_string(ring_file_size(cap)) + " (truncated?)");
  return cap;
}

}  // namespace detail

// Zero-copy view of consecutive closed bars, oldest first. Bars are read in place; a view is
// only meaningful while valid() is true (the writer has not lapped its first bar). Code that
// must not race the writer uses Ring::copy_latest instead.
class BarView {
 public:
  class iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = Bar;
    using difference_type = std::ptrdiff_t;
    using pointer = const Bar*;
    using reference = const Bar&;

    iterator() = default;
    iterator(const Slot* slots, std::uint64_t mask, std::uint64_t idx) noexcept
        : slots_(slots), mask_(mask), idx_(idx) {}
    reference operator*() const noexcept { return slots_[idx_ & mask_].bar; }
    pointer operator->() const noexcept { return &**this; }
    reference operator[](difference_type n) const noexcept { return *(*this + n); }
    iterator& operator++() noexcept { ++idx_; return *this; }
    iterator operator++(int) noexcept { auto t = *this; ++idx_; return t; }
    iterator& operator--() noexcept { --idx_; return *this; }
    iterator operator--(int) noexcept { auto t = *this; --idx_; return t; }
    // Unsigned (modular) arithmetic, like the absolute index itself: a signed sum overflows
    // (UB) for an index past 2^63, which a corrupt or hostile closed_count can produce.
    iterator& operator+=(difference_type n) noexcept {
      idx_ += static_cast<std::uint64_t>(n);
      return *this;
    }
    iterator& operator-=(difference_type n) noexcept {
      idx_ -= static_cast<std::uint64_t>(n);
      return *this;
    }
    friend iterator operator+(iterator it, difference_type n) noexcept { return it += n; }
    friend iterator operator-(iterator it, difference_type n) noexcept { return it -= n; }
    friend difference_type operator-(const iterator& a, const iterator& b) noexcept {
      return static_cast<difference_type>(a.idx_ - b.idx_);
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.idx_ == b.idx_; }
    friend bool operator!=(const iterator& a, const iterator& b) noexcept { return a.idx_ != b.idx_; }
    friend bool operator<(const iterator& a, const iterator& b) noexcept { return a.idx_ < b.idx_; }

   private:
    const Slot* slots_ = nullptr;
    std::uint64_t mask_ = 0;
    std::uint64_t idx_ = 0;
  };

  BarView() = default;
  BarView(const RingHeader* h, const Slot* slots, std::uint32_t cap, std::uint64_t first,
          std::uint64_t count) noexcept
      : hdr_(h), slots_(slots), cap_(cap), first_(first), count_(count) {}

  [[nodiscard]] iterator begin() const noexcept { return {slots_, cap_ - 1ULL, first_}; }
  [[nodiscard]] iterator end() const noexcept { return {slots_, cap_ - 1ULL, first_ + count_}; }
  [[nodiscard]] std::size_t size() const noexcept { return static_cast<std::size_t>(count_); }
  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
  [[nodiscard]] const Bar& operator[](std::size_t i) const noexcept { return begin()[static_cast<std::ptrdiff_t>(i)]; }
  [[nodiscard]] const Bar& front() const noexcept { return *begin(); }
  [[nodiscard]] const Bar& back() const noexcept { return begin()[static_cast<std::ptrdiff_t>(count_ - 1)]; }
  // Absolute index of the first bar (closed bars are numbered from 0 in publish order).
  [[nodiscard]] std::uint64_t first_index() const noexcept { return first_; }

  // True while the writer cannot have started overwriting any slot of this view. The writer
  // writes index k into the slot of k - capacity, so the view is safe while every k written so
  // far is < first + capacity. Check it AFTER using the bars: if it is still true, what you read
  // was stable.
  [[nodiscard]] bool valid() const noexcept {
    if (hdr_ == nullptr) return count_ == 0;
    // Orders the caller's earlier plain reads of the bars before the count we check.
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    const std::uint64_t closed = detail::load_acquire(&hdr_->closed_count);
    return closed < first_ + cap_;
  }

 private:
  const RingHeader* hdr_ = nullptr;
  const Slot* slots_ = nullptr;
  std::uint32_t cap_ = 0;
  std::uint64_t first_ = 0;
  std::uint64_t count_ = 0;
};

class Ring {
 public:
  // Opens <dir>/<feed>/<SYMBOL>.<interval>.ring; dir defaults to $MDFEED_SHM_DIR or
  // /dev/shm/mdfeed. Throws NotFound, IncompatibleLayout or Error with the path and reason.
  static Ring open(const std::string& feed, const std::string& symbol, const std::string& interval,
                   const std::string& dir = {}) {
    if (!valid_feed_name(feed)) throw Error("mdfeed: invalid feed name '" + feed + "'");
    if (!valid_symbol_name(symbol)) throw Error("mdfeed: invalid symbol '" + symbol + "'");
    if (!::mdfeed::interval_ms(interval))
      throw Error("mdfeed: unknown interval '" + interval + "' (valid: " + interval_list() + ")");
    return open_path(ring_path(resolve_shm_dir(dir), feed, symbol, interval));
  }

  static Ring open_path(const std::string& path) {
    Ring r;
    r.path_ = path;
    r.map(path);
    return r;
  }

  Ring(Ring&& o) noexcept { swap(o); }
  Ring& operator=(Ring&& o) noexcept {
    if (this != &o) {
      unmap();
      swap(o);
    }
    return *this;
  }
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  ~Ring() { unmap(); }

  // The last n CLOSED bars (fewer if fewer exist, at most capacity - 1), oldest first, zero copy.
  [[nodiscard]] BarView latest(std::size_t n) const noexcept {
    const std::uint64_t closed = closed_count();
    std::uint64_t k = n;
    if (k > cap_ - 1ULL) k = cap_ - 1ULL;
    if (k > closed) k = closed;
    return {hdr_, slots_, cap_, closed - k, k};
  }

  // Validated copy of the last n closed bars, oldest first. Retries bars caught mid-write and
  // restarts if the writer laps the copy; returns fewer bars only if fewer exist.
  [[nodiscard]] std::vector<Bar> copy_latest(std::size_t n) const {
    std::vector<Bar> out;
    copy_latest(n, out);
    return out;
  }

  // Same, into a caller-owned buffer (no allocation when out has the capacity).
  void copy_latest(std::size_t n, std::vector<Bar>& out) const {
    for (int attempt = 0; attempt < 100; ++attempt) {
      const BarView v = latest(n);
      out.resize(v.size());
      if (copy_range(v.first_index(), v.size(), out.data())) return;
    }
    out.clear();  // lapped or stuck on every attempt: give nothing rather than garbage
  }

  // Copies `count` closed bars starting at absolute index `first` with seqlock validation.
  // Returns false if any of them has been overwritten (lapped) meanwhile.
  [[nodiscard]] bool copy_range(std::uint64_t first, std::size_t count, Bar* out) const noexcept {
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint64_t idx = first + i;
      const Slot& s = slots_[idx & (cap_ - 1ULL)];
      detail::SlotRead r = detail::SlotRead::kBusy;
      // A live writer holds a slot odd for tens of nanoseconds; a bounded spin also survives a
      // writer that died mid-write (the slot stays odd until the next writer repairs it).
      for (int spin = 0; spin < 10000 && r == detail::SlotRead::kBusy; ++spin)
        r = detail::try_read_slot(s, idx, out[i]);
      if (r != detail::SlotRead::kOk) return false;
    }
    return true;
  }

  // The bar still forming, if any, as a validated copy.
  [[nodiscard]] std::optional<Bar> forming() const noexcept {
    for (int spin = 0; spin < 10000; ++spin) {
      Bar b{};
      std::uint64_t idx = 0;
      const auto r = detail::try_read_slot(hdr_->forming, kNoIndex, b, &idx);
      if (r == detail::SlotRead::kBusy) continue;
      // The forming slot carries the index it will close at; once that many bars are closed
      // it is history (the writer closes a bar before replacing the forming slot).
      if (idx == kNoIndex || idx < closed_count()) return std::nullopt;
      return b;
    }
    return std::nullopt;
  }

  [[nodiscard]] std::uint64_t closed_count() const noexcept {
    return detail::load_acquire(&hdr_->closed_count);
  }
  [[nodiscard]] std::uint32_t update_count() const noexcept {
    return detail::load_acquire(&hdr_->update_count);
  }

  // Blocks until update_count() != seen or the timeout expires; true if an update happened.
  // FUTEX_WAIT on a read-only shared mapping works: the futex key is the page, not a write.
  bool wait_for_update(std::uint32_t seen, std::chrono::nanoseconds timeout) const noexcept {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (update_count() != seen) return true;
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::nanoseconds::zero()) return false;
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
      // Not FUTEX_PRIVATE_FLAG: the writer is another process.
      syscall(SYS_futex, &hdr_->update_count, FUTEX_WAIT, seen, &ts, nullptr, 0);
    }
  }

  // Writer heartbeat younger than max_age and the writer says it is live.
  [[nodiscard]] bool writer_alive(std::chrono::milliseconds max_age =
                                      std::chrono::milliseconds(1500)) const noexcept {
    if (writer_state() != WriterState::kLive) return false;
    return heartbeat_age() <= std::chrono::duration_cast<std::chrono::nanoseconds>(max_age);
  }

  [[nodiscard]] std::chrono::nanoseconds heartbeat_age() const noexcept {
    const std::uint64_t hb = detail::load_acquire(&hdr_->heartbeat_ns);
    const std::uint64_t now = detail::monotonic_ns();
    if (hb == 0) return std::chrono::nanoseconds::max();
    return std::chrono::nanoseconds(now > hb ? static_cast<std::int64_t>(now - hb) : 0);
  }

  [[nodiscard]] WriterState writer_state() const noexcept {
    return static_cast<WriterState>(__atomic_load_n(&hdr_->writer_state, __ATOMIC_ACQUIRE));
  }
  [[nodiscard]] std::uint64_t writer_instance() const noexcept {
    return __atomic_load_n(&hdr_->writer_instance, __ATOMIC_ACQUIRE);
  }
  [[nodiscard]] std::uint32_t writer_pid() const noexcept {
    return __atomic_load_n(&hdr_->writer_pid, __ATOMIC_RELAXED);
  }

  // True if the file at path() is no longer the one mapped (the daemon replaced it). Call
  // reopen() to follow it; the old mapping stays valid until then.
  [[nodiscard]] bool replaced() const noexcept { return file_.replaced_at(path_); }

  // Follows a replaced file. Returns true if the mapping changed.
  bool reopen_if_replaced() {
    if (!replaced()) return false;
    Ring fresh = open_path(path_);
    *this = std::move(fresh);
    return true;
  }

  [[nodiscard]] std::uint32_t capacity() const noexcept { return cap_; }
  [[nodiscard]] std::int64_t interval_ms() const noexcept { return hdr_->interval_ms; }
  [[nodiscard]] std::string feed() const { return detail::header_name(hdr_->feed, kNameLen); }
  [[nodiscard]] std::string symbol() const { return detail::header_name(hdr_->symbol, kNameLen); }
  [[nodiscard]] std::string interval() const {
    return detail::header_name(hdr_->interval, kIntervalNameLen);
  }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] const RingHeader& header() const noexcept { return *hdr_; }

 private:
  Ring() = default;

  void map(const std::string& path) {
    MappedFile f = MappedFile::open_read_only(
        path, kHeaderSize, "the " + std::to_string(kHeaderSize) + "-byte header",
        "mdfeed: ring not found: " + path +
            " (is the daemon running with this shm dir, feed, symbol and interval?)");
    const auto* h = static_cast<const RingHeader*>(f.data());
    cap_ = detail::validate_header(*h, f.size(), path);
    hdr_ = h;
    slots_ = reinterpret_cast<const Slot*>(static_cast<const char*>(f.data()) + kHeaderSize);
    file_ = std::move(f);
  }

  void unmap() noexcept {
    file_.reset();
    hdr_ = nullptr;
    slots_ = nullptr;
  }

  void swap(Ring& o) noexcept {
    file_.swap(o.file_);
    std::swap(hdr_, o.hdr_);
    std::swap(slots_, o.slots_);
    std::swap(cap_, o.cap_);
    std::swap(path_, o.path_);
  }

  MappedFile file_;  // read-only, whole file
  const RingHeader* hdr_ = nullptr;
  const Slot* slots_ = nullptr;
  std::uint32_t cap_ = 0;
  std::string path_;
};

}  // namespace mdfeed
