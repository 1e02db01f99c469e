// Ground-truth dump for independent clients (truth_dump.hpp).
#include "fake_exchange/truth_dump.hpp"

#include <cstdint>
#include <mdfeed/names.hpp>

#include "fake_exchange/market.hpp"
#include "fake_exchange/rest.hpp"
#include "fake_exchange/streams.hpp"

namespace mdfeed::fake {

bool dump_truth(std::string_view spec, std::string& out, std::string& error) {
  const std::vector<std::string_view> f = split_list(spec, ',', 4);
  if (f.size() != 4) {
    error = "expected SYMBOL,INTERVAL,FROM_MS,COUNT";
    return false;
  }
  const std::string symbol(f[0]);
  const std::string interval(f[1]);
  const auto from = parse_digits(f[2]);
  const auto count = parse_digits(f[3]);
  if (symbol.empty() || !valid_interval(interval) || !from || !count || *count > kMaxDumpBars) {
    error = "bad SYMBOL, INTERVAL (canonical, e.g. 1m 1h 1d), FROM_MS or COUNT (<= 100000)";
    return false;
  }
  const std::int64_t ct = contract_value_units(symbol);
  std::int64_t open = bar_open_at(interval, *from);
  for (std::int64_t i = 0; i < *count; ++i, open = next_open_ms(interval, open)) {
    const BarUnits b = truth_units(symbol, interval, open);
    const KlineStrings s = format_bar(b);
    out += R"({"symbol":")" + symbol + R"(","interval":")" + interval + R"(","t":)" +
           std::to_string(b.open_time_ms) + R"(,"T":)" + std::to_string(b.close_time_ms) +
           R"(,"o":")" + s.open + R"(","h":")" + s.high + R"(","l":")" + s.low + R"(","c":")" +
           s.close + R"(","v":")" + s.volume + R"(","q":")" + s.quote_volume +
           R"(","n":)" + std::to_string(b.trades) + R"(,"ct":)" +
           (ct > 0 ? "\"" + format_units(ct) + "\"" : std::string("null")) + "}\n";
  }
  return true;
}

}  // namespace mdfeed::fake
