// Stream names, the "suppress these closes" fault rules, and StreamCursor: one subscription's
// position in its kline stream. Pure logic, no I/O, so the "never skip a bar" rule is testable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mdfeed::fake {

inline constexpr std::size_t kMaxSymbolLen = 20;  // Binance's symbol regex allows 1..20
inline constexpr std::size_t kMaxStreamNameLen = 100;

struct StreamKey {
  std::string symbol;    // uppercase, [A-Z0-9]{1,20}
  std::string interval;  // "1m", "1M", ...
  friend bool operator==(const StreamKey& a, const StreamKey& b) {
    return a.symbol == b.symbol && a.interval == b.interval;
  }
};

[[nodiscard]] bool valid_symbol(std::string_view symbol) noexcept;

// A stream name is "<symbol>@<type>" with a lowercase symbol, or a "!<type>" market-wide name.
// Well-formed names are accepted like Binance does; only "<symbol>@kline_<interval>" carries data
// here, and that is what `kline` holds.
struct ParsedStream {
  bool valid = false;
  std::optional<StreamKey> kline;
};
[[nodiscard]] ParsedStream parse_stream_name(std::string_view name);

// Splits "a/b/c" (the ?streams= value or a /ws/a/b path). Empty pieces are kept so the caller
// can reject them; at most max_pieces + 1 pieces are returned so a huge list costs nothing.
[[nodiscard]] std::vector<std::string_view> split_list(std::string_view list, char sep,
                                                       std::size_t max_pieces);

// Runtime "skip-close SYMBOL INTERVAL N": the x:true update of N consecutive bars of a stream is
// never sent (REST still serves them). Bounded: the oldest rules go first past kMaxRules.
class SkipRules {
 public:
  static constexpr std::size_t kMaxRules = 1024;
  static constexpr std::int64_t kMaxBars = 100'000;

  // Suppresses the closes of `count` bars starting with the one opening at first_open_ms.
  void add(const StreamKey& key, std::int64_t first_open_ms, std::int64_t count);
  [[nodiscard]] bool suppressed(const StreamKey& key, std::int64_t open_ms) const noexcept;

 private:
  struct Rule {
    StreamKey key;
    std::int64_t from_open_ms;
    std::int64_t to_open_ms;  // exclusive
  };
  std::vector<Rule> rules_;
};

enum class EmitKind { kNone, kClose, kSuppressedClose, kForming };

struct Emit {
  EmitKind kind = EmitKind::kNone;
  std::int64_t open_ms = 0;  // the bar the message is about
};

// What a subscription still owes its client. The oldest bar whose final (x:true) update has not
// gone out is `pending`; every bar from the subscription's first one on gets exactly one close,
// in order, however far the simulated clock runs ahead of the writes (high speed, slow reader,
// a stall). A forming update is sent only once all owed closes are out, so the stream never
// jumps backwards or skips a bar unless a SkipRules fault says so.
class StreamCursor {
 public:
  StreamCursor(StreamKey key, std::int64_t sim_now_ms);

  [[nodiscard]] const StreamKey& key() const noexcept { return key_; }
  [[nodiscard]] std::int64_t pending_open_ms() const noexcept { return pending_open_ms_; }

  // True when the bar `pending` has ended at sim_now_ms, i.e. its close is owed.
  [[nodiscard]] bool close_owed(std::int64_t sim_now_ms) const noexcept {
    return sim_now_ms >= pending_next_open_ms_;
  }
  [[nodiscard]] bool update_due() const noexcept { return update_due_; }
  void mark_update_due() noexcept { update_due_ = true; }

  // The next message owed at sim_now_ms, advancing past it: an owed close first (reported as
  // kSuppressedClose when skips says so; the caller sends nothing for it), else a forming update
  // of the current bar if one is due or `force_update` (flood mode), else kNone.
  [[nodiscard]] Emit next(std::int64_t sim_now_ms, bool force_update, const SkipRules& skips);

 private:
  StreamKey key_;
  std::int64_t pending_open_ms_;
  std::int64_t pending_next_open_ms_;
  bool update_due_ = true;  // a new subscriber gets the current bar promptly
};

}  // namespace mdfeed::fake
