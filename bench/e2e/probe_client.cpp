// probe_client: the floor under the end-to-end figure. A minimal native WebSocket client (OpenSSL,
// blocking reads, no lws, no parsing beyond two fields) that connects to the fake exchange like
// the daemon does and stamps each --latency-probe kline the moment SSL_read hands it over: one
// TLS hop and one process wake-up, nothing else. mdfeed's figure minus this one is what the
// daemon, the ring and the reader add.
//
//   probe_client --port N --ca CA.pem --seconds S --out FILE [--warmup-s 1] [--stream NAME]
//                [--spin 1]
//
// --spin 1 busy-polls a non-blocking socket instead of sleeping in read(): no wake-up at all, so
// the difference between the two is what one process wake-up costs on this machine.
//
// FILE gets "seq send_ns recv_ns" lines like e2e_reader.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

std::uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

// The integer after `key` (e.g. "\"n\":" or "\"v\":\""), or 0.
std::uint64_t field(const char* p, std::size_t n, const char* key) {
  const std::string hay(p, n);
  const auto at = hay.find(key);
  if (at == std::string::npos) return 0;
  return std::strtoull(hay.c_str() + at + std::strlen(key), nullptr, 10);
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "probe_client: %s\n", what);
  ERR_print_errors_fp(stderr);
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  std::string ca, out, stream = "btcusdt@kline_1h";
  double seconds = 5, warmup_s = 1;
  bool spin = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const std::string v = argv[i + 1];
    if (k == "--port") port = std::atoi(v.c_str());
    else if (k == "--ca") ca = v;
    else if (k == "--out") out = v;
    else if (k == "--stream") stream = v;
    else if (k == "--seconds") seconds = std::atof(v.c_str());
    else if (k == "--warmup-s") warmup_s = std::atof(v.c_str());
    else if (k == "--spin") spin = v == "1";
    else die("usage: probe_client --port N --ca CA.pem --seconds S --out FILE");
  }
  if (port <= 0 || ca.empty() || out.empty()) die("--port, --ca and --out are required");

  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr) != 1) die("cannot load the CA");
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);  // verification on, as in the daemon
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die("connect");
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval tv{1, 0};  // reads wake up at least every second to check the deadline
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, "localhost");
  SSL_set1_host(ssl, "localhost");
  if (SSL_connect(ssl) != 1) die("TLS handshake");

  const std::string req = "GET /stream?streams=" + stream +
                          " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\n";
  if (SSL_write(ssl, req.data(), static_cast<int>(req.size())) <= 0) die("upgrade request");

  if (spin) {
    const int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  }
  std::vector<char> buf;
  buf.reserve(1 << 20);
  char chunk[64 * 1024];
  bool upgraded = false;
  std::vector<std::uint64_t> rows;
  const std::uint64_t start = now_ns();
  const std::uint64_t warm_end = start + static_cast<std::uint64_t>(warmup_s * 1e9);
  const std::uint64_t end = start + static_cast<std::uint64_t>(seconds * 1e9);
  while (now_ns() < end) {
    const int n = SSL_read(ssl, chunk, sizeof chunk);
    const std::uint64_t t = now_ns();  // first thing after the bytes arrived
    if (n <= 0) {
      const int e = SSL_get_error(ssl, n);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) continue;  // timeout
      break;
    }
    buf.insert(buf.end(), chunk, chunk + n);
    std::size_t pos = 0;
    if (!upgraded) {
      const std::string head(buf.begin(), buf.end());
      const auto h = head.find("\r\n\r\n");
      if (h == std::string::npos) continue;
      if (head.rfind("HTTP/1.1 101", 0) != 0) die("upgrade refused");
      upgraded = true;
      pos = h + 4;
    }
    // Server frames are unmasked: 2-byte header, 16- or 64-bit extended length.
    while (buf.size() - pos >= 2) {
      const auto b0 = static_cast<unsigned char>(buf[pos]);
      std::uint64_t len = static_cast<unsigned char>(buf[pos + 1]) & 0x7fU;
      std::size_t hdr = 2;
      if (len == 126) {
        if (buf.size() - pos < 4) break;
        len = (static_cast<std::uint64_t>(static_cast<unsigned char>(buf[pos + 2])) << 8) |
              static_cast<unsigned char>(buf[pos + 3]);
        hdr = 4;
      } else if (len == 127) {
        if (buf.size() - pos < 10) break;
        len = 0;
        for (int i = 0; i < 8; ++i)
          len = (len << 8) | static_cast<unsigned char>(buf[pos + 2 + static_cast<std::size_t>(i)]);
        hdr = 10;
      }
      if (buf.size() - pos < hdr + len) break;
      const char* payload = buf.data() + pos + hdr;
      if ((b0 & 0x0fU) == 0x1 && t >= warm_end) {  // text frame
        const std::uint64_t seq = field(payload, len, "\"n\":");
        const std::uint64_t sent = field(payload, len, "\"v\":\"");
        if (seq != 0 && sent != 0) {
          rows.push_back(seq);
          rows.push_back(sent);
          rows.push_back(t);
        }
      }
      pos += hdr + len;  // pings (0x9) are ignored: the run ends long before a ping deadline
    }
    buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(pos));
  }
  std::FILE* f = std::fopen(out.c_str(), "w");
  if (f == nullptr) die("cannot write --out");
  for (std::size_t i = 0; i + 2 < rows.size(); i += 3)
    std::fprintf(f, "%llu %llu %llu\n", static_cast<unsigned long long>(rows[i]),
                 static_cast<unsigned long long>(rows[i + 1]),
                 static_cast<unsigned long long>(rows[i + 2]));
  std::fclose(f);
  std::printf("samples=%zu\n", rows.size() / 3);
  SSL_free(ssl);
  ::close(fd);
  SSL_CTX_free(ctx);
  return 0;
}
