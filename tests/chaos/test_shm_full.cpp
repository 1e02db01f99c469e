// Chaos: the shm filesystem fills up. The test runs in a private mount namespace with a small
// tmpfs as the shm dir (as root; otherwise it is reported as skipped, exit 77), fills it to the
// last block while the daemon publishes and C++ and Python readers read, then makes the daemon
// need new space: a ring added by reload, a ring added at start, a ring grown at start.
// Every such creation fails cleanly (message names the path and "No space", nothing
// half-written), the daemon never dies of SIGBUS, existing rings stay readable and exact, and
// readers never crash. A restart that needs no new space - after a SIGKILL or a clean stop, on
// the still-full filesystem - comes back: rings and status segment are reused in place, status
// is published (mdfeed-ctl status), every ring resumes and stays exact. Freeing space lets the
// next start create the missing rings.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include <cstdio>
#include <filesystem>

#include "chaos_harness.hpp"
#include "status/health.hpp"
#include "status/status.hpp"

using namespace mdfeed;
using namespace mdfeed::chaos;
using namespace std::chrono_literals;

namespace {

constexpr int kSkip = 77;  // ctest SKIP_RETURN_CODE

[[noreturn]] void skip(const std::string& why) {
  std::printf("SKIPPED: %s: %s (needs root for a private mount namespace and a tmpfs)\n", why.c_str(),
              std::strerror(errno));
  std::fflush(stdout);
  std::_Exit(kSkip);
}

// A tmpfs of `size` mounted on `dir`, unmounted when the test ends (the mount lives in this
// process's private namespace, so even a crash cannot leak it into the host's).
class Tmpfs {
 public:
  Tmpfs(const std::string& dir, const std::string& size) : dir_(dir) {
    ::mkdir(dir.c_str(), 0755);
    if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, ("size=" + size + ",mode=0755").c_str()) != 0)
      skip("mount -t tmpfs on " + dir);
  }
  ~Tmpfs() { ::umount2(dir_.c_str(), MNT_DETACH); }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;
  [[nodiscard]] std::uint64_t free_bytes() const {
    struct statvfs v{};
    ::statvfs(dir_.c_str(), &v);
    return static_cast<std::uint64_t>(v.f_bavail) * v.f_frsize;
  }

 private:
  std::string dir_;
};

// Writes `path` until the filesystem refuses (ENOSPC). Bounded by the filesystem's size.
std::uint64_t fill(const std::string& path, std::uint64_t fs_bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  std::vector<char> chunk(4096, 'x');
  std::uint64_t written = 0;
  int last_errno = 0;
  for (std::uint64_t i = 0; i <= fs_bytes / chunk.size() + 4; ++i) {
    const ssize_t n = ::write(fd, chunk.data(), chunk.size());
    if (n < 0) {
      last_errno = errno;
      break;
    }
    written += static_cast<std::uint64_t>(n);
  }
  ::close(fd);
  CHECK(last_errno == ENOSPC);
  return written;
}

std::vector<std::string> leftovers(const std::string& shm) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(shm, ec)) {
    const std::string name = e.path().filename().string();
    if (name.find(".tmp") != std::string::npos) out.push_back(e.path().string());
  }
  return out;
}

void edit_config(const it::Daemon& d, const std::string& from, const std::string& to) {
  std::string y = it::slurp(d.config_path());
  const auto p = y.find(from);
  REQUIRE(p != std::string::npos);
  y.replace(p, from.size(), to);
  std::ofstream(d.config_path()) << y;
}

bool exists(const std::string& p) { return ::access(p.c_str(), F_OK) == 0; }

std::uint64_t closed(const it::Daemon& d, const std::string& sym, const std::string& ivl) {
  return Ring::open("binance", sym, ivl, d.shm()).closed_count();
}

ino_t inode_of(const std::string& p) {
  struct stat st{};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_ino;
}

struct CtlRun {
  int exit_code = -1;
  std::string out;
};

// `mdfeed-ctl --shm-dir SHM status --json`, the way an operator checks a restarted daemon.
CtlRun ctl_status(const std::string& shm) {
  CtlRun r;
  const std::string cmd = std::string(MDFEED_CTL_BIN) + " --shm-dir '" + shm + "' status --json 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// The string value of `"key":"..."` in mdfeed-ctl's JSON (first occurrence; "" if absent).
std::string json_text(const std::string& doc, const std::string& key) {
  const std::string k = "\"" + key + "\":\"";
  const auto p = doc.find(k);
  if (p == std::string::npos) return "";
  const auto e = doc.find('"', p + k.size());
  return e == std::string::npos ? "" : doc.substr(p + k.size(), e - p - k.size());
}

// The daemon `d` (just started) published its status: mdfeed-ctl sees its pid, a live segment
// and an instance other than `previous`, and StatusReader reads every stream. Returns the
// instance id mdfeed-ctl reported.
std::string require_status_published(it::Daemon& d, const std::string& previous) {
  CtlRun r;
  REQUIRE(wait_until([&] {
    r = ctl_status(d.shm());
    return r.out.find("\"pid\":" + std::to_string(d.pid()) + ",") != std::string::npos &&
           json_text(r.out, "segment_state") == "live" && json_text(r.out, "instance_id") != previous;
  }, kStartup));
  INFO(r.out);
  CHECK(r.exit_code != static_cast<int>(status::Health::kDown));
  const auto snap = status::StatusReader::open(d.shm()).read();
  REQUIRE(snap);
  CHECK(snap->daemon.pid == static_cast<std::uint32_t>(d.pid()));
  CHECK(snap->streams.size() == ring_specs(d.cfg()).size());
  return json_text(r.out, "instance_id");
}

// Every ring of the config closes at least `n` more bars.
void require_rings_advance(const it::Daemon& d, std::uint64_t n) {
  std::vector<std::pair<std::string, std::string>> rings;
  std::vector<std::uint64_t> base;
  for (const auto& s : d.cfg().symbols)
    for (const auto& i : d.cfg().intervals) {
      rings.emplace_back(s, i);
      base.push_back(closed(d, s, i));
    }
  REQUIRE(wait_until([&] {
    for (std::size_t k = 0; k < rings.size(); ++k)
      if (closed(d, rings[k].first, rings[k].second) < base[k] + n) return false;
    return true;
  }, kCatchUp));
}

// The daemon must have failed to start, cleanly: a non-zero exit (not a signal such as SIGBUS),
// a message naming the ring it could not create and why, and no half-written file left
// (`path` itself must not exist unless it is an existing ring the daemon tried to replace).
void require_clean_enospc_exit(it::Daemon& d, const std::string& path, bool existed) {
  REQUIRE(wait_until([&] { return !d.running(); }, kStartup));
  const int status = d.stop();
  const std::string log = d.log();
  INFO(log);
  CHECK(status == 1);
  CHECK(log.find(path) != std::string::npos);
  CHECK(log.find("No space left on device") != std::string::npos);
  CHECK(log.find("shm filesystem full") != std::string::npos);
  CHECK(exists(path) == existed);
  CHECK(leftovers(d.shm()).empty());
  std::printf("chaos: start on a full shm fs exited %d: %s", status,
              log.substr(log.rfind("mdfeed: ") == std::string::npos ? 0 : log.rfind("mdfeed: ")).c_str());
  std::fflush(stdout);
}

}  // namespace

TEST_CASE("chaos: full shm filesystem: ring creation fails cleanly, existing rings stay readable",
          "[chaos][shm-full]") {
  // Before any thread exists: unshare(CLONE_NEWNS) refuses a multithreaded caller.
  if (::unshare(CLONE_NEWNS) != 0) skip("unshare(CLONE_NEWNS)");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) skip("make / private");
  const auto t0 = std::chrono::steady_clock::now();
  test::TempDir dir("mdfeed-chaos");
  constexpr std::uint64_t kFsBytes = 1 << 20;
  Tmpfs fs(dir.path() + "/shm", "1m");  // the Daemon's shm dir: two 1024-slot rings need 264 KB

  it::FakeExchange fx(dir);
  it::DaemonConfig c;
  c.symbols = {"BTCUSDT"};
  c.intervals = {"1m", "5m"};
  c.capacity = 1024;
  it::Daemon d(dir, fx.port(), c);
  REQUIRE(start_and_backfill(d));
  const std::string shm = d.shm();
  Ring held = Ring::open("binance", "BTCUSDT", "1m", shm);  // mapped before the disk fills
  const auto held_ino = [&] {
    struct stat st{};
    ::stat(held.path().c_str(), &st);
    return st.st_ino;
  }();
  Readers rd = start_readers(dir, shm, ring_specs(c));

  // 1. Fill the filesystem to the last block while the daemon publishes.
  const std::uint64_t filled = fill(shm + "/filler", kFsBytes);
  std::printf("chaos: filled the %llu-byte tmpfs with %llu bytes, %llu bytes left\n",
              static_cast<unsigned long long>(kFsBytes), static_cast<unsigned long long>(filled),
              static_cast<unsigned long long>(fs.free_bytes()));
  CHECK(fs.free_bytes() < 4096);
  // The daemon keeps publishing into its fallocated rings: no SIGBUS, no error.
  const std::uint64_t at_fill = closed(d, "BTCUSDT", "1m");
  REQUIRE(wait_until([&] { return closed(d, "BTCUSDT", "1m") >= at_fill + 3; }, 60s));
  REQUIRE(d.running());
  const std::string status_file = status::status_path(shm);
  const ino_t status_ino = inode_of(status_file);
  std::string instance = require_status_published(d, "");

  // 1b. SIGKILL the daemon and restart it on the still-full filesystem. Every ring and the
  //     status segment exist, so nothing needs new space: it must start, publish its status
  //     into the same file, and every ring must resume and stay exact.
  d.kill9();
  d.start();
  REQUIRE(wait_until([&] { return !d.running() || d.log().find("mdfeed running") != std::string::npos; },
                     kStartup));
  {
    INFO(d.log());
    REQUIRE(d.running());
  }
  CHECK(fs.free_bytes() < 4096);  // still full
  instance = require_status_published(d, instance);
  CHECK(inode_of(status_file) == status_ino);  // reused in place, not re-created
  CHECK(leftovers(shm).empty());
  require_rings_advance(d, 2);
  REQUIRE(it::caught_up(d, fx, kCatchUp));
  {
    const TruthVerdict after_kill = truth_verdict(d);
    CHECK(after_kill.mismatches == 0);
    CHECK(after_kill.gaps == 0);
  }
  std::printf("chaos: SIGKILL + restart on the full fs: started, status reused in place, rings resumed\n");
  std::fflush(stdout);

  // 2. A reload adds ETHUSDT: its ring cannot be created; the daemon says so and carries on.
  const std::string eth1m = shm + "/binance/ETHUSDT.1m.ring";
  edit_config(d, "symbols: [BTCUSDT]", "symbols: [BTCUSDT, ETHUSDT]");
  ::kill(d.pid(), SIGHUP);
  REQUIRE(wait_until([&] { return d.log().find("reload done") != std::string::npos; }, 30s));
  {
    const std::string log = d.log();
    INFO(log);
    CHECK(log.find("reload: cannot add binance:ETHUSDT:1m: mdfeed: cannot allocate 132096 bytes for " +
                   eth1m + ": No space left on device (shm filesystem full)") != std::string::npos);
    CHECK_FALSE(exists(eth1m));
    CHECK(leftovers(shm).empty());
  }
  const std::uint64_t after_reload = closed(d, "BTCUSDT", "1m");
  REQUIRE(wait_until([&] { return closed(d, "BTCUSDT", "1m") >= after_reload + 2; }, 60s));
  REQUIRE(d.running());
  CHECK(d.stop() == 0);  // SIGTERM: a clean exit, not SIGBUS

  // 3. A start that needs a new ring (ETHUSDT is now in the file) fails cleanly.
  d.start();
  require_clean_enospc_exit(d, eth1m, false);

  // 4. A start that must grow the existing rings (new file + rename over the old) fails
  //    cleanly too, and the old file is left alone: same inode, still exact.
  edit_config(d, "symbols: [BTCUSDT, ETHUSDT]", "symbols: [BTCUSDT]");
  edit_config(d, "capacity: 1024", "capacity: 2048");
  d.start();
  require_clean_enospc_exit(d, held.path(), true);
  CHECK_FALSE(held.replaced());
  {
    struct stat st{};
    REQUIRE(::stat(held.path().c_str(), &st) == 0);
    CHECK(st.st_ino == held_ino);
  }
  const TruthVerdict while_full = truth_verdict(d);
  CHECK(while_full.mismatches == 0);
  CHECK(while_full.gaps == 0);
  CHECK(held.closed_count() >= at_fill + 3);

  // 5. The same config as before (nothing new to create) on the still-full filesystem, after
  //    clean stops and failed starts: it starts, reusing every ring and the status segment.
  edit_config(d, "capacity: 2048", "capacity: 1024");
  CHECK(fs.free_bytes() < 4096);
  d.start();
  REQUIRE(wait_until([&] { return !d.running() || d.log().find("mdfeed running") != std::string::npos; },
                     kStartup));
  {
    INFO(d.log());
    REQUIRE(d.running());
  }
  instance = require_status_published(d, instance);
  CHECK(inode_of(status_file) == status_ino);
  require_rings_advance(d, 2);
  std::printf("chaos: restart with unchanged config on the full fs: started\n");
  std::fflush(stdout);
  CHECK(d.stop() == 0);
  CHECK(leftovers(shm).empty());

  // 6. Space comes back: the next start creates the missing rings and everything catches up.
  REQUIRE(::unlink((shm + "/filler").c_str()) == 0);
  edit_config(d, "symbols: [BTCUSDT]", "symbols: [BTCUSDT, ETHUSDT]");
  d.start();
  REQUIRE(wait_until([&] {
    try {
      return Ring::open("binance", "ETHUSDT", "1m", shm).closed_count() >= c.backfill_bars &&
             Ring::open("binance", "ETHUSDT", "5m", shm).closed_count() >= c.backfill_bars;
    } catch (const Error&) {
      return false;
    }
  }, kStartup));
  REQUIRE(it::caught_up(d, fx, kCatchUp));
  const TruthVerdict end = truth_verdict(d);
  CHECK(end.mismatches == 0);
  CHECK(end.gaps == 0);
  for (const char* ivl : {"1m", "5m"}) {
    const it::RingCheck eth = it::check_ring(shm, "ETHUSDT", ivl);
    INFO(eth.first_problem);
    CHECK(eth.mismatches == 0);
    CHECK(eth.gaps == 0);
  }
  CHECK(held.writer_alive());  // the mapping taken before the disk filled follows the daemon
  finish_readers(dir, d, rd);
  CHECK(d.stop() == 0);
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - t0).count();
  std::printf("chaos: SUMMARY shm-full torn=%lld+%lld mismatches=%zu runtime_s=%lld\n",
              rd.cpp->summary_value("torn"), rd.py->summary_value("torn"),
              while_full.mismatches + end.mismatches, static_cast<long long>(secs));
  std::fflush(stdout);
}
