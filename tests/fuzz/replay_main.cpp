// Replays inputs through a fuzz target without libFuzzer, so the corpus and every crash-*
// regression input run in plain and sanitizer builds with any compiler:
//   fuzz_replay_<target> [--skip-crash] FILE_OR_DIR...
// --skip-crash leaves out the crash-* files of a directory: ctest runs each of those as its own
// test, so one unfixed regression does not hide the rest of the corpus.
// Each file is passed in a heap buffer of exactly its size, as libFuzzer does, so ASan sees a read
// past the end. A crash aborts with the file name already printed, an input running longer than
// kInputTimeoutS aborts too (a hang is a bug, and some hangs also eat memory fast), and an empty
// or missing directory fails, so a lost corpus cannot pass silently. Without a sanitizer (whose
// shadow memory needs the address space) the process is also held to kAddressSpaceBytes, the
// counterpart of libFuzzer's malloc limit.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_check.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MDFEED_REPLAY_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define MDFEED_REPLAY_SANITIZED 1
#endif
#endif

namespace fs = std::filesystem;

namespace {

// Every seed takes milliseconds, even under ASan. Lower than libFuzzer's 10 s in scripts/fuzz
// because a hang can allocate as it spins (yaml-cpp#1040 grows ~100 MB/s).
constexpr unsigned kInputTimeoutS = 5;
char g_current[4096];  // the input being run, for the alarm handler

void on_alarm(int /*sig*/) {
  static const char kMsg[] = "replay: TIMEOUT (hang) on input ";
  ssize_t r = ::write(STDERR_FILENO, kMsg, sizeof kMsg - 1);
  r = ::write(STDERR_FILENO, g_current, std::strlen(g_current));
  r = ::write(STDERR_FILENO, "\n", 1);
  static_cast<void>(r);
  std::abort();
}

bool replay_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "replay: cannot read %s\n", p.c_str());
    return false;
  }
  const std::vector<char> bytes{std::istreambuf_iterator<char>(in),
                                std::istreambuf_iterator<char>()};
  // A fresh exact-size allocation (not the vector's, which may have spare capacity).
  const std::size_t n = bytes.size();
  const std::unique_ptr<std::uint8_t[]> buf(new std::uint8_t[n == 0 ? 1 : n]);
  std::copy(bytes.begin(), bytes.end(), buf.get());
  std::fprintf(stderr, "replay: %s (%zu bytes)\n", p.c_str(), n);
  std::snprintf(g_current, sizeof g_current, "%s", p.c_str());
  ::alarm(kInputTimeoutS);
  LLVMFuzzerTestOneInput(buf.get(), n);
  ::alarm(0);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int first = 1;
  bool skip_crash = false;
  if (argc > 1 && std::strcmp(argv[1], "--skip-crash") == 0) {
    skip_crash = true;
    ++first;
  }
  if (argc <= first) {
    std::fprintf(stderr, "usage: %s [--skip-crash] FILE_OR_DIR...\n", argv[0]);
    return 2;
  }
  std::signal(SIGALRM, on_alarm);
#ifndef MDFEED_REPLAY_SANITIZED
  constexpr rlim_t kAddressSpaceBytes = rlim_t{1} << 30;
  const rlimit as{kAddressSpaceBytes, kAddressSpaceBytes};
  if (::setrlimit(RLIMIT_AS, &as) != 0) std::perror("replay: setrlimit(RLIMIT_AS)");
#endif
  std::size_t count = 0;
  for (int i = first; i < argc; ++i) {
    const fs::path arg(argv[i]);
    std::vector<fs::path> files;
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      for (const auto& e : fs::directory_iterator(arg, ec)) {
        const bool crash = e.path().filename().string().rfind("crash-", 0) == 0;
        if (e.is_regular_file() && !(skip_crash && crash)) files.push_back(e.path());
      }
      if (files.empty()) {
        std::fprintf(stderr, "replay: no inputs in %s\n", arg.c_str());
        return 1;
      }
      std::sort(files.begin(), files.end());  // stable order: a failure reproduces the same way
    } else {
      files.push_back(arg);
    }
    for (const auto& f : files) {
      if (!replay_file(f)) return 1;
      ++count;
    }
  }
  std::printf("replayed %zu inputs\n", count);
  return 0;
}
