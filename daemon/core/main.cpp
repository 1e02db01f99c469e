// mdfeed: keeps exchange kline series complete and publishes them into shared-memory rings.
//   mdfeed --config FILE         run in the foreground (stderr logs, sd_notify, SIGHUP reload)
//   mdfeed --check-config FILE   validate and exit 0, or 1 with every error's line and column
#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "config/config.hpp"
#include "core/logging.hpp"
#include "core/service.hpp"

namespace {

constexpr const char* kUsage =
    "usage: mdfeed --config FILE | --check-config FILE | --version | --help\n"
    "  --config FILE        run in the foreground; SIGHUP reloads, SIGTERM stops\n"
    "  --check-config FILE  validate FILE (and the MDFEED_* environment); exit 0 if valid, 1 if not\n"
    "environment: MDFEED_SHM_DIR MDFEED_LOG_LEVEL MDFEED_SYMBOLS MDFEED_INTERVALS override the file\n";

int check_config(const std::string& path) {
  const mdfeed::LoadResult r = mdfeed::load_config_file(path);
  if (!r.ok()) {
    for (const auto& e : r.errors) std::fprintf(stderr, "%s\n", e.str().c_str());
    std::fprintf(stderr, "%s: %zu error(s)\n", path.c_str(), r.errors.size());
    return 1;
  }
  std::printf("%s: OK (%s)\n", path.c_str(), mdfeed::describe(*r.config).c_str());
  // Valid, but the daemon would stop at start-up: say so now. (systemd-tmpfiles creates
  // /dev/shm/mdfeed at boot, so a check on a build host may legitimately not have it.)
  struct stat st {};
  const std::string& dir = r.config->shm_dir;
  if (::stat(dir.c_str(), &st) != 0)
    std::fprintf(stderr, "%s: warning: shm.dir %s does not exist (%s); the daemon will not start until it "
                 "does (systemd-tmpfiles creates it from mdfeed.conf)\n",
                 path.c_str(), dir.c_str(), std::strerror(errno));
  else if (!S_ISDIR(st.st_mode))
    std::fprintf(stderr, "%s: warning: shm.dir %s is not a directory\n", path.c_str(), dir.c_str());
  return 0;
}

// Signals are taken synchronously by one thread, which only sets flags and wakes lws: nothing
// async-signal-unsafe runs in a handler, and the service thread never sees EINTR surprises.
void block_signals(sigset_t& set) {
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

int run(const std::string& path) {
  sigset_t set;
  block_signals(set);  // before any thread (spdlog's, lws's) exists
  mdfeed::LoadResult r = mdfeed::load_config_file(path);
  if (!r.ok()) {
    for (const auto& e : r.errors) std::fprintf(stderr, "mdfeed: %s\n", e.str().c_str());
    std::fprintf(stderr, "mdfeed: %s has %zu error(s); not starting\n", path.c_str(), r.errors.size());
    return 1;
  }
  mdfeed::log::init(r.config->log_level);
  int rc = 1;
  try {
    mdfeed::Service svc(std::move(*r.config), mdfeed::ServiceOptions{path});
    std::thread sig([&svc, set]() mutable {
      for (;;) {
        int s = 0;
        if (sigwait(&set, &s) != 0) continue;
        if (s == SIGHUP) {
          svc.request_reload();
        } else {
          svc.request_stop();
          return;
        }
      }
    });
    rc = svc.run();
    // The signal thread exits on the stop signal; if run() ended on its own, send one to it.
    if (sig.joinable()) {
      pthread_kill(sig.native_handle(), SIGTERM);
      sig.join();
    }
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    mdfeed::log::shutdown();
    // mdfeed::Error messages already start with "mdfeed: ".
    const char* msg = e.what();
    std::fprintf(stderr, "%s%s\n", std::strncmp(msg, "mdfeed: ", 8) == 0 ? "" : "mdfeed: ", msg);
    return 1;
  }
  mdfeed::log::shutdown();
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string a1 = argc > 1 ? argv[1] : "";
  if (a1 == "--help" || a1 == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (a1 == "--version") {
    std::printf("mdfeed %s\n", MDFEED_VERSION);
    return 0;
  }
  if (argc == 3 && a1 == "--check-config") return check_config(argv[2]);
  if (argc == 3 && a1 == "--config") return run(argv[2]);
  std::fputs(kUsage, stderr);
  return 2;
}
