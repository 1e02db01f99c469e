// Fuzz target: a ring file, corrupt, truncated or hostile, opened with Ring::open_path. Opening
// either throws an mdfeed::Error or yields a ring whose every accessor stays inside the mapping;
// the mapping's bounds are checked here explicitly, because a stray read into the same page or a
// neighbouring mapping would not fault and ASan does not watch mmap'd memory.
// The input lives in a memfd, opened by the reader through /proc/self/fd like any other path.
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include <mdfeed/reader.hpp>

#include "fuzz_check.hpp"

namespace {

struct MemFile {
  int fd = -1;
  std::string path;

  MemFile() {
    fd = ::memfd_create("mdfeed-fuzz-ring", MFD_CLOEXEC);
    if (fd < 0) {
      std::perror("memfd_create");
      std::abort();
    }
    path = "/proc/self/fd/" + std::to_string(fd);
  }

  void assign(const std::uint8_t* data, std::size_t size) const {
    MDFEED_FUZZ_CHECK(::ftruncate(fd, 0) == 0);
    std::size_t done = 0;
    while (done < size) {
      const ssize_t n = ::pwrite(fd, data + done, size - done, static_cast<off_t>(done));
      MDFEED_FUZZ_CHECK(n > 0);
      done += static_cast<std::size_t>(n);
    }
  }
};

// [begin, end) of the file as the reader mapped it.
struct Bounds {
  const char* begin;
  const char* end;

  void check(const void* p, std::size_t n) const {
    const auto* c = static_cast<const char*>(p);
    MDFEED_FUZZ_CHECK(c >= begin && c <= end && n <= static_cast<std::size_t>(end - c));
  }
};

void exercise_view(const mdfeed::Ring& ring, const Bounds& b, std::size_t n) {
  const mdfeed::BarView v = ring.latest(n);
  MDFEED_FUZZ_CHECK(v.size() <= n && v.size() < ring.capacity());
  if (v.empty()) {
    static_cast<void>(v.valid());
    return;
  }
  double sum = 0;  // touch the bytes too, not just the addresses
  for (const mdfeed::Bar& bar : v) {
    b.check(&bar, sizeof bar);
    sum += bar.close;
  }
  // Random access, as std::lower_bound over a view would use it.
  for (std::size_t i = 0; i < v.size(); ++i) b.check(&v[i], sizeof(mdfeed::Bar));
  b.check(&v.front(), sizeof(mdfeed::Bar));
  b.check(&v.back(), sizeof(mdfeed::Bar));
  MDFEED_FUZZ_CHECK(static_cast<std::size_t>(v.end() - v.begin()) == v.size());
  static_cast<void>(v.valid());
  static_cast<void>(sum);
}

void exercise(const mdfeed::Ring& ring, std::size_t file_size) {
  const auto* base = reinterpret_cast<const char*>(&ring.header());
  const Bounds b{base, base + file_size};
  const std::uint32_t cap = ring.capacity();
  MDFEED_FUZZ_CHECK(mdfeed::is_power_of_two(cap) && mdfeed::ring_file_size(cap) <= file_size);

  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{cap} - 1, std::size_t{cap},
                        std::size_t{cap} + 1, std::numeric_limits<std::size_t>::max()})
    exercise_view(ring, b, n);

  const std::vector<mdfeed::Bar> bars = ring.copy_latest(cap);
  MDFEED_FUZZ_CHECK(bars.size() < cap && bars.size() <= ring.closed_count());
  static_cast<void>(ring.forming());
  static_cast<void>(ring.feed());
  static_cast<void>(ring.symbol());
  static_cast<void>(ring.interval());
  static_cast<void>(ring.interval_ms());
  static_cast<void>(ring.writer_alive());
  static_cast<void>(ring.writer_instance());
  static_cast<void>(ring.writer_pid());
  static_cast<void>(ring.wait_for_update(ring.update_count(), std::chrono::nanoseconds(0)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const MemFile file;
  file.assign(data, size);
  try {
    const mdfeed::Ring ring = mdfeed::Ring::open_path(file.path);
    exercise(ring, size);
  } catch (const mdfeed::Error&) {
    // The expected outcome for most inputs: refused with a reason.
  }
  return 0;
}
