// stdin and signal reader for the fake exchange (see input_thread.hpp).
#include "fake_exchange/input_thread.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace mdfeed::fake {
namespace {

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void block_stop_signals() {
  const sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client or a reader of stdout going away is not fatal
}

void CommandInbox::push(std::string line) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (lines_.size() >= kMaxLines) {
    dropped_.fetch_add(1);
    return;
  }
  lines_.push_back(std::move(line));
}

std::deque<std::string> CommandInbox::drain() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::deque<std::string> out;
  out.swap(lines_);
  return out;
}

InputThread::InputThread(CommandInbox& inbox, std::atomic<bool>& stop, std::function<void()> wake,
                         bool stop_on_eof)
    : inbox_(inbox), stop_(stop), wake_(std::move(wake)), stop_on_eof_(stop_on_eof) {
  const sigset_t set = stop_signals();
  signal_fd_ = signalfd(-1, &set, SFD_CLOEXEC);
  exit_fd_ = eventfd(0, EFD_CLOEXEC);
  if (signal_fd_ < 0 || exit_fd_ < 0)
    throw std::system_error(errno, std::generic_category(), "signalfd/eventfd");
}

InputThread::~InputThread() {
  shutdown();
  if (signal_fd_ >= 0) close(signal_fd_);
  if (exit_fd_ >= 0) close(exit_fd_);
}

void InputThread::start() {
  thread_ = std::thread([this] { loop(); });
}

void InputThread::shutdown() {
  if (!thread_.joinable()) return;
  const std::uint64_t one = 1;
  while (write(exit_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
  }
  thread_.join();
}

void InputThread::loop() {
  bool stdin_open = true;
  for (;;) {
    pollfd fds[3] = {
        {exit_fd_, POLLIN, 0}, {signal_fd_, POLLIN, 0}, {stdin_open ? 0 : -1, POLLIN, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents) return;
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo info{};
      if (read(signal_fd_, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
        stop_.store(true);
        wake_();
      }
    }
    if (fds[2].revents) read_stdin(stdin_open);
  }
}

void InputThread::read_stdin(bool& open) {
  char buf[4096];
  const ssize_t n = read(0, buf, sizeof(buf));
  if (n < 0 && errno == EINTR) return;
  if (n <= 0) {  // EOF or error: stop reading; keep serving unless asked to follow stdin
    open = false;
    if (stop_on_eof_) {
      stop_.store(true);
      wake_();
    }
    return;
  }
  bool queued = false;
  for (ssize_t i = 0; i < n; ++i) {
    if (buf[i] == '\n') {
      if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
      if (!partial_.empty()) {
        inbox_.push(std::move(partial_));
        queued = true;
      }
      partial_.clear();
    } else if (partial_.size() < CommandInbox::kMaxLineBytes) {
      partial_ += buf[i];
    }
  }
  if (queued) wake_();
}

}  // namespace mdfeed::fake
