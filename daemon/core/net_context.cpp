// lws context and client vhost set-up, TLS trust, and the protocol callback's dispatch.
#include "core/net_context.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "core/logging.hpp"
#include "core/net.hpp"
#include "core/rest_client.hpp"
#include "core/ws_session.hpp"
#include "mdfeed/error.hpp"

namespace mdfeed::net {
namespace {

void lws_log_to_spdlog(int level, const char* line) {
  std::string_view s(line);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  if (level & LLL_ERR)
    spdlog::warn("lws: {}", s);
  else
    spdlog::debug("lws: {}", s);
}

// Both protocols share one callback: it dispatches on the object behind the wsi (LwsUser).
const lws_protocols kProtocols[] = {
    {"mdfeed-ws", &NetContext::callback, 0, 0, 0, nullptr, 0},
    {"mdfeed-rest", &NetContext::callback, 0, 0, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},  // lws 4.1: no LWS_PROTOCOL_LIST_TERM
};

NetContext* owner_of(lws* wsi) {
  if (wsi == nullptr) return nullptr;
  lws_context* ctx = lws_get_context(wsi);
  return ctx != nullptr ? static_cast<NetContext*>(lws_context_user(ctx)) : nullptr;
}

}  // namespace

NetContext::NetContext(std::vector<std::string> extra_ca_files, std::function<void()> on_wake)
    : extra_ca_files_(std::move(extra_ca_files)), on_wake_(std::move(on_wake)) {
  lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_to_spdlog);
  lws_context_creation_info info{};
  info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.user = this;
  info.pt_serv_buf_size = 16384;  // room for long stream URLs and venue headers
  ctx_ = lws_create_context(&info);
  if (ctx_ == nullptr) throw Error("mdfeed: cannot create the libwebsockets context");

  lws_context_creation_info vi{};
  vi.port = CONTEXT_PORT_NO_LISTEN;
  vi.protocols = kProtocols;
  vi.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  vi.vhost_name = "mdfeed-client";
  vi.user = this;
  // TLS 1.2 or better. Verification itself is lws's default and is never relaxed.
  vi.ssl_client_options_set = static_cast<long>(SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1);
  client_vh_ = lws_create_vhost(ctx_, &vi);
  if (client_vh_ == nullptr) {
    lws_context_destroy(ctx_);
    ctx_ = nullptr;
    throw Error("mdfeed: cannot create the client vhost (TLS setup failed?)");
  }
}

NetContext::~NetContext() {
  if (ctx_ != nullptr) lws_context_destroy(ctx_);
}

void NetContext::wake() noexcept {
  if (ctx_ != nullptr) lws_cancel_service(ctx_);
}

int NetContext::callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len) {
  switch (reason) {
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS: {
      // ca_file ADDS trust anchors: the system store stays loaded (lws loaded it already).
      // lws passes a stand-in wsi carrying the context, so the owner is found without a global.
      auto* ctx = static_cast<SSL_CTX*>(user);
      NetContext* self = owner_of(wsi);
      if (ctx == nullptr) return 0;
      SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
      if (self == nullptr) {
        spdlog::error("tls: cannot find the context to load extra CA files into");
        return 1;
      }
      for (const auto& ca : self->extra_ca_files_) {
        if (SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr) != 1) {
          spdlog::error("tls: cannot load CA file {}", ca);
          return 1;
        }
      }
      return 0;
    }
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
      if (NetContext* self = owner_of(wsi); self != nullptr && self->on_wake_) self->on_wake_();
      return 0;
    case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
      // Only observe: lws and OpenSSL decide. A refusal's real reason ("certificate has
      // expired", "unable to get local issuer certificate", "hostname mismatch") is kept for
      // the log and status instead of lws's generic "connect SSL err".
      // lws passes the X509_STORE_CTX as `user` and preverify_ok as `len`.
      if (len == 0 && user != nullptr) {
        auto* xs = static_cast<X509_STORE_CTX*>(user);
        WsSession::note_tls_error(wsi, X509_verify_cert_error_string(X509_STORE_CTX_get_error(xs)));
      }
      return 0;
    default:
      break;
  }
  const auto* u = wsi != nullptr ? static_cast<const LwsUser*>(lws_get_opaque_user_data(wsi)) : nullptr;
  if (u == nullptr) return 0;
  if (u->kind == LwsUser::Kind::kRest) return RestClient::lws_callback(wsi, static_cast<int>(reason), in, len);
  return WsSession::lws_callback(wsi, reason, in, len);
}

}  // namespace mdfeed::net
