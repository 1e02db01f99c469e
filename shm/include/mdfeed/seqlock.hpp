// The seqlock every shared segment uses (ring slots, the forming slot, the status body): one
// 64-bit sequence word, odd while the single writer changes what it guards. Header-only, C++17.
//
// Writer:  seq = even + 1 (relaxed), release fence, fields (relaxed stores), seq = even + 2
//          (release).
// Reader:  s1 = seq (acquire; odd = busy), fields (relaxed loads), acquire fence, s2 = seq;
//          s1 == s2 means the copy is one consistent state.
//
// Fields are copied word by word with relaxed __atomic operations, never memcpy: a torn copy is
// caught by the sequence check, and the atomics keep the racing accesses defined in the C++
// model (and ThreadSanitizer quiet). The release fence after the odd store keeps any field store
// from becoming visible before the sequence says "busy"; the acquire fence before the second
// load keeps every field load before it. See docs/design.md, "Shared-memory protocol".
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace mdfeed::seqlock {

// Relaxed atomic word copies between the mapping and private memory. The private side goes
// through memcpy so no object is accessed through a foreign type. bytes must be a multiple of 8
// and the shared side 8-byte aligned (every layout static_asserts this).
inline void store_words(void* shared, const void* src, std::size_t bytes) noexcept {
  auto* dst = static_cast<std::uint64_t*>(shared);
  const auto* s = static_cast<const unsigned char*>(src);
  for (std::size_t i = 0; i < bytes / 8; ++i) {
    std::uint64_t w = 0;
    std::memcpy(&w, s + i * 8, 8);
    __atomic_store_n(&dst[i], w, __ATOMIC_RELAXED);
  }
}

inline void load_words(const void* shared, void* dst, std::size_t bytes) noexcept {
  const auto* src = static_cast<const std::uint64_t*>(shared);
  auto* d = static_cast<unsigned char*>(dst);
  for (std::size_t i = 0; i < bytes / 8; ++i) {
    const std::uint64_t w = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
    std::memcpy(d + i * 8, &w, 8);
  }
}

// Writer side. Only the single writer stores seq, so it may read its own value back relaxed.
// Returns the even value held before; pass it to write_end.
inline std::uint64_t write_begin(std::uint64_t& seq) noexcept {
  const std::uint64_t begun = __atomic_load_n(&seq, __ATOMIC_RELAXED);
  __atomic_store_n(&seq, begun + 1, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_RELEASE);
  return begun;
}

inline void write_end(std::uint64_t& seq, std::uint64_t begun) noexcept {
  __atomic_store_n(&seq, begun + 2, __ATOMIC_RELEASE);
}

// Reader side: one attempt. copy() performs the relaxed field loads (load_words or
// __atomic_load_n). Returns true if what copy() read is consistent; false if the writer was busy
// or changed the data meanwhile (retry, or give up after a bound: a writer that died mid-write
// leaves seq odd until the next writer repairs it).
template <class Copy>
[[nodiscard]] inline bool try_read(const std::uint64_t& seq, Copy&& copy) noexcept(noexcept(copy())) {
  const std::uint64_t s1 = __atomic_load_n(&seq, __ATOMIC_ACQUIRE);
  if (s1 & 1U) return false;
  copy();
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  return __atomic_load_n(&seq, __ATOMIC_RELAXED) == s1;
}

}  // namespace mdfeed::seqlock
