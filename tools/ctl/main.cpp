// mdfeed-ctl: inspect a running mdfeed daemon (status) and its shared-memory rings (bars, list,
// tail). Command-line parsing and dispatch; the commands live in cmd_*.cpp.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "cli.hpp"
#include "mdfeed/names.hpp"

#ifndef MDFEED_VERSION
#define MDFEED_VERSION "unknown"
#endif

namespace mdfeed::ctl {
namespace {

constexpr const char* kHelpText = R"(Usage: mdfeed-ctl [--shm-dir DIR] COMMAND [ARGS]

Inspect a running mdfeed daemon and its shared-memory bar rings.

Commands:
  status [--json] [--stale-after S] [--heartbeat-timeout S]
      The daemon, each connection and each stream. Exit status:
        0 healthy
        1 degraded: a stream is stale (no update for S seconds, default 10; Binance sends
          one every 2 s) or failed, or a connection is not connected
        2 down: no status segment, the daemon stopped or is gone, or its heartbeat is older
          than --heartbeat-timeout (default 2 s)
  bars FEED:SYMBOL INTERVAL [-n N] [--json]
      The last N closed bars (default 10), then the forming bar, marked as such.
  list [--json]
      Every ring under the shm directory: closed bars, capacity, writer state, last bar.
  tail FEED:SYMBOL INTERVAL [--count N] [--timeout S] [--json]
      Print each update as the daemon publishes it (blocks on the ring's futex, no polling).
      Stops after N updates or S seconds; exit 1 if S passes before N updates.

Options:
  --shm-dir DIR   shm directory (default: $MDFEED_SHM_DIR, else /dev/shm/mdfeed)
  -h, --help      show this help
  -V, --version   show the version

FEED:SYMBOL is e.g. binance:BTCUSDT (the symbol is upper-cased); INTERVAL is one of
1s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M.
Other exit codes: 1 runtime error (missing directory or ring), 64 usage error.
)";

struct OptionSpec {
  const char* name;  // long name without "--"
  char short_name;   // 0: none
  bool takes_value;
};

struct CommandSpec {
  const char* name;
  std::size_t positional;
  const char* positional_text;
  std::vector<OptionSpec> options;
  int (*run)(const Invocation&);
};

const std::vector<CommandSpec>& commands() {
  static const std::vector<CommandSpec> kCommands = {
      {"status", 0, "", {{"json", 0, false}, {"stale-after", 0, true}, {"heartbeat-timeout", 0, true}}, run_status},
      {"bars", 2, "FEED:SYMBOL INTERVAL", {{"json", 0, false}, {"count", 'n', true}}, run_bars},
      {"list", 0, "", {{"json", 0, false}}, run_list},
      {"tail", 2, "FEED:SYMBOL INTERVAL",
       {{"json", 0, false}, {"count", 'n', true}, {"timeout", 0, true}}, run_tail},
  };
  return kCommands;
}

const CommandSpec* find_command(std::string_view name) {
  for (const auto& c : commands())
    if (name == c.name) return &c;
  return nullptr;
}

const OptionSpec* find_option(const CommandSpec& cmd, std::string_view arg) {
  for (const auto& o : cmd.options) {
    if (arg.size() > 2 && arg.substr(0, 2) == "--" && arg.substr(2) == o.name) return &o;
    if (o.short_name != 0 && arg.size() == 2 && arg[0] == '-' && arg[1] == o.short_name) return &o;
  }
  return nullptr;
}

enum class Early { kNone, kHelp, kVersion };

class Parser {
 public:
  explicit Parser(std::vector<std::string> args) : args_(std::move(args)) {}

  // Fills inv; returns kHelp/kVersion when one of those was asked for anywhere.
  Early parse(Invocation& inv) {
    for (i_ = 0; i_ < args_.size(); ++i_) {
      const std::string& a = args_[i_];
      if (!options_done_ && a == "--") {
        options_done_ = true;
      } else if (!options_done_ && a.size() > 1 && a[0] == '-') {
        if (const Early e = option(a, inv); e != Early::kNone) return e;
      } else if (cmd_ == nullptr) {
        cmd_ = find_command(a);
        if (cmd_ == nullptr) throw UsageError("unknown command '" + a + "'");
        inv.command = a;
      } else {
        inv.positional.push_back(a);
      }
    }
    check(inv);
    return Early::kNone;
  }

 private:
  // --name=value or --name value
  std::string take_value(const std::string& name, const std::optional<std::string>& inline_value) {
    if (inline_value) return *inline_value;
    if (i_ + 1 >= args_.size()) throw UsageError("option " + name + " needs a value");
    return args_[++i_];
  }

  Early option(const std::string& a, Invocation& inv) {
    const auto eq = a.find('=');
    const std::string name = a.substr(0, eq);
    const std::optional<std::string> inline_value =
        eq == std::string::npos ? std::nullopt : std::optional<std::string>(a.substr(eq + 1));
    if (name == "-h" || name == "--help") return Early::kHelp;
    if (name == "-V" || name == "--version") return Early::kVersion;
    if (name == "--shm-dir") {
      shm_dir_ = take_value(name, inline_value);
      if (shm_dir_.empty()) throw UsageError("--shm-dir needs a non-empty directory");
      return Early::kNone;
    }
    const OptionSpec* spec = cmd_ != nullptr ? find_option(*cmd_, name) : nullptr;
    if (spec == nullptr)
      throw UsageError("unknown option '" + name + "'" +
                       (cmd_ != nullptr ? std::string(" for '") + cmd_->name + "'" : ""));
    if (spec->takes_value)
      inv.values[spec->name] = take_value(name, inline_value);
    else if (inline_value)
      throw UsageError("option " + name + " takes no value");
    else
      inv.flags.push_back(spec->name);
    return Early::kNone;
  }

  void check(Invocation& inv) const {
    if (cmd_ == nullptr) throw UsageError("no command given");
    if (inv.positional.size() != cmd_->positional)
      throw UsageError(std::string("'") + cmd_->name + "' takes " +
                       (cmd_->positional == 0 ? std::string("no arguments")
                                              : std::string(cmd_->positional_text)));
    inv.shm_dir = resolve_shm_dir(shm_dir_);
  }

  std::vector<std::string> args_;
  std::size_t i_ = 0;
  bool options_done_ = false;
  const CommandSpec* cmd_ = nullptr;
  std::string shm_dir_;
};

// mdfeed::Error messages start with "mdfeed: "; we already say who is talking.
std::string_view strip_prefix(std::string_view msg) {
  constexpr std::string_view kPrefix = "mdfeed: ";
  return msg.substr(0, kPrefix.size()) == kPrefix ? msg.substr(kPrefix.size()) : msg;
}

int run(int argc, char** argv) {
  Invocation inv;
  Parser parser(std::vector<std::string>(argv + 1, argv + argc));
  switch (parser.parse(inv)) {
    case Early::kHelp: write_out(kHelpText); return kExitOk;
    case Early::kVersion: write_out(std::string("mdfeed-ctl ") + MDFEED_VERSION + "\n"); return kExitOk;
    case Early::kNone: break;
  }
  return find_command(inv.command)->run(inv);
}

}  // namespace
}  // namespace mdfeed::ctl

int main(int argc, char** argv) {
  using namespace mdfeed::ctl;
  try {
    return run(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "mdfeed-ctl: %s\nTry 'mdfeed-ctl --help'.\n", e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    const std::string_view msg = strip_prefix(e.what());
    std::fprintf(stderr, "mdfeed-ctl: %.*s\n", static_cast<int>(msg.size()), msg.data());
    return kExitError;
  } catch (...) {
    std::fprintf(stderr, "mdfeed-ctl: unexpected error\n");
    return kExitError;
  }
}
