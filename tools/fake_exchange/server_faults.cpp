// Fault injection: stdin/--fault commands applied on the service thread, and the timed faults
// (stall, deaf, outage) they start.
#include "fake_exchange/market.hpp"
#include "fake_exchange/server_impl.hpp"
#include "fake_exchange/wire.hpp"

namespace mdfeed::fake::detail {

void Server::end_timed_faults(std::int64_t now_us) {
  if (stall_active_ && now_us >= stall_until_us_) {
    stall_active_ = false;
    emit("stall end");
  }
  if (ignore_pings_active_ && now_us >= ignore_pings_until_us_) {
    ignore_pings_active_ = false;
    emit("ignore-pings end");
  }
  if (outage_active_ && now_us >= outage_until_us_) {
    outage_active_ = false;
    emit("outage end");
  }
  if (deaf_active_ && now_us >= deaf_until_us_) {
    deaf_active_ = false;
    for (auto& [id, c] : conns_) {
      if (c->established && c->flow_off) {
        c->flow_off = false;
        lws_rx_flow_control(c->wsi, 1);
      }
    }
    emit("deaf end");
  }
}

void Server::drain_commands() {
  for (const std::string& line : inbox_.drain()) apply_command(line);
}

void Server::apply_command(const std::string& line) {
  const CommandParse p = parse_command(line);
  if (!p.command) {
    ++stats_.commands_failed;
    emit("err " + line + ": " + p.error);
    return;
  }
  apply(*p.command, mono_us());
  ++stats_.commands_ok;
  emit("ok " + line);
}

void Server::drop_all(const char* why) {
  std::size_t n = 0;
  for (auto& [id, c] : conns_) {
    if (!c->established) continue;
    kill_abruptly(c->wsi);
    c->kill_at_us = -1;
    ++n;
  }
  stats_.conn_killed += n;
  emit(std::string("dropped reason=") + why + " connections=" + std::to_string(n));
}

void Server::apply(const Command& cmd, std::int64_t now_us) {
  const auto secs_us = static_cast<std::int64_t>(cmd.seconds * 1e6);
  const std::int64_t sim = sim_now(now_us);
  switch (cmd.kind) {
    case CommandKind::kDrop:
      drop_all("drop");
      break;
    case CommandKind::kStall:
      stall_until_us_ = std::max(stall_until_us_, now_us + secs_us);
      stall_active_ = true;
      break;
    case CommandKind::kDeaf:
      deaf_until_us_ = std::max(deaf_until_us_, now_us + secs_us);
      deaf_active_ = true;
      for (auto& [id, c] : conns_) {
        if (c->established && !c->flow_off) {
          c->flow_off = true;
          lws_rx_flow_control(c->wsi, 0);
        }
      }
      break;
    case CommandKind::kGarbage:
      for (auto& [id, c] : conns_)
        if (c->established) c->garbage_left += cmd.count;
      break;
    case CommandKind::kOversize:
      for (auto& [id, c] : conns_)
        if (c->established) queue(*c, oversize_message(static_cast<std::size_t>(cmd.count)));
      break;
    case CommandKind::kFragment:
      fragment_ = cmd.on;
      break;
    case CommandKind::kSkipClose: {
      const StreamKey key{cmd.symbol, cmd.interval};
      skips_.add(key, bar_open_at(cmd.interval, sim), cmd.count);
      break;
    }
    case CommandKind::kRest429:
      rest_429_left_ += cmd.count;
      rest_429_retry_s_ = static_cast<std::int64_t>(cmd.seconds);
      break;
    case CommandKind::kRest418:
      rest_418_left_ += cmd.count;
      rest_418_retry_s_ = static_cast<std::int64_t>(cmd.seconds);
      break;
    case CommandKind::kShutdownEvent:
      for (auto& [id, c] : conns_) {
        if (!c->established || c->silent) continue;
        std::optional<std::string> event = c->venue->shutdown_event(sim, c->combined);
        if (!event) continue;  // only Binance spot has such an event
        queue(*c, std::move(*event));
        if (cmd.seconds >= 0) c->close_at_us = now_us + secs_us;
      }
      break;
    case CommandKind::kMaxConnAge:
      max_conn_age_us_ = secs_us;
      break;
    case CommandKind::kOutage:
      outage_until_us_ = std::max(outage_until_us_, now_us + secs_us);
      outage_active_ = true;
      drop_all("outage");
      break;
    case CommandKind::kIgnorePings:
      ignore_pings_until_us_ = std::max(ignore_pings_until_us_, now_us + secs_us);
      ignore_pings_active_ = true;
      break;
    case CommandKind::kPauseClock:
      clock_.pause(now_us);
      break;
    case CommandKind::kResumeClock:
      clock_.resume(now_us);
      break;
    case CommandKind::kStats:
      emit("stats " + stats_.json(active(), inbox_.dropped()));
      break;
  }
  for (auto& [id, c] : conns_)
    if (c->established) lws_callback_on_writable(c->wsi);
}

}  // namespace mdfeed::fake::detail
