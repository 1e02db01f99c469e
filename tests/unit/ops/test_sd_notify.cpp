// sd_notify against a real AF_UNIX datagram socket (path and abstract), as systemd would
// receive it; and the WATCHDOG_USEC/WATCHDOG_PID rules.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "ops/sd_notify.hpp"
#include "test_util.hpp"

using namespace mdfeed::ops;
using mdfeed::test::TempDir;

namespace {

// A bound datagram socket playing systemd's notify socket; receives with a 2 s timeout.
class Listener {
 public:
  explicit Listener(const std::string& name) : name_(name) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(name.size() < sizeof addr.sun_path);
    std::memcpy(addr.sun_path, name.data(), name.size());
    const bool abstract = name[0] == '@';
    if (abstract) addr.sun_path[0] = '\0';
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() +
                                            (abstract ? 0 : 1));
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0);
    timeval tv{2, 0};
    REQUIRE(::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
  }
  ~Listener() { ::close(fd_); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  std::string receive() {
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n < 0 ? std::string("<nothing received>") : std::string(buf, static_cast<std::size_t>(n));
  }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  int fd_ = -1;
};

// Sets or unsets an environment variable for one scope (Catch runs cases sequentially).
class ScopedEnv {
 public:
  ScopedEnv(const char* key, const char* value) : key_(key) {
    if (value != nullptr)
      ::setenv(key, value, 1);
    else
      ::unsetenv(key);
  }
  ~ScopedEnv() { ::unsetenv(key_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* key_;
};

}  // namespace

TEST_CASE("path socket: every daemon message arrives verbatim") {
  TempDir d;
  Listener l(d.path() + "/notify");
  ScopedEnv env("NOTIFY_SOCKET", l.name().c_str());
  CHECK(sd_notify("READY=1\nSTATUS=serving 6 streams"));
  CHECK(l.receive() == "READY=1\nSTATUS=serving 6 streams");
  CHECK(notify_ready("up"));
  CHECK(l.receive() == "READY=1\nSTATUS=up");
  CHECK(notify_ready());
  CHECK(l.receive() == "READY=1");
  CHECK(notify_status("2 of 6 streams stale"));
  CHECK(l.receive() == "STATUS=2 of 6 streams stale");
  CHECK(notify_watchdog());
  CHECK(l.receive() == "WATCHDOG=1");
  CHECK(notify_reloading());
  const std::string reload = l.receive();
  CHECK(reload.rfind("RELOADING=1\nMONOTONIC_USEC=", 0) == 0);
  CHECK(reload.size() > std::strlen("RELOADING=1\nMONOTONIC_USEC="));
  CHECK(reload.find_first_not_of("0123456789", std::strlen("RELOADING=1\nMONOTONIC_USEC=")) ==
        std::string::npos);
  CHECK(notify_stopping());
  CHECK(l.receive() == "STOPPING=1");
}

TEST_CASE("abstract socket (@name)") {
  const std::string name = "@mdfeed-test-" + std::to_string(::getpid());
  Listener l(name);
  ScopedEnv env("NOTIFY_SOCKET", name.c_str());
  CHECK(sd_notify("WATCHDOG=1"));
  CHECK(l.receive() == "WATCHDOG=1");
}

TEST_CASE("not under systemd or unusable addresses: false, never a crash") {
  {
    ScopedEnv env("NOTIFY_SOCKET", nullptr);
    CHECK_FALSE(sd_notify("READY=1"));
    CHECK_FALSE(notify_watchdog());
  }
  {
    ScopedEnv env("NOTIFY_SOCKET", "");
    CHECK_FALSE(sd_notify("READY=1"));
  }
  TempDir d;
  CHECK_FALSE(sd_notify_to("relative/notify", "READY=1"));
  CHECK_FALSE(sd_notify_to("@", "READY=1"));
  CHECK_FALSE(sd_notify_to(d.path() + "/nobody-listens", "READY=1"));
  CHECK_FALSE(sd_notify_to("/" + std::string(200, 'x'), "READY=1"));
  Listener l(d.path() + "/notify");
  CHECK_FALSE(sd_notify_to(l.name(), ""));
}

TEST_CASE("watchdog: WATCHDOG_USEC, checked against WATCHDOG_PID") {
  const long self = 1234;
  CHECK(parse_watchdog("30000000", nullptr, self) == std::chrono::microseconds(30'000'000));
  CHECK(parse_watchdog("5000", "1234", self) == std::chrono::microseconds(5000));
  CHECK_FALSE(parse_watchdog("5000", "999", self));  // meant for another process
  CHECK_FALSE(parse_watchdog(nullptr, nullptr, self));
  CHECK_FALSE(parse_watchdog("", nullptr, self));
  CHECK_FALSE(parse_watchdog("0", nullptr, self));
  CHECK_FALSE(parse_watchdog("12s", nullptr, self));
  CHECK_FALSE(parse_watchdog("-5", nullptr, self));
  CHECK_FALSE(parse_watchdog("5000", "12x", self));

  ScopedEnv usec("WATCHDOG_USEC", "20000000");
  {
    ScopedEnv pid("WATCHDOG_PID", std::to_string(::getpid()).c_str());
    CHECK(watchdog_interval() == std::chrono::seconds(20));
  }
  {
    ScopedEnv pid("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str());
    CHECK_FALSE(watchdog_interval());
  }
  CHECK(watchdog_interval() == std::chrono::seconds(20));  // no WATCHDOG_PID: for us
}
