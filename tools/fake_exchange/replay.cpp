// Capture parsing and the looping replay schedule (see replay.hpp).
#include "fake_exchange/replay.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace mdfeed::fake {
namespace {

constexpr std::int64_t kLoopGapUs = 1'000'000;

// "1633998512.0633569: {...}" -> microseconds and payload.
bool split_line(const std::string& line, std::int64_t& recv_us, std::string& payload) {
  const std::size_t colon = line.find(": ");
  if (colon == std::string::npos || colon == 0 || colon + 2 >= line.size()) return false;
  const std::string stamp = line.substr(0, colon);
  char* end = nullptr;
  const double secs = std::strtod(stamp.c_str(), &end);
  if (end != stamp.c_str() + stamp.size() || !std::isfinite(secs) || secs <= 0) return false;
  recv_us = static_cast<std::int64_t>(std::llround(secs * 1e6));
  payload = line.substr(colon + 2);
  return true;
}

}  // namespace

bool parse_capture(std::istream& in, Capture& out, std::string& error) {
  out = Capture{};
  std::string line;
  if (!std::getline(in, line)) {
    error = "empty capture";
    return false;
  }
  out.url = line.substr(0, line.find(" <-> "));
  std::int64_t first_us = -1;
  std::int64_t prev_us = 0;
  while (std::getline(in, line) && out.payloads.size() < kMaxCaptureLines) {
    std::int64_t recv_us = 0;
    std::string payload;
    if (!split_line(line, recv_us, payload)) continue;
    if (first_us < 0) {
      first_us = recv_us;
      out.first_recv_ms = recv_us / 1000;
    }
    prev_us = std::max(prev_us, recv_us - first_us);
    out.offsets_us.push_back(prev_us);
    out.payloads.push_back(std::move(payload));
  }
  if (out.payloads.empty()) {
    error = "no payload lines";
    return false;
  }
  out.span_us = out.offsets_us.back();
  return true;
}

ReplaySchedule::ReplaySchedule(const Capture& capture, double speed)
    : capture_(&capture), speed_(speed > 0 ? speed : 1.0), loop_us_(capture.span_us + kLoopGapUs) {}

std::uint64_t ReplaySchedule::due_count(std::int64_t elapsed_real_us) const {
  if (elapsed_real_us < 0 || capture_->payloads.empty()) return 0;
  // Capture time elapsed; doubles are exact enough for days of replay at any sane speed.
  const auto capture_us = static_cast<std::int64_t>(static_cast<double>(elapsed_real_us) * speed_);
  const auto loops = static_cast<std::uint64_t>(capture_us / loop_us_);
  const std::int64_t within = capture_us % loop_us_;
  const auto& offs = capture_->offsets_us;
  const auto in_loop =
      static_cast<std::uint64_t>(std::upper_bound(offs.begin(), offs.end(), within) - offs.begin());
  return loops * offs.size() + in_loop;
}

const std::string& ReplaySchedule::payload(std::uint64_t absolute_index) const {
  return capture_->payloads[absolute_index % capture_->payloads.size()];
}

}  // namespace mdfeed::fake
