// Stream-name grammar, skip-close rules and the per-subscription cursor.
#include "fake_exchange/streams.hpp"

#include <algorithm>
#include <mdfeed/names.hpp>
#include <utility>

#include "fake_exchange/market.hpp"

namespace mdfeed::fake {
namespace {

bool is_lower_alnum(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool is_type_char(char c) noexcept {
  return is_lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '_' || c == '@' || c == '!' ||
         c == '+' || c == ':' || c == '-';
}

}  // namespace

bool valid_symbol(std::string_view symbol) noexcept {
  if (symbol.empty() || symbol.size() > kMaxSymbolLen) return false;
  return std::all_of(symbol.begin(), symbol.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

ParsedStream parse_stream_name(std::string_view name) {
  ParsedStream r;
  if (name.empty() || name.size() > kMaxStreamNameLen) return r;
  if (name.front() == '!') {  // market-wide streams such as !ticker@arr: valid, no data here
    r.valid = name.size() > 1 && std::all_of(name.begin() + 1, name.end(), is_type_char);
    return r;
  }
  const std::size_t at = name.find('@');
  if (at == std::string_view::npos || at == 0 || at > kMaxSymbolLen || at + 1 == name.size())
    return r;
  const std::string_view sym = name.substr(0, at);
  const std::string_view type = name.substr(at + 1);
  if (!std::all_of(sym.begin(), sym.end(), is_lower_alnum) ||
      !std::all_of(type.begin(), type.end(), is_type_char))
    return r;
  r.valid = true;
  constexpr std::string_view kKline = "kline_";
  if (type.substr(0, kKline.size()) == kKline && valid_interval(type.substr(kKline.size()))) {
    StreamKey key;
    key.symbol.reserve(sym.size());
    for (char c : sym) key.symbol += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    key.interval = std::string(type.substr(kKline.size()));
    r.kline = std::move(key);
  }
  return r;
}

std::vector<std::string_view> split_list(std::string_view list, char sep, std::size_t max_pieces) {
  std::vector<std::string_view> out;
  if (list.empty()) return out;
  std::size_t start = 0;
  while (out.size() <= max_pieces) {
    const std::size_t end = list.find(sep, start);
    out.push_back(list.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

void SkipRules::add(const StreamKey& key, std::int64_t first_open_ms, std::int64_t count) {
  count = std::clamp<std::int64_t>(count, 0, kMaxBars);
  if (count == 0) return;
  std::int64_t to = first_open_ms;
  if (key.interval == "1M") {
    for (std::int64_t i = 0; i < count; ++i) to = next_open_ms(key.interval, to);
  } else {
    to += count * interval_ms(key.interval).value_or(60'000);
  }
  if (rules_.size() >= kMaxRules) rules_.erase(rules_.begin());
  rules_.push_back(Rule{key, first_open_ms, to});
}

bool SkipRules::suppressed(const StreamKey& key, std::int64_t open_ms) const noexcept {
  return std::any_of(rules_.begin(), rules_.end(), [&](const Rule& r) {
    return open_ms >= r.from_open_ms && open_ms < r.to_open_ms && r.key == key;
  });
}

StreamCursor::StreamCursor(StreamKey key, std::int64_t sim_now_ms)
    : key_(std::move(key)),
      pending_open_ms_(bar_open_at(key_.interval, sim_now_ms)),
      pending_next_open_ms_(next_open_ms(key_.interval, pending_open_ms_)) {}

Emit StreamCursor::next(std::int64_t sim_now_ms, bool force_update, const SkipRules& skips) {
  if (close_owed(sim_now_ms)) {
    const Emit e{
        skips.suppressed(key_, pending_open_ms_) ? EmitKind::kSuppressedClose : EmitKind::kClose,
        pending_open_ms_};
    pending_open_ms_ = pending_next_open_ms_;
    pending_next_open_ms_ = next_open_ms(key_.interval, pending_open_ms_);
    return e;
  }
  if (update_due_ || force_update) {
    update_due_ = false;
    return Emit{EmitKind::kForming, pending_open_ms_};
  }
  return Emit{};
}

}  // namespace mdfeed::fake
