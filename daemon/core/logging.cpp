// Async stderr logging with a bounded queue that overwrites the oldest entry when full.
#include "core/logging.hpp"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace mdfeed::log {

void set_level(std::string_view level) {
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
}

void init(std::string_view level) {
  if (spdlog::get("mdfeed") == nullptr) {
    spdlog::init_thread_pool(8192, 1);
    auto logger = spdlog::create_async_nb<spdlog::sinks::stderr_sink_mt>("mdfeed");
    // systemd's journal adds its own timestamp; keep ours for plain stderr use and tests.
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
    spdlog::set_default_logger(logger);
    spdlog::flush_on(spdlog::level::warn);
  }
  set_level(level);
}

void shutdown() {
  if (auto l = spdlog::get("mdfeed")) l->flush();
  spdlog::shutdown();
}

}  // namespace mdfeed::log
