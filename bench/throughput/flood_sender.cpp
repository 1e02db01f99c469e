// flood_sender: the fastest kline source we can put in front of the daemon, to find the daemon's
// own ceiling. The fake exchange's --flood writes one frame per lws writeable callback (one TLS
// record and one write() per kline), which on a small VM tops out well below what the daemon can
// take. This sender speaks just enough of the protocol, over real TLS on loopback:
//
//   * WebSocket upgrade on any path, then a stream of combined-stream kline frames for one
//     symbol/interval (forming updates; n, the trade count, increases by one per frame so the bar
//     book accepts every one; 12 digits, patched in place), `--batch` frames per SSL_write (1 = one TLS record per kline, like
//     the fake exchange; 32 = the records are full, like a busy real connection);
//   * any other GET gets a small JSON answer and a close (/api/v3/time -> serverTime, else []).
//
//   flood_sender --cert PEM --key PEM [--batch N] [--seconds S] [--symbol BTCUSDT] [--interval 1h]
//                [--frames N]
//
// --frames N (a test of the client, not a flood): exactly N frames, one TLS record each, handed
// to the kernel corked so they reach the client together, then silence on that connection
// (nothing read, nothing closed) until the sender stops. Every frame must reach the ring without
// any further bytes from the server (a client that leaves whole records buffered in OpenSSL
// stalls here).
//
// Prints "ready port=N" once listening on 127.0.0.1 (ephemeral port), then runs until --seconds
// pass (default 60) or stdin closes. On exit prints "sent frames=N".
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> g_stop{false};
std::atomic<std::uint64_t> g_frames{0};

struct Args {
  std::string cert, key, symbol = "BTCUSDT", interval = "1h";
  int batch = 32;
  double seconds = 60;
  int frames = 0;  // > 0: one corked burst of this many records, then silence
};

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::int64_t interval_ms(const std::string& i) {
  const std::int64_t n = std::atoll(i.c_str());
  switch (i.back()) {
    case 's': return n * 1000;
    case 'm': return n * 60'000;
    case 'h': return n * 3'600'000;
    case 'd': return n * 86'400'000;
    default: return 3'600'000;
  }
}

// Reads until the end of the HTTP request head (bounded).
bool read_head(SSL* ssl, std::string& head) {
  char buf[4096];
  while (head.find("\r\n\r\n") == std::string::npos) {
    if (head.size() > 64 * 1024) return false;
    const int n = SSL_read(ssl, buf, sizeof buf);
    if (n <= 0) return false;
    head.append(buf, static_cast<std::size_t>(n));
  }
  return true;
}

std::string header_value(const std::string& head, const std::string& name) {
  const std::string h = lower(head);
  const auto p = h.find("\r\n" + lower(name) + ":");
  if (p == std::string::npos) return {};
  auto b = p + 3 + name.size();
  while (b < head.size() && head[b] == ' ') ++b;
  const auto e = head.find("\r\n", b);
  return head.substr(b, e - b);
}

std::string ws_accept(const std::string& key) {
  const std::string s = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char sha[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), sha);
  unsigned char out[64];
  const int n = EVP_EncodeBlock(out, sha, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
}

// Blocking writes with a send timeout: a reader that is merely slow (starved of CPU) makes
// SSL_write time out with WANT_WRITE, which is retried; only a dead peer, or shutdown, ends it.
bool write_all(SSL* ssl, const char* p, std::size_t n) {
  while (n > 0) {
    const int w = SSL_write(ssl, p, static_cast<int>(std::min<std::size_t>(n, 1 << 20)));
    if (w <= 0) {
      const int e = SSL_get_error(ssl, w);
      if ((e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) && !g_stop.load()) continue;
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// One kline frame with a fixed-width trade count we patch in place for every frame.
struct FrameTemplate {
  std::string bytes;
  std::size_t n_offset = 0;  // 12 digits of n
  std::size_t l_offset = 0;  // 12 digits of L
};

FrameTemplate make_frame(const Args& a, std::int64_t event_ms) {
  const std::int64_t ivl = interval_ms(a.interval);
  const std::int64_t open = event_ms / ivl * ivl;
  const std::string stream = lower(a.symbol) + "@kline_" + a.interval;
  const std::string digits = "100000000000";
  std::string m = R"({"stream":")" + stream + R"(","data":{"e":"kline","E":)" +
                  std::to_string(event_ms) + R"(,"s":")" + a.symbol + R"(","k":{"t":)" +
                  std::to_string(open) + R"(,"T":)" + std::to_string(open + ivl - 1) +
                  R"(,"s":")" + a.symbol + R"(","i":")" + a.interval +
                  R"(","f":100000000000,"L":)" + digits +
                  R"(,"o":"43012.57000000","c":"43015.12000000","h":"43020.00000000",)"
                  R"("l":"43001.01000000","v":"12.34567000","n":)" + digits +
                  R"(,"x":false,"q":"531012.33421000","V":"6.10000000","Q":"262345.11000000",)"
                  R"("B":"0"}}})";
  FrameTemplate t;
  std::string hdr;
  hdr += static_cast<char>(0x81);  // FIN, text
  if (m.size() < 126) {
    hdr += static_cast<char>(m.size());
  } else {
    hdr += static_cast<char>(126);
    hdr += static_cast<char>((m.size() >> 8) & 0xff);
    hdr += static_cast<char>(m.size() & 0xff);
  }
  t.bytes = hdr + m;
  t.l_offset = t.bytes.find(R"("L":)") + 4;
  t.n_offset = t.bytes.find(R"("n":)") + 4;
  return t;
}

void put12(char* p, std::uint64_t v) {
  for (int i = 11; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

void serve_ws(SSL* ssl, const Args& a, const std::string& head) {
  const std::string key = header_value(head, "Sec-WebSocket-Key");
  const std::string resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Accept: " + ws_accept(key) +
                           "\r\n\r\n";
  if (!write_all(ssl, resp.data(), resp.size())) return;
  const FrameTemplate t = make_frame(a, wall_ms());
  const std::size_t fl = t.bytes.size();
  std::vector<char> buf(fl * static_cast<std::size_t>(a.batch));
  for (int i = 0; i < a.batch; ++i) std::memcpy(buf.data() + fl * static_cast<std::size_t>(i), t.bytes.data(), fl);
  std::uint64_t n = 0;
  if (a.frames > 0) {
    const int fd = SSL_get_fd(ssl);
    const int on = 1, off = 0;
    setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
    for (int i = 0; i < a.frames; ++i) {
      ++n;
      put12(buf.data() + t.n_offset, 100'000'000'000ULL + n);
      put12(buf.data() + t.l_offset, 200'000'000'000ULL + n);
      if (!write_all(ssl, buf.data(), fl)) return;
      g_frames.fetch_add(1, std::memory_order_relaxed);
    }
    setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
    std::printf("burst sent frames=%d\n", a.frames);
    std::fflush(stdout);
    while (!g_stop.load(std::memory_order_relaxed)) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return;
  }
  while (!g_stop.load(std::memory_order_relaxed)) {
    for (int i = 0; i < a.batch; ++i) {
      char* f = buf.data() + fl * static_cast<std::size_t>(i);
      ++n;  // 12 digits with no leading zero (JSON numbers may not have one)
      put12(f + t.n_offset, 100'000'000'000ULL + n);
      put12(f + t.l_offset, 200'000'000'000ULL + n);
    }
    if (!write_all(ssl, buf.data(), buf.size())) return;
    g_frames.fetch_add(static_cast<std::uint64_t>(a.batch), std::memory_order_relaxed);
  }
}

void serve_http(SSL* ssl, const std::string& head) {
  std::string body = "[]";
  if (head.find("/api/v3/time") != std::string::npos)
    body = R"({"serverTime":)" + std::to_string(wall_ms()) + "}";
  const std::string resp = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  (void)write_all(ssl, resp.data(), resp.size());
}

void serve(SSL_CTX* ctx, int fd, Args a) {
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  std::string head;
  if (SSL_accept(ssl) == 1 && read_head(ssl, head)) {
    if (lower(head).find("upgrade: websocket") != std::string::npos)
      serve_ws(ssl, a, head);
    else
      serve_http(ssl, head);
    SSL_shutdown(ssl);
  }
  SSL_free(ssl);
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const std::string v = argv[i + 1];
    if (k == "--cert") a.cert = v;
    else if (k == "--key") a.key = v;
    else if (k == "--batch") a.batch = std::clamp(std::atoi(v.c_str()), 1, 4096);
    else if (k == "--seconds") a.seconds = std::clamp(std::atof(v.c_str()), 1.0, 3600.0);
    else if (k == "--symbol") a.symbol = v;
    else if (k == "--interval") a.interval = v;
    else if (k == "--frames") a.frames = std::clamp(std::atoi(v.c_str()), 1, 1'000'000);
    else {
      std::fprintf(stderr, "usage: flood_sender --cert PEM --key PEM [--batch N] [--seconds S] [--symbol S] [--interval I] [--frames N]\n");
      return 2;
    }
  }
  if (a.cert.empty() || a.key.empty()) return 2;
  signal(SIGPIPE, SIG_IGN);
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx, a.cert.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, a.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    ERR_print_errors_fp(stderr);
    return 1;
  }
  const int ls = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(ls, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(ls, 64) != 0) {
    std::perror("bind/listen");
    return 1;
  }
  socklen_t len = sizeof addr;
  getsockname(ls, reinterpret_cast<sockaddr*>(&addr), &len);
  std::printf("ready port=%d\n", ntohs(addr.sin_port));
  std::fflush(stdout);

  // Stops at the deadline or when stdin closes (the driver died).
  std::thread watchdog([&a] {
    const auto end = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(static_cast<std::int64_t>(a.seconds * 1000));
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{0, POLLIN, 0};
      if (::poll(&p, 1, 100) > 0) {
        char c;
        if (::read(0, &c, 1) <= 0) break;
      }
    }
    g_stop = true;
  });
  std::vector<std::thread> conns;
  while (!g_stop.load()) {
    pollfd p{ls, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const int fd = ::accept4(ls, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{1, 0};  // writes wake up every second to notice shutdown
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    conns.emplace_back(serve, ctx, fd, a);
  }
  watchdog.join();
  for (auto& t : conns) t.join();
  ::close(ls);
  SSL_CTX_free(ctx);
  std::printf("sent frames=%llu\n", static_cast<unsigned long long>(g_frames.load()));
  return 0;
}
