// The one helper thread: reads fault commands from stdin and SIGINT/SIGTERM from a signalfd,
// queues them and wakes the lws service thread with lws_cancel_service() (the only lws call that
// is safe from another thread). Everything else happens on the service thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace mdfeed::fake {

// Lines from stdin, bounded: a flood of input drops lines (counted) instead of growing memory.
class CommandInbox {
 public:
  static constexpr std::size_t kMaxLines = 1024;
  static constexpr std::size_t kMaxLineBytes = 4096;

  void push(std::string line);
  [[nodiscard]] std::deque<std::string> drain();
  [[nodiscard]] std::size_t dropped() const noexcept { return dropped_.load(); }

 private:
  std::mutex mutex_;
  std::deque<std::string> lines_;
  std::atomic<std::size_t> dropped_{0};
};

class InputThread {
 public:
  // SIGINT and SIGTERM must already be blocked in every thread (block_stop_signals()).
  // `wake` is called after queuing a line or on a stop signal (lws_cancel_service).
  // With stop_on_eof, the end of stdin is treated like SIGTERM.
  InputThread(CommandInbox& inbox, std::atomic<bool>& stop, std::function<void()> wake,
              bool stop_on_eof);
  ~InputThread();
  InputThread(const InputThread&) = delete;
  InputThread& operator=(const InputThread&) = delete;

  void start();
  void shutdown();  // idempotent; joins

 private:
  void loop();
  void read_stdin(bool& open);

  CommandInbox& inbox_;
  std::atomic<bool>& stop_;
  std::function<void()> wake_;
  bool stop_on_eof_;
  int signal_fd_ = -1;
  int exit_fd_ = -1;
  std::string partial_;
  std::thread thread_;
};

// Blocks SIGINT/SIGTERM (delivered through the signalfd instead) and ignores SIGPIPE. Call
// before starting any thread so every thread inherits the mask.
void block_stop_signals();

}  // namespace mdfeed::fake
