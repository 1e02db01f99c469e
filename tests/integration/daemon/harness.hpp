// Integration harness: runs the real fake exchange and the real daemon as child processes on
// loopback (TLS with the test CA), and compares rings with the fake exchange's ground truth.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fake_exchange/market.hpp"
#include "mdfeed/reader.hpp"
#include "test_util.hpp"

namespace mdfeed::it {

inline std::string certs_dir() { return MDFEED_TEST_CERTS_DIR; }

// Polls `pred` until it holds or `timeout` passes. Deadlines are generous upper bounds for a
// loaded 2-core machine; the condition, not the duration, is what a test asserts.
inline bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds step = std::chrono::milliseconds(50)) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(step);
  }
  return pred();
}

inline std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A child process with its stdin as a pipe and its stdout/stderr captured line by line.
class Child {
 public:
  Child(std::vector<std::string> argv, const std::string& log_path, bool pipe_stdin) {
    int in[2] = {-1, -1};
    int out[2] = {-1, -1};
    if (pipe_stdin && pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    log_fd_ = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pid_ = fork();
    if (pid_ == 0) {
      if (pipe_stdin) dup2(in[0], 0);
      dup2(out[1], 1);
      dup2(log_fd_, 2);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    if (pipe_stdin) {
      ::close(in[0]);
      stdin_fd_ = in[1];
    }
    ::close(out[1]);
    out_fd_ = out[0];
    reader_ = std::thread([this] { read_loop(); });
  }
  ~Child() {
    terminate();
    if (reader_.joinable()) reader_.join();
    if (stdin_fd_ >= 0) ::close(stdin_fd_);
    if (log_fd_ >= 0) ::close(log_fd_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  void send_line(const std::string& line) {
    const std::string l = line + "\n";
    if (::write(stdin_fd_, l.data(), l.size()) != static_cast<ssize_t>(l.size()))
      throw std::runtime_error("write to child failed");
  }
  [[nodiscard]] bool saw(const std::string& needle) const {
    std::lock_guard<std::mutex> g(mu_);
    for (const auto& l : lines_)
      if (l.find(needle) != std::string::npos) return true;
    return false;
  }
  [[nodiscard]] std::size_t count(const std::string& needle) const {
    std::lock_guard<std::mutex> g(mu_);
    std::size_t n = 0;
    for (const auto& l : lines_)
      if (l.find(needle) != std::string::npos) ++n;
    return n;
  }
  [[nodiscard]] std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> g(mu_);
    return lines_;
  }
  [[nodiscard]] pid_t pid() const { return pid_; }
  void kill9() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      reap();
    }
  }
  // SIGTERM and wait; returns the exit status (or -signal).
  int terminate(std::chrono::seconds grace = std::chrono::seconds(10)) {
    if (pid_ <= 0) return status_;
    ::kill(pid_, SIGTERM);
    const auto end = std::chrono::steady_clock::now() + grace;
    while (std::chrono::steady_clock::now() < end) {
      int st = 0;
      if (waitpid(pid_, &st, WNOHANG) == pid_) {
        set_status(st);
        return status_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    reap();
    return status_;
  }
  [[nodiscard]] bool running() {
    if (pid_ <= 0) return false;
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) == pid_) {
      set_status(st);
      return false;
    }
    return true;
  }
  [[nodiscard]] int status() const { return status_; }

 private:
  void reap() {
    int st = 0;
    if (waitpid(pid_, &st, 0) == pid_) set_status(st);
  }
  void set_status(int st) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
    pid_ = -1;
  }
  void read_loop() {
    std::string acc;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(out_fd_, buf, sizeof buf);
      if (n <= 0) break;
      acc.append(buf, static_cast<std::size_t>(n));
      std::size_t pos = 0;
      while ((pos = acc.find('\n')) != std::string::npos) {
        std::lock_guard<std::mutex> g(mu_);
        lines_.push_back(acc.substr(0, pos));
        acc.erase(0, pos + 1);
      }
    }
    ::close(out_fd_);
  }

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int out_fd_ = -1;
  int log_fd_ = -1;
  int status_ = -1000;
  std::thread reader_;
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

struct FakeOptions {
  double speed = 60;           // a 1m bar per real second
  std::string cert = "server";  // server | wrongca-server | wronghost-server | expired-server
  std::vector<std::string> args;  // extra flags, e.g. {"--fault", "rest-429 3 1"}
};

class FakeExchange {
 public:
  FakeExchange(const test::TempDir& dir, FakeOptions o = {}) : opt_(std::move(o)) {
    const std::string c = certs_dir();
    std::vector<std::string> argv = {MDFEED_FAKE_EXCHANGE_BIN,
                                     "--cert", c + "/" + opt_.cert + ".pem",
                                     "--key", c + "/" + opt_.cert + ".key",
                                     "--port", "0",
                                     "--start-ms", std::to_string(kStartMs),
                                     "--speed", std::to_string(opt_.speed), "--exit-on-stdin-eof"};
    argv.insert(argv.end(), opt_.args.begin(), opt_.args.end());
    started_ = std::chrono::steady_clock::now();
    child_ = std::make_unique<Child>(argv, dir.path() + "/fake.log", true);
    if (!wait_until([&] { return port_from_lines() > 0; }, std::chrono::seconds(20)))
      throw std::runtime_error("fake exchange did not start: " + slurp(dir.path() + "/fake.log"));
    port_ = port_from_lines();
  }
  [[nodiscard]] int port() const { return port_; }
  void command(const std::string& cmd) {
    child_->send_line(cmd);
    if (!wait_until([&] { return child_->saw("ok " + cmd); }, std::chrono::seconds(10)))
      throw std::runtime_error("fake exchange did not acknowledge: " + cmd);
  }
  [[nodiscard]] Child& child() { return *child_; }
  // Approximate simulated time (the fake's clock started a moment after started_).
  [[nodiscard]] std::int64_t sim_now_ms() const {
    const auto el = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_).count();
    return kStartMs + static_cast<std::int64_t>(static_cast<double>(el) * opt_.speed);
  }
  static constexpr std::int64_t kStartMs = 1'700'000'000'000 - (1'700'000'000'000 % 3'600'000);

 private:
  int port_from_lines() const {
    for (const auto& l : child_->lines())
      if (l.rfind("ready port=", 0) == 0) return std::atoi(l.c_str() + 11);
    return 0;
  }
  FakeOptions opt_;
  std::unique_ptr<Child> child_;
  std::chrono::steady_clock::time_point started_;
  int port_ = 0;
};

struct DaemonConfig {
  std::string feed = "binance";      // ring namespace
  std::string exchange = "binance";  // venue
  std::string ca = "ca.pem";         // in the test certs dir
  std::vector<std::string> symbols = {"BTCUSDT", "ETHUSDT"};
  std::vector<std::string> intervals = {"1m", "5m"};
  std::uint32_t capacity = 1024;
  std::uint32_t backfill_bars = 30;
  std::string feed_extra;  // extra YAML lines inside the feed (8-space indented keys)
  std::string top_extra;   // extra top-level YAML
  std::string host = "localhost";
};

inline std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

class Daemon {
 public:
  Daemon(const test::TempDir& dir, int port, DaemonConfig c) : dir_(dir.path()), cfg_(std::move(c)) {
    shm_ = dir_ + "/shm";
    ::mkdir(shm_.c_str(), 0755);
    config_path_ = dir_ + "/mdfeed.yaml";
    std::ofstream f(config_path_);
    f << "shm:\n  dir: " << shm_ << "\n  capacity: " << cfg_.capacity << "\n"
      << "log:\n  level: info\n" << cfg_.top_extra
      << "feeds:\n  - name: " << cfg_.feed << "\n    exchange: " << cfg_.exchange << "\n"
      << "    ws_url: wss://" << cfg_.host << ":" << port << "\n"
      << "    rest_url: https://" << cfg_.host << ":" << port << "\n"
      << "    ca_file: " << certs_dir() << "/" << cfg_.ca << "\n"
      << "    symbols: [" << join(cfg_.symbols) << "]\n"
      << "    intervals: [" << join(cfg_.intervals) << "]\n"
      << "    backfill_bars: " << cfg_.backfill_bars << "\n"
      << "    stale_after_s: 3\n    close_grace_s: 15\n"
      << "    reconnect_min_ms: 100\n    reconnect_max_ms: 1000\n"
      << cfg_.feed_extra;
  }
  ~Daemon() { stop(); }
  void start() {
    ++starts_;
    child_ = std::make_unique<Child>(std::vector<std::string>{MDFEED_DAEMON_BIN, "--config", config_path_},
                                     log_path(), false);
  }
  int stop() { return child_ ? child_->terminate() : 0; }
  void kill9() {
    if (child_) child_->kill9();
  }
  [[nodiscard]] bool running() { return child_ && child_->running(); }
  [[nodiscard]] std::string log_path() const { return dir_ + "/mdfeed." + std::to_string(starts_) + ".log"; }
  [[nodiscard]] std::string log() const { return slurp(log_path()); }
  [[nodiscard]] const std::string& shm() const { return shm_; }
  [[nodiscard]] const std::string& config_path() const { return config_path_; }
  [[nodiscard]] const DaemonConfig& cfg() const { return cfg_; }
  [[nodiscard]] pid_t pid() const { return child_ ? child_->pid() : -1; }

 private:
  std::string dir_, shm_, config_path_;
  DaemonConfig cfg_;
  int starts_ = 0;
  std::unique_ptr<Child> child_;
};

struct RingCheck {
  std::size_t bars = 0;
  std::size_t mismatches = 0;
  std::size_t gaps = 0;
  std::int64_t last_open_ms = 0;
  std::string first_problem;
};

// a: from a ring, t: truth. A venue that does not send trade counts and taker-buy volumes
// (OKX, Bybit) must mark them unknown (kBarNoTrades, NaN), never zero.
inline bool same_values(const Bar& a, const Bar& t) {
  const bool common = a.open_time_ms == t.open_time_ms && a.close_time_ms == t.close_time_ms &&
                      a.open == t.open && a.high == t.high && a.low == t.low && a.close == t.close &&
                      a.volume == t.volume && a.quote_volume == t.quote_volume;
  if (!a.trades_known())
    return common && a.trades == 0 && std::isnan(a.taker_buy_volume) && std::isnan(a.taker_buy_quote_volume);
  return common && a.taker_buy_volume == t.taker_buy_volume &&
         a.taker_buy_quote_volume == t.taker_buy_quote_volume && a.trades == t.trades;
}

// Every readable closed bar equals the fake's truth bit for bit, closed, contiguous.
inline RingCheck check_ring(const std::string& shm, const std::string& symbol, const std::string& interval,
                            const std::string& feed = "binance") {
  RingCheck rc;
  Ring r = Ring::open(feed, symbol, interval, shm);
  const std::vector<Bar> bars = r.copy_latest(r.capacity() - 1);
  rc.bars = bars.size();
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const Bar& b = bars[i];
    const Bar t = fake::truth_bar(symbol, interval, b.open_time_ms);
    if (!same_values(b, t) || !b.closed()) {
      if (rc.mismatches++ == 0)
        rc.first_problem = symbol + " " + interval + " bar " + std::to_string(b.open_time_ms) + " differs from truth";
    }
    if (i > 0 && b.open_time_ms != next_open_ms(interval, bars[i - 1].open_time_ms)) {
      if (rc.gaps++ == 0 && rc.first_problem.empty())
        rc.first_problem = symbol + " " + interval + " gap after " + std::to_string(bars[i - 1].open_time_ms);
    }
  }
  if (!bars.empty()) rc.last_open_ms = bars.back().open_time_ms;
  return rc;
}

// Newest closed bar open time in a ring, 0 if none or missing.
inline std::int64_t last_closed_open(const std::string& shm, const std::string& symbol, const std::string& interval,
                                     const std::string& feed = "binance") {
  try {
    Ring r = Ring::open(feed, symbol, interval, shm);
    const auto v = r.copy_latest(1);
    return v.empty() ? 0 : v.back().open_time_ms;
  } catch (const Error&) {
    return 0;
  }
}

// Waits until every ring has closed the bar that was forming at sim time `t` (so whatever was
// missed before t must have been filled), then checks every ring against truth.
inline bool caught_up(const Daemon& d, const FakeExchange& fx, std::chrono::seconds timeout) {
  const std::int64_t t = fx.sim_now_ms();
  return wait_until([&] {
    for (const auto& s : d.cfg().symbols)
      for (const auto& i : d.cfg().intervals) {
        const std::int64_t bar_open = fake::bar_open_at(i, t);
        if (last_closed_open(d.shm(), s, i, d.cfg().feed) < bar_open) return false;
      }
    return true;
  }, timeout);
}

}  // namespace mdfeed::it
