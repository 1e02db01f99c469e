// The sd_notify datagram protocol (see sd_notify(3)): one SOCK_DGRAM message per call.
#include "ops/sd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

namespace mdfeed::ops {
namespace {

// Fills `addr` from a NOTIFY_SOCKET value; returns the address length or 0 if unusable.
socklen_t make_address(std::string_view socket, sockaddr_un& addr) noexcept {
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  const bool abstract = !socket.empty() && socket[0] == '@';
  // Relative paths are refused as systemd does: they would depend on our working directory.
  if (socket.size() < 2 || (!abstract && socket[0] != '/')) return 0;
  if (socket.size() >= sizeof addr.sun_path) return 0;
  std::memcpy(addr.sun_path, socket.data(), socket.size());
  if (abstract) addr.sun_path[0] = '\0';  // abstract namespace: leading NUL, no terminator
  const std::size_t len = offsetof(sockaddr_un, sun_path) + socket.size() + (abstract ? 0 : 1);
  return static_cast<socklen_t>(len);
}

std::uint64_t monotonic_usec() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1000ULL;
}

bool with_status(std::string_view head, std::string_view status) noexcept {
  if (status.empty()) return sd_notify(head);
  std::string msg;
  try {
    msg.reserve(head.size() + status.size() + 9);
    msg.append(head).append("\nSTATUS=").append(status);
  } catch (...) {
    return sd_notify(head);
  }
  return sd_notify(msg);
}

}  // namespace

bool sd_notify_to(std::string_view socket, std::string_view msg) noexcept {
  sockaddr_un addr{};
  const socklen_t len = make_address(socket, addr);
  if (len == 0 || msg.empty()) return false;
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ssize_t n = -1;
  for (int attempt = 0; attempt < 8; ++attempt) {  // EINTR only; bounded all the same
    n = ::sendto(fd, msg.data(), msg.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), len);
    if (n >= 0 || errno != EINTR) break;
  }
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return n == static_cast<ssize_t>(msg.size());
}

bool sd_notify(std::string_view msg) noexcept {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  if (socket == nullptr || *socket == '\0') return false;
  return sd_notify_to(socket, msg);
}

std::optional<std::chrono::microseconds> parse_watchdog(const char* usec, const char* pid,
                                                        long self_pid) noexcept {
  if (usec == nullptr || *usec == '\0') return std::nullopt;
  if (pid != nullptr && *pid != '\0') {
    long p = 0;
    const char* end = pid + std::strlen(pid);
    const auto r = std::from_chars(pid, end, p);
    if (r.ec != std::errc() || r.ptr != end || p != self_pid) return std::nullopt;
  }
  std::uint64_t v = 0;
  const char* end = usec + std::strlen(usec);
  const auto r = std::from_chars(usec, end, v);
  if (r.ec != std::errc() || r.ptr != end || v == 0) return std::nullopt;
  if (v > static_cast<std::uint64_t>(std::chrono::microseconds::max().count())) return std::nullopt;
  return std::chrono::microseconds(static_cast<std::chrono::microseconds::rep>(v));
}

std::optional<std::chrono::microseconds> watchdog_interval() noexcept {
  return parse_watchdog(std::getenv("WATCHDOG_USEC"), std::getenv("WATCHDOG_PID"),
                        static_cast<long>(::getpid()));
}

bool notify_ready(std::string_view status) noexcept { return with_status("READY=1", status); }

bool notify_status(std::string_view status) noexcept {
  std::string msg;
  try {
    msg.append("STATUS=").append(status);
  } catch (...) {
    return false;
  }
  return sd_notify(msg);
}

bool notify_watchdog() noexcept { return sd_notify("WATCHDOG=1"); }

bool notify_reloading() noexcept {
  char buf[64];
  const int n = std::snprintf(buf, sizeof buf, "RELOADING=1\nMONOTONIC_USEC=%llu",
                              static_cast<unsigned long long>(monotonic_usec()));
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buf) return sd_notify("RELOADING=1");
  return sd_notify(std::string_view(buf, static_cast<std::size_t>(n)));
}

bool notify_stopping() noexcept { return sd_notify("STOPPING=1"); }

}  // namespace mdfeed::ops
