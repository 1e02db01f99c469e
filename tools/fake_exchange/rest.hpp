// REST side of the fake exchange as pure functions: GET /api/v3/klines and /api/v3/time with
// Binance's parameter rules and error bodies, plus the per-minute request-weight window.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mdfeed::fake {

inline constexpr int kKlinesDefaultLimit = 500;
inline constexpr int kKlinesMaxLimit = 1000;
inline constexpr std::int64_t kKlinesWeight = 2;
inline constexpr std::int64_t kLightWeight = 1;  // /api/v3/time, /api/v3/ping

using QueryArgs = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 200;
  std::string body;
  std::int64_t retry_after_s = -1;  // >= 0: send a Retry-After header
  std::size_t rows = 0;             // klines rows in body (for the event log)
  std::int64_t used_weight = -1;    // >= 0: send x-mbx-used-weight(-1m) headers
  std::vector<std::pair<std::string, std::string>> headers;  // further "name:" / value pairs
  bool rate_limited = false;        // a rate-limit or ban answer (counted in the stats)
};

[[nodiscard]] const std::string* find_arg(const QueryArgs& args, std::string_view name);
// Plain decimal digits (no sign, at most 19): timestamps and limits. Anything else is nullopt.
[[nodiscard]] std::optional<std::int64_t> parse_digits(std::string_view s);

// What the REST handlers may know of the market at the moment of the request.
struct MarketView {
  std::int64_t sim_now_ms = 0;
  std::int64_t history_start_ms = 0;  // no bar opens before this
  const std::vector<std::string>* invalid_symbols = nullptr;
};

// Open times of the bars a klines request returns, ascending (Binance semantics): bars with
// startTime <= open <= endTime, never opening after sim_now (the last may still be forming),
// never before history_start. With startTime the first `limit` of them; otherwise the last
// `limit`. Empty when the range is empty.
[[nodiscard]] std::vector<std::int64_t> kline_open_times(std::string_view interval,
                                                         std::optional<std::int64_t> start_ms,
                                                         std::optional<std::int64_t> end_ms,
                                                         int limit, const MarketView& market,
                                                         int max_limit = kKlinesMaxLimit);

// GET /api/v3/klines?symbol=&interval=&startTime=&endTime=&limit=. Errors are HTTP 400 with
// Binance's {"code":...,"msg":...}: -1100 illegal characters, -1102 missing parameter,
// -1120 bad interval, -1121 invalid symbol, -1130 bad limit, -1023 startTime > endTime.
// limit defaults to 500 and is capped at 1000.
[[nodiscard]] HttpResponse klines_response(const QueryArgs& args, const MarketView& market,
                                          int max_limit = kKlinesMaxLimit);

[[nodiscard]] HttpResponse time_response(std::int64_t sim_now_ms);

[[nodiscard]] HttpResponse error_response(int status, int code, std::string_view msg);

// 429 for an exhausted weight budget (or an injected one), 418 for an injected ban.
[[nodiscard]] HttpResponse too_many_requests(std::int64_t retry_after_s, std::int64_t limit);
[[nodiscard]] HttpResponse banned(std::int64_t retry_after_s, std::int64_t until_ms);

// Binance's request-weight budget: fixed one-minute windows of real time; a request whose
// weight takes the window past the limit is refused with Retry-After = seconds to the window's
// end. Refused requests still count, as on Binance.
class WeightWindow {
 public:
  explicit WeightWindow(std::int64_t limit_per_minute) : limit_(limit_per_minute) {}
  WeightWindow(const WeightWindow&) = default;

  struct Charge {
    bool allowed = true;
    std::int64_t used = 0;           // the x-mbx-used-weight-1m value
    std::int64_t retry_after_s = 0;  // when !allowed
  };
  [[nodiscard]] Charge charge(std::int64_t weight, std::int64_t real_ms);
  [[nodiscard]] std::int64_t limit() const noexcept { return limit_; }

 private:
  std::int64_t limit_;
  std::int64_t window_ = -1;
  std::int64_t used_ = 0;
};

}  // namespace mdfeed::fake
