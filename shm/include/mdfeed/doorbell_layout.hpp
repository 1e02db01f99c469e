// mdfeed doorbell layout: one futex word per shm directory that the daemon bumps once per
// service pass in which it published to any ring, so a reader following many rings can block
// once for "any of these changed" (mdfeed::Watcher, Python mdfeed.wait_any). Shared by the
// writer (shm/, doorbell_writer.hpp), the C++ reader (client/, watcher.hpp) and, by mirroring,
// the Python package (client/python/mdfeed/watch.py). Change it only with a version bump.
//
// One file per shm directory: <shm.dir>/mdfeed.doorbell, one page (4096 bytes), 0640.
//
//  offset  size  contents                                                   written by
//  ------  ----  ---------------------------------------------------------  -----------------
//       0  8     magic "MDFEEDB\0" (little-endian u64 kDoorbellMagic)       create, once
//       8  4     version = major<<16 | minor, stored LAST with release      create, once
//      12  4     file_size (= kDoorbellFileSize)                            create, once
//      16  4     writer_pid (atomic)                                        each writer start
//      20  108   reserved (zero)
//  ------  ---- 128-byte line boundary ---------------------------------------------------------
//     128  4     bell: bumped (release) once per service pass that published; FUTEX word
//     132  124   reserved (zero)
//     256  3840  reserved (zero)
//
// Protocol: the writer stores every ring's update_count first, then bumps bell with release,
// then FUTEX_WAKEs every waiter on bell (not FUTEX_PRIVATE_FLAG). A reader loads bell with
// acquire BEFORE it checks the rings' update counts, and FUTEX_WAITs on the value it loaded:
// a publish it did not see in the counts has either bumped bell already (the wait returns at
// once) or will wake it. The file is reused in place across daemon restarts (never truncated),
// so a waiter's mapping stays the live bell.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mdfeed/layout.hpp"

namespace mdfeed {

inline constexpr std::uint64_t kDoorbellMagic = 0x00424445'4546444DULL;  // "MDFEEDB\0"
inline constexpr std::uint16_t kDoorbellVersionMajor = 1;
inline constexpr std::uint16_t kDoorbellVersionMinor = 0;
inline constexpr std::uint32_t kDoorbellVersion =
    (static_cast<std::uint32_t>(kDoorbellVersionMajor) << 16) | kDoorbellVersionMinor;
inline constexpr std::size_t kDoorbellFileSize = 4096;
inline constexpr const char* kDoorbellFileName = "mdfeed.doorbell";

struct alignas(kCacheLine) DoorbellHeader {
  std::uint64_t magic;
  std::uint32_t version;
  std::uint32_t file_size;
  std::uint32_t writer_pid;
  std::uint8_t reserved0[108];
  alignas(kCacheLine) std::uint32_t bell;
  std::uint8_t reserved1[124];
};

static_assert(std::is_standard_layout_v<DoorbellHeader>);
static_assert(sizeof(DoorbellHeader) == 256 && sizeof(DoorbellHeader) <= kDoorbellFileSize);
static_assert(offsetof(DoorbellHeader, magic) == 0 && offsetof(DoorbellHeader, version) == 8);
static_assert(offsetof(DoorbellHeader, file_size) == 12);
static_assert(offsetof(DoorbellHeader, writer_pid) == 16);
static_assert(offsetof(DoorbellHeader, bell) == 128);

[[nodiscard]] inline std::string doorbell_path(std::string_view shm_dir) {
  std::string p(shm_dir);
  p += '/';
  p += kDoorbellFileName;
  return p;
}

// A doorbell this build can use: magic, major version and size. The version is read with
// acquire: once it is set, everything the creator wrote before it is visible.
[[nodiscard]] inline bool doorbell_compatible(const DoorbellHeader& h, std::size_t size) noexcept {
  if (size < kDoorbellFileSize || h.magic != kDoorbellMagic) return false;
  const std::uint32_t ver = __atomic_load_n(&h.version, __ATOMIC_ACQUIRE);
  return (ver >> 16) == kDoorbellVersionMajor && h.file_size >= sizeof(DoorbellHeader) &&
         h.file_size <= size;
}

}  // namespace mdfeed
