// Deterministic market model: a price path that is a pure function of (symbol, time), and bars
// sampled from it. Integer arithmetic throughout so the truth is identical on every build.
#include "fake_exchange/market.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <mdfeed/names.hpp>

namespace mdfeed::fake {
namespace {

// GCC/Clang extension; -pedantic needs the marker. Products of two int64 need 128 bits.
__extension__ typedef __int128 i128;

constexpr std::int64_t kMonday19700105Ms = 345'600'000;  // 1w bars open on Mondays
constexpr std::int64_t kWeekMs = 604'800'000;
constexpr std::int64_t kNoiseScale = 1'000'000;  // knot noise lies in [-kNoiseScale, kNoiseScale]
constexpr std::int64_t kPpm = 1'000'000;
// Caps the base volume so a 1M bar of the cheapest symbol still fits an int64 (3.3e18 units).
constexpr std::int64_t kMaxVolumePerMinUnits = 50'000'000'000'000;

constexpr std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

constexpr std::uint64_t fnv1a(std::string_view s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

// The i-th independent draw of a stream keyed by `key`.
constexpr std::uint64_t draw(std::uint64_t key, std::uint64_t i) noexcept {
  return splitmix64(key ^ splitmix64(i + 0x5bd1e995ULL));
}

constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

constexpr std::int64_t pow10(int e) noexcept {
  std::int64_t r = 1;
  for (int i = 0; i < e; ++i) r *= 10;
  return r;
}

constexpr std::int64_t isqrt(std::int64_t v) noexcept {
  std::int64_t r = 0;
  while ((r + 1) * (r + 1) <= v) ++r;
  return r;
}

constexpr std::int64_t floor_to(std::int64_t v, std::int64_t step) noexcept {
  return v / step * step;  // v >= 0 everywhere this is used
}

// Per-symbol scale. The price LEVEL depends on the instrument's assets only (BTCUSDT, BTC-USDT
// and BTC-USDT-SWAP all trade near 90,000), so every venue shows a plausible market; the noise
// seed is the symbol itself. The tick has ~7 significant digits, the lot shrinks as the price
// grows (BTC trades in 0.00001, a 0.3 coin in whole units) and an OKX swap trades whole
// contracts. notional_per_min is a typical traded quote amount per minute.
struct SymbolParams {
  std::uint64_t seed;
  std::int64_t base;  // units
  std::int64_t tick;
  std::int64_t lot;
  std::int64_t notional_per_min;  // quote units
};

SymbolParams symbol_params(std::string_view symbol) noexcept {
  SymbolParams p{};
  p.seed = fnv1a(symbol);
  p.base = price_level_units(symbol);
  int exp10 = -8;  // price in [10^exp10, 10^(exp10+1))
  while (exp10 < 10 && pow10(exp10 + 9) <= p.base) ++exp10;
  p.tick = pow10(std::max(0, exp10 + 2));
  p.base = std::max(p.tick, p.base / p.tick * p.tick);
  const int int_digits = exp10 >= 0 ? exp10 + 1 : 0;
  p.lot = std::max(pow10(std::clamp(8 - int_digits, 0, 8)), contract_value_units(symbol));
  p.notional_per_min = static_cast<std::int64_t>(1000 + draw(p.seed, 2) % 99'001) * kUnitsPerWhole;
  return p;
}

// The price path is a sum of "value noise" octaves: random knots every period, linearly
// interpolated. Long octaves give trends, short ones wiggle; the amplitudes sum to under 20% so
// the price never approaches zero. Sampling the same function at bar boundaries makes every
// bar's close equal the next bar's open, and bars of different intervals agree on open/close.
struct Octave {
  std::int64_t period_ms;
  std::int64_t amplitude_ppm;
};
constexpr Octave kOctaves[] = {
    {1'000, 100},         {60'000, 1'500},          {3'600'000, 8'000},
    {86'400'000, 30'000}, {2'592'000'000, 150'000},
};

// --- Instrument levels ----------------------------------------------------------------------------

struct AssetLevel {
  std::string_view asset;
  std::int64_t units;  // price in USD, 1e-8 units
};
// Round reference levels of well-known assets (late-2025 orders of magnitude). Any other asset
// gets a hash-derived level between 0.001 and 9999 (asset_level_units).
constexpr AssetLevel kAssetLevels[] = {
    {"BTC", 90'000 * kUnitsPerWhole}, {"ETH", 3'000 * kUnitsPerWhole},
    {"SOL", 150 * kUnitsPerWhole},    {"BNB", 600 * kUnitsPerWhole},
    {"XRP", 2 * kUnitsPerWhole},      {"DOGE", 15'000'000},
    {"ADA", 60'000'000},              {"LTC", 80 * kUnitsPerWhole},
};
constexpr std::string_view kStablecoins[] = {"USDT", "USDC", "USD", "FDUSD", "BUSD", "TUSD", "DAI"};
// Quote suffixes recognised in concatenated symbols (BTCUSDT), longest first where one is a
// suffix of another (FDUSD before USD).
constexpr std::string_view kQuoteSuffixes[] = {"USDT", "USDC", "FDUSD", "BUSD", "TUSD",
                                               "USD",  "BTC",  "ETH",   "BNB",  "EUR", "TRY"};

struct Assets {
  std::string_view base, quote;
};

// BTC-USDT, BTC-USDT-SWAP: split at '-'. BTCUSDT: strip a known quote suffix. Otherwise the
// whole symbol is the base, quoted in USDT.
Assets split_assets(std::string_view symbol) noexcept {
  if (const std::size_t dash = symbol.find('-'); dash != std::string_view::npos) {
    const std::string_view rest = symbol.substr(dash + 1);
    return {symbol.substr(0, dash), rest.substr(0, rest.find('-'))};
  }
  for (std::string_view q : kQuoteSuffixes)
    if (symbol.size() > q.size() && symbol.substr(symbol.size() - q.size()) == q)
      return {symbol.substr(0, symbol.size() - q.size()), q};
  return {symbol, "USDT"};
}

std::int64_t asset_level_units(std::string_view asset) noexcept {
  for (const AssetLevel& a : kAssetLevels)
    if (a.asset == asset) return a.units;
  for (std::string_view s : kStablecoins)
    if (s == asset) return kUnitsPerWhole;
  const std::uint64_t h = fnv1a(asset);
  const int exp10 = static_cast<int>(draw(h, 0) % 7) - 3;  // 0.001 .. 9999
  const auto mantissa = static_cast<std::int64_t>(1000 + draw(h, 1) % 9000);
  return mantissa * pow10(exp10 + 5);
}

std::int64_t knot_noise(std::uint64_t seed, std::size_t octave, std::int64_t knot) noexcept {
  const std::uint64_t h =
      draw(seed ^ (0xa0761d6478bd642fULL * (octave + 1)), static_cast<std::uint64_t>(knot));
  return static_cast<std::int64_t>(h % (2 * kNoiseScale + 1)) - kNoiseScale;
}

std::int64_t price_at(const SymbolParams& p, std::int64_t t_ms) noexcept {
  i128 sum = 0;  // in ppm * kNoiseScale
  for (std::size_t i = 0; i < std::size(kOctaves); ++i) {
    const std::int64_t period = kOctaves[i].period_ms;
    const std::int64_t knot = floor_div(t_ms, period);
    const std::int64_t frac = t_ms - knot * period;
    const std::int64_t a = knot_noise(p.seed, i, knot);
    const std::int64_t b = knot_noise(p.seed, i, knot + 1);
    const std::int64_t value = a + (b - a) * frac / period;
    sum += static_cast<i128>(kOctaves[i].amplitude_ppm) * value;
  }
  const i128 delta = static_cast<i128>(p.base) * sum / (static_cast<i128>(kPpm) * kNoiseScale);
  const auto raw = static_cast<std::int64_t>(p.base + delta);
  const std::int64_t quantized = (raw + p.tick / 2) / p.tick * p.tick;
  return std::max(quantized, p.tick);
}

std::int64_t scale(std::int64_t v, std::int64_t num, std::int64_t den) noexcept {
  return static_cast<std::int64_t>(static_cast<i128>(v) * num / den);
}

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

void append_quoted_units(std::string& out, std::int64_t units) {
  out += '"';
  append_units(out, units);
  out += '"';
}

void append_upper(std::string& out, std::string_view s) {
  for (char c : s) out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

double parse_decimal(const std::string& s) noexcept {
  double d = 0;
  std::from_chars(s.data(), s.data() + s.size(), d);  // correctly rounded (libstdc++ >= 11)
  return d;
}

}  // namespace

bool valid_interval(std::string_view interval) noexcept {
  return interval_ms(interval).has_value();
}

std::int64_t price_level_units(std::string_view symbol) noexcept {
  const Assets a = split_assets(symbol);
  const i128 level =
      static_cast<i128>(asset_level_units(a.base)) * kUnitsPerWhole / asset_level_units(a.quote);
  return static_cast<std::int64_t>(std::clamp<i128>(level, 1000, 100'000 * kUnitsPerWhole));
}

std::int64_t contract_value_units(std::string_view symbol) noexcept {
  constexpr std::string_view kSwap = "-SWAP";
  if (symbol.size() <= kSwap.size() || symbol.substr(symbol.size() - kSwap.size()) != kSwap)
    return 0;
  // OKX's ctVal of its USDT swaps: BTC 0.01, ETH 0.1 (public/instruments); 1 coin otherwise.
  const std::string_view base = split_assets(symbol).base;
  if (base == "BTC") return kUnitsPerWhole / 100;
  if (base == "ETH") return kUnitsPerWhole / 10;
  return kUnitsPerWhole;
}

std::int64_t bar_open_at(std::string_view interval, std::int64_t t_ms) {
  if (interval == "1M") {
    std::time_t secs = static_cast<std::time_t>(floor_div(t_ms, 1000));
    std::tm tm{};
    gmtime_r(&secs, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    return static_cast<std::int64_t>(timegm(&tm)) * 1000;
  }
  if (interval == "1w")
    return floor_div(t_ms - kMonday19700105Ms, kWeekMs) * kWeekMs + kMonday19700105Ms;
  const std::int64_t ms = interval_ms(interval).value_or(60'000);
  return floor_div(t_ms, ms) * ms;
}

std::int64_t bar_close_time(std::string_view interval, std::int64_t open_ms) {
  return next_open_ms(interval, open_ms) - 1;
}

BarUnits truth_units(std::string_view symbol, std::string_view interval, std::int64_t open_ms) {
  BarUnits b;
  if (!valid_interval(interval)) return b;
  const SymbolParams p = symbol_params(symbol);
  const std::int64_t open = bar_open_at(interval, open_ms);
  const std::int64_t next_open = next_open_ms(interval, open);
  const std::int64_t len_ms = next_open - open;
  const std::uint64_t key =
      splitmix64(p.seed ^ fnv1a(interval)) ^ splitmix64(static_cast<std::uint64_t>(open));

  b.open_time_ms = open;
  b.close_time_ms = next_open - 1;
  b.open = price_at(p, open);
  b.close = price_at(p, next_open);

  // Wicks beyond the body grow like sqrt(duration), as a random walk's range does.
  const std::int64_t wick_ppm = 50 * isqrt(len_ms / 1000) + 1;
  const std::int64_t top = std::max(b.open, b.close);
  const std::int64_t bottom = std::min(b.open, b.close);
  const auto up_ppm =
      static_cast<std::int64_t>(draw(key, 0) % static_cast<std::uint64_t>(wick_ppm));
  const auto dn_ppm =
      static_cast<std::int64_t>(draw(key, 1) % static_cast<std::uint64_t>(wick_ppm));
  b.high = top + floor_to(scale(top, up_ppm, kPpm), p.tick);
  b.low = std::max(p.tick, bottom - floor_to(scale(bottom, dn_ppm, kPpm), p.tick));

  // Volume: a traded notional (50%..150% of the symbol's typical rate) divided by the mid price.
  const auto activity_pct = static_cast<std::int64_t>(50 + draw(key, 2) % 101);
  const i128 notional =
      static_cast<i128>(p.notional_per_min) * len_ms * activity_pct / (60'000 * 100);
  const std::int64_t mid = (b.open + b.close) / 2;
  const i128 max_volume = static_cast<i128>(kMaxVolumePerMinUnits) * len_ms * 3 / (60'000 * 2);
  const i128 volume = std::min(notional * kUnitsPerWhole / mid, max_volume);
  b.volume = std::max(p.lot, floor_to(static_cast<std::int64_t>(volume), p.lot));

  const auto vwap_permille = static_cast<std::int64_t>(draw(key, 3) % 1001);
  const std::int64_t vwap = b.low + scale(b.high - b.low, vwap_permille, 1000);
  b.quote_volume = std::max<std::int64_t>(1, scale(b.volume, vwap, kUnitsPerWhole));

  const auto taker_pct = static_cast<std::int64_t>(30 + draw(key, 4) % 41);
  b.taker_buy_volume = floor_to(scale(b.volume, taker_pct, 100), p.lot);
  b.taker_buy_quote_volume = scale(b.quote_volume, b.taker_buy_volume, b.volume);

  // At most one trade id per 2 ms keeps [first, last] inside the bar, so ids never overlap.
  const auto lots_per_trade = static_cast<std::int64_t>(1 + draw(key, 5) % 20);
  const std::int64_t trades = std::clamp<std::int64_t>(b.volume / p.lot / lots_per_trade, 1,
                                                       std::max<std::int64_t>(1, len_ms / 2));
  b.trades = static_cast<std::uint64_t>(trades);
  b.first_trade_id = open;
  b.last_trade_id = b.first_trade_id + trades - 1;
  return b;
}

BarUnits forming_units(std::string_view symbol, std::string_view interval, std::int64_t open_ms,
                       std::int64_t sim_now_ms) {
  const BarUnits t = truth_units(symbol, interval, open_ms);
  if (!valid_interval(interval)) return t;
  const std::int64_t len_ms = t.close_time_ms + 1 - t.open_time_ms;
  // Elapsed share of the bar, counting sim_now_ms itself: at T it is the whole bar.
  const std::int64_t done = std::clamp<std::int64_t>(sim_now_ms - t.open_time_ms + 1, 0, len_ms);
  if (done >= len_ms) return t;

  const SymbolParams p = symbol_params(symbol);
  BarUnits f = t;
  // The range opens out linearly to the final wicks; the last price is clamped inside it, so
  // high/low are monotone and the bar converges exactly on the truth at T.
  f.high = t.open + floor_to(scale(t.high - t.open, done, len_ms), p.tick);
  f.low = t.open - floor_to(scale(t.open - t.low, done, len_ms), p.tick);
  f.close = std::clamp(price_at(p, t.open_time_ms + done), f.low, f.high);

  f.volume = std::max(p.lot, floor_to(scale(t.volume, done, len_ms), p.lot));
  f.quote_volume = scale(t.quote_volume, f.volume, t.volume);
  f.taker_buy_volume = floor_to(scale(t.taker_buy_volume, f.volume, t.volume), p.lot);
  f.taker_buy_quote_volume = scale(t.taker_buy_quote_volume, f.volume, t.volume);
  const auto trades = static_cast<std::int64_t>(t.trades);
  f.trades = static_cast<std::uint64_t>(std::max<std::int64_t>(1, scale(trades, done, len_ms)));
  f.last_trade_id = f.first_trade_id + static_cast<std::int64_t>(f.trades) - 1;
  return f;
}

void append_units(std::string& out, std::int64_t units) {
  std::uint64_t u = static_cast<std::uint64_t>(units);
  if (units < 0) {
    out += '-';
    u = ~u + 1;  // well defined for INT64_MIN too
  }
  append_uint(out, u / static_cast<std::uint64_t>(kUnitsPerWhole));
  out += '.';
  char frac[kDecimals];
  std::uint64_t rest = u % static_cast<std::uint64_t>(kUnitsPerWhole);
  for (int i = kDecimals - 1; i >= 0; --i) {
    frac[i] = static_cast<char>('0' + rest % 10);
    rest /= 10;
  }
  out.append(frac, kDecimals);
}

std::string format_units(std::int64_t units) {
  std::string s;
  append_units(s, units);
  return s;
}

KlineStrings format_bar(const BarUnits& bar) {
  return KlineStrings{format_units(bar.open),
                      format_units(bar.high),
                      format_units(bar.low),
                      format_units(bar.close),
                      format_units(bar.volume),
                      format_units(bar.quote_volume),
                      format_units(bar.taker_buy_volume),
                      format_units(bar.taker_buy_quote_volume)};
}

Bar to_bar(const BarUnits& bar, std::uint32_t flags) {
  const KlineStrings s = format_bar(bar);
  Bar b{};
  b.open_time_ms = bar.open_time_ms;
  b.close_time_ms = bar.close_time_ms;
  b.open = parse_decimal(s.open);
  b.high = parse_decimal(s.high);
  b.low = parse_decimal(s.low);
  b.close = parse_decimal(s.close);
  b.volume = parse_decimal(s.volume);
  b.quote_volume = parse_decimal(s.quote_volume);
  b.taker_buy_volume = parse_decimal(s.taker_buy_volume);
  b.taker_buy_quote_volume = parse_decimal(s.taker_buy_quote_volume);
  b.trades = bar.trades;
  b.flags = flags;
  b.reserved = 0;
  return b;
}

Bar truth_bar(std::string_view symbol, std::string_view interval, std::int64_t open_ms) {
  return to_bar(truth_units(symbol, interval, open_ms), kBarClosed);
}

Bar forming_bar(std::string_view symbol, std::string_view interval, std::int64_t open_ms,
                std::int64_t sim_now_ms) {
  return to_bar(forming_units(symbol, interval, open_ms, sim_now_ms), 0);
}

std::string kline_stream_name(std::string_view symbol, std::string_view interval) {
  std::string s;
  s.reserve(symbol.size() + 7 + interval.size());
  for (char c : symbol) s += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  s += "@kline_";
  s += interval;
  return s;
}

void append_kline_event(std::string& out, std::string_view symbol, std::string_view interval,
                        std::int64_t event_time_ms, const BarUnits& bar, bool closed) {
  out += R"({"e":"kline","E":)";
  append_int(out, event_time_ms);
  out += R"(,"s":")";
  append_upper(out, symbol);
  out += R"(","k":{"t":)";
  append_int(out, bar.open_time_ms);
  out += R"(,"T":)";
  append_int(out, bar.close_time_ms);
  out += R"(,"s":")";
  append_upper(out, symbol);
  out += R"(","i":")";
  out += interval;
  out += R"(","f":)";
  append_int(out, bar.first_trade_id);
  out += R"(,"L":)";
  append_int(out, bar.last_trade_id);
  out += R"(,"o":)";
  append_quoted_units(out, bar.open);
  out += R"(,"c":)";
  append_quoted_units(out, bar.close);
  out += R"(,"h":)";
  append_quoted_units(out, bar.high);
  out += R"(,"l":)";
  append_quoted_units(out, bar.low);
  out += R"(,"v":)";
  append_quoted_units(out, bar.volume);
  out += R"(,"n":)";
  append_uint(out, bar.trades);
  out += closed ? R"(,"x":true,"q":)" : R"(,"x":false,"q":)";
  append_quoted_units(out, bar.quote_volume);
  out += R"(,"V":)";
  append_quoted_units(out, bar.taker_buy_volume);
  out += R"(,"Q":)";
  append_quoted_units(out, bar.taker_buy_quote_volume);
  out += R"(,"B":"0"}})";
}

std::string kline_event(std::string_view symbol, std::string_view interval,
                        std::int64_t event_time_ms, const BarUnits& bar, bool closed) {
  std::string s;
  s.reserve(400);
  append_kline_event(s, symbol, interval, event_time_ms, bar, closed);
  return s;
}

std::string kline_message(std::string_view symbol, std::string_view interval,
                          std::int64_t event_time_ms, const BarUnits& bar, bool closed) {
  std::string s;
  s.reserve(450);
  s += R"({"stream":")";
  s += kline_stream_name(symbol, interval);
  s += R"(","data":)";
  append_kline_event(s, symbol, interval, event_time_ms, bar, closed);
  s += '}';
  return s;
}

void append_rest_row(std::string& out, const BarUnits& bar) {
  out += '[';
  append_int(out, bar.open_time_ms);
  out += ',';
  append_quoted_units(out, bar.open);
  out += ',';
  append_quoted_units(out, bar.high);
  out += ',';
  append_quoted_units(out, bar.low);
  out += ',';
  append_quoted_units(out, bar.close);
  out += ',';
  append_quoted_units(out, bar.volume);
  out += ',';
  append_int(out, bar.close_time_ms);
  out += ',';
  append_quoted_units(out, bar.quote_volume);
  out += ',';
  append_uint(out, bar.trades);
  out += ',';
  append_quoted_units(out, bar.taker_buy_volume);
  out += ',';
  append_quoted_units(out, bar.taker_buy_quote_volume);
  out += R"(,"0"])";
}

std::string rest_row(const BarUnits& bar) {
  std::string s;
  s.reserve(200);
  append_rest_row(s, bar);
  return s;
}

}  // namespace mdfeed::fake
