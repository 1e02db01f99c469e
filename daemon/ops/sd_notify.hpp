// sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET, plus the watchdog interval.
// The daemon sends READY=1 once serving, STATUS= lines, WATCHDOG=1 only when its service loop
// made progress, RELOADING=1 around SIGHUP and STOPPING=1 on SIGTERM.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace mdfeed::ops {

// Sends `msg` (newline-separated KEY=VALUE assignments) to $NOTIFY_SOCKET: an absolute path or
// an abstract socket written "@name". False if the variable is unset (not under systemd) or the
// send failed; callers ignore the result, because notification is best effort.
bool sd_notify(std::string_view msg) noexcept;
// The same to an explicit socket address (the value NOTIFY_SOCKET would hold).
bool sd_notify_to(std::string_view socket, std::string_view msg) noexcept;

// WATCHDOG_USEC as an interval, when the watchdog is on and meant for this process
// (WATCHDOG_PID, when set, must be our pid). Ping at half of it.
[[nodiscard]] std::optional<std::chrono::microseconds> watchdog_interval() noexcept;
// The parsing behind it; null arguments mean "unset".
[[nodiscard]] std::optional<std::chrono::microseconds> parse_watchdog(const char* usec,
                                                                      const char* pid,
                                                                      long self_pid) noexcept;

// The messages the daemon sends, spelled once.
bool notify_ready(std::string_view status = {}) noexcept;
bool notify_status(std::string_view status) noexcept;
bool notify_watchdog() noexcept;
// RELOADING=1 with MONOTONIC_USEC=, which systemd >= 253 requires (older versions ignore it).
bool notify_reloading() noexcept;
bool notify_stopping() noexcept;

}  // namespace mdfeed::ops
