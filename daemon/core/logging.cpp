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
  // No shared_ptr copy of the logger here: the pool thread may drop the last reference (a
  // queued flush holds one), and a copy released on this thread then raced its deletion in
  // TSan's eyes (libspdlog's own reference counting is not instrumented). spdlog::shutdown()
  // drains the queue and joins the pool thread.
  if (spdlog::logger* l = spdlog::default_logger_raw(); l != nullptr && l->name() == "mdfeed")
    l->flush();
  spdlog::shutdown();
}

}  // namespace mdfeed::log
