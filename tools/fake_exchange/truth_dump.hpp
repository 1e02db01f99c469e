// --dump-truth SYMBOL,INTERVAL,FROM_MS,COUNT: print the ground truth as JSON lines, so an
// independent client (tests/fidelity) can compare what it parsed with what the fake meant.
#pragma once

#include <string>
#include <string_view>

namespace mdfeed::fake {

inline constexpr long kMaxDumpBars = 100'000;

// One line per bar, from the bar holding FROM_MS on, INTERVAL canonical (1m, 1h, 1d, ...):
// {"symbol":..,"interval":..,"t":open,"T":close,"o":"..","h":"..","l":"..","c":"..",
//  "v":"..","q":"..","n":trades,"ct":"0.01000000"|null}  (prices and volumes as the wire prints
// them; v in base units, q in quote; ct = OKX contract value of a -SWAP symbol). Returns false
// with `error` set on a bad spec.
[[nodiscard]] bool dump_truth(std::string_view spec, std::string& out, std::string& error);

}  // namespace mdfeed::fake
