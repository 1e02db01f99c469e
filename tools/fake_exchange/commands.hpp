// Fault-injection commands, one per line, from stdin at run time or --fault at start:
//
//   drop                          close every WebSocket abruptly (no close frame)
//   stall SECONDS                 send nothing (lws still answers pings)
//   deaf SECONDS                  stop reading sockets and send nothing: pings go unanswered
//   garbage N                     N junk text frames on every connection
//   oversize BYTES                one text message of exactly BYTES on every connection
//   fragment on|off               split kline messages into several WebSocket fragments
//   skip-close SYMBOL INTERVAL N  never send x:true for the next N bars of that stream
//   rest-429 N [RETRY_AFTER_S]    answer the next N klines requests with the venue's rate-limit
//                                 answer (default 1 s): Binance 429, OKX 429 code 50011, Bybit
//                                 retCode 10006 + X-Bapi-Limit-Reset-Timestamp
//   rest-418 N RETRY_AFTER_S      the venue's ban: Binance 418, OKX 429 50011, Bybit 403 for
//                                 RETRY_AFTER_S
//   shutdown-event [CLOSE_AFTER_S] send serverShutdown on Binance spot connections, optionally
//                                 close every connection later
//   max-conn-age SECONDS          close connections older than that (0 = never)
//   outage SECONDS                close all WebSockets and refuse new ones for that long
//   ignore-pings SECONDS          leave application pings unanswered (OKX text "ping", Bybit
//                                 {"op":"ping"}): the client's heartbeat goes unanswered
//   pause-clock | resume-clock    freeze / unfreeze the simulated clock
//   stats                         print the current stats line
//
// Parsing is pure and strict: a bad line yields an error and changes nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mdfeed::fake {

enum class CommandKind {
  kDrop,
  kStall,
  kDeaf,
  kGarbage,
  kOversize,
  kFragment,
  kSkipClose,
  kRest429,
  kRest418,
  kShutdownEvent,
  kMaxConnAge,
  kOutage,
  kIgnorePings,
  kPauseClock,
  kResumeClock,
  kStats,
};

inline constexpr double kMaxCommandSeconds = 30.0 * 86'400;
inline constexpr std::int64_t kMaxGarbageFrames = 100'000;
inline constexpr std::int64_t kMaxOversizeBytes = 64 << 20;
inline constexpr std::int64_t kMaxRestFaultCount = 1'000'000;

struct Command {
  CommandKind kind = CommandKind::kStats;
  double seconds = 0;      // stall, deaf, max-conn-age, outage, ignore-pings, rest Retry-After; shutdown-event:
                           // close delay, < 0 = announce only
  std::int64_t count = 0;  // garbage, oversize bytes, skip-close bars, rest N
  bool on = false;         // fragment
  std::string symbol;      // skip-close
  std::string interval;    // skip-close
};

struct CommandParse {
  std::optional<Command> command;
  std::string error;  // set when command is empty
};

[[nodiscard]] CommandParse parse_command(std::string_view line);

}  // namespace mdfeed::fake
