// Shared helpers of the fake exchange server (see server_support.hpp).
#include "fake_exchange/server_support.hpp"

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>

namespace mdfeed::fake::detail {

std::int64_t mono_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void emit(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

std::string Stats::json(std::size_t active, std::size_t inbox_dropped) const {
  std::string s = "{";
  auto add = [&s](const char* k, std::uint64_t v) {
    if (s.size() > 1) s += ',';
    s += '"';
    s += k;
    s += "\":";
    s += std::to_string(v);
  };
  add("tcp_accepts", tcp_accepts);
  add("conn_attempts", conn_attempts);
  add("conn_opened", conn_opened);
  add("conn_rejected", conn_rejected);
  add("conn_closed", conn_closed);
  add("conn_killed", conn_killed);
  add("conn_active", active);
  add("ws_messages_sent", ws_messages_sent);
  add("ws_bytes_sent", ws_bytes_sent);
  add("kline_updates_sent", kline_updates_sent);
  add("kline_closes_sent", kline_closes_sent);
  add("kline_closes_suppressed", kline_closes_suppressed);
  add("replay_lines_sent", replay_lines_sent);
  add("replay_lines_skipped", replay_lines_skipped);
  add("garbage_sent", garbage_sent);
  add("replies_dropped", replies_dropped);
  add("ctrl_msgs_received", ctrl_msgs_received);
  add("ctrl_rate_exceeded", ctrl_rate_exceeded);
  add("max_ctrl_msgs_per_s", max_ctrl_msgs_per_s);
  add("rx_too_large", rx_too_large);
  add("pings_answered", pings_answered);
  add("pings_ignored", pings_ignored);
  add("idle_closes", idle_closes);
  add("rest_requests", rest_requests);
  add("rest_400", rest_400);
  add("rest_404", rest_404);
  add("rest_429", rest_429);
  add("rest_418", rest_418);
  add("rest_weight_exceeded", rest_weight_exceeded);
  add("commands_ok", commands_ok);
  add("commands_failed", commands_failed);
  add("commands_dropped", inbox_dropped);
  s += '}';
  return s;
}

void kill_abruptly(lws* wsi) {
  const lws_sockfd_type fd = lws_get_socket_fd(wsi);
  if (fd >= 0) {
    const linger lg{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    shutdown(fd, SHUT_RDWR);
  }
  lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

std::string printable(std::string_view s) {
  std::string out(s.substr(0, 200));
  for (char& ch : out)
    if (static_cast<unsigned char>(ch) <= ' ' || ch == 0x7f) ch = '?';
  return out;
}

QueryArgs read_query_args(lws* wsi) {
  QueryArgs args;
  std::vector<char> buf(kMaxUrlBytes + 1);
  for (int i = 0; i < kMaxQueryArgs; ++i) {
    if (lws_hdr_copy_fragment(wsi, buf.data(), static_cast<int>(buf.size()),
                              WSI_TOKEN_HTTP_URI_ARGS, i) < 0)
      break;
    const std::string_view arg = buf.data();
    const std::size_t eq = arg.find('=');
    args.emplace_back(std::string(arg.substr(0, eq)), eq == std::string_view::npos
                                                          ? std::string()
                                                          : std::string(arg.substr(eq + 1)));
  }
  return args;
}

bool is_h2_get(lws* wsi) {
  char method[8] = {};
  return lws_hdr_copy(wsi, method, sizeof(method), WSI_TOKEN_HTTP_COLON_METHOD) == 3 &&
         std::strcmp(method, "GET") == 0;
}

std::string certificate_verdict(const std::string& cert_file, const std::string& ca_file) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(cert_file.c_str(), "r"), std::fclose);
  if (!f) return "cannot read " + cert_file;
  std::unique_ptr<X509, void (*)(X509*)> leaf(PEM_read_X509(f.get(), nullptr, nullptr, nullptr),
                                              X509_free);
  if (!leaf) return "no certificate in " + cert_file;
  std::unique_ptr<X509_STORE, void (*)(X509_STORE*)> store(X509_STORE_new(), X509_STORE_free);
  if (!store || X509_STORE_load_file(store.get(), ca_file.c_str()) != 1)
    return "cannot load CA " + ca_file;
  std::unique_ptr<X509_STORE_CTX, void (*)(X509_STORE_CTX*)> ctx(X509_STORE_CTX_new(),
                                                                 X509_STORE_CTX_free);
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr) != 1)
    return "verify context failed";
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set1_host(param, "localhost", 0);
  X509_VERIFY_PARAM_set1_ip_asc(param, "127.0.0.1");
  if (X509_verify_cert(ctx.get()) == 1) return "ok";
  return X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
}

}  // namespace mdfeed::fake::detail
