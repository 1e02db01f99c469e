// Prometheus text exposition (format 0.0.4) of a status Snapshot, for the daemon's /metrics.
// Pure: the snapshot and the clock in, the page out; the HTTP side lives in the daemon.
#pragma once

#include <cstdint>
#include <string>

#include "status/status.hpp"

namespace mdfeed::ops {

inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

// now_mono_ns is CLOCK_MONOTONIC, the clock of the snapshot's *_ns fields.
[[nodiscard]] std::string format_prometheus(const status::Snapshot& s, std::uint64_t now_mono_ns);
[[nodiscard]] std::string format_prometheus(const status::Snapshot& s);

// Escapes a label value: backslash, double quote and newline (the format's three escapes).
[[nodiscard]] std::string escape_label_value(const std::string& v);

}  // namespace mdfeed::ops
