// Replay of a captured WebSocket session (fixtures/README.md format: a "URL <-> EPOCH" line, then
// "RECV_EPOCH_SECONDS: PAYLOAD" lines). Payloads are sent byte for byte as captured, at the
// recorded pace divided by a speed factor, looping forever.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

namespace mdfeed::fake {

struct Capture {
  std::string url;
  std::vector<std::int64_t> offsets_us;  // receive time minus the first line's, ascending
  std::vector<std::string> payloads;
  std::int64_t first_recv_ms = 0;
  std::int64_t span_us = 0;
};

inline constexpr std::size_t kMaxCaptureLines = 10'000'000;

// Reads a capture; returns false with `error` set when it holds no payload line. Lines that do
// not parse are skipped (captures end with a blank line); receive times that go backwards are
// clamped so the schedule stays monotonic.
[[nodiscard]] bool parse_capture(std::istream& in, Capture& out, std::string& error);

// Maps real time since the replay began to "how many lines are due", counting across loops, so
// each connection only keeps an index into the shared schedule (no per-connection queue).
class ReplaySchedule {
 public:
  ReplaySchedule(const Capture& capture, double speed);

  [[nodiscard]] std::uint64_t due_count(std::int64_t elapsed_real_us) const;
  [[nodiscard]] const std::string& payload(std::uint64_t absolute_index) const;
  [[nodiscard]] std::size_t lines() const noexcept { return capture_->payloads.size(); }

 private:
  const Capture* capture_;
  double speed_;
  std::int64_t loop_us_;  // capture span plus a one-second gap, in capture time
};

}  // namespace mdfeed::fake
