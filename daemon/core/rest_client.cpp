// REST client: lws HTTP client connections, one per request (Binance closes idle keep-alives
// anyway, and a few requests per minute per stream do not justify pooling).
#include "core/rest_client.hpp"

#include <libwebsockets.h>

#include <algorithm>
#include <cstring>

#include "core/logging.hpp"

namespace mdfeed {

struct RestClient::Call : net::LwsUser {
  Call() : LwsUser(Kind::kRest) {}
  RestClient* owner = nullptr;
  lws* wsi = nullptr;
  Callback cb;
  RestResponse resp;
  std::int64_t started_ms = 0;
  bool done = false;
};

RestClient::RestClient(lws_context* ctx, lws_vhost* vhost, Options opt)
    : ctx_(ctx), vhost_(vhost), opt_(std::move(opt)) {}

RestClient::~RestClient() {
  // Calls still on the wire must not call back into a dead client.
  for (auto& c : calls_) {
    c->done = true;
    c->owner = nullptr;
    if (c->wsi != nullptr) {
      lws_set_opaque_user_data(c->wsi, nullptr);
      net::close_async(c->wsi);
    }
  }
}

void RestClient::get(std::string target, int weight, Callback cb) {
  queue_.push_back(Pending{std::move(target), weight, std::move(cb)});
}

int RestClient::spent_in_window(std::int64_t mono_ms) {
  while (!spent_.empty() && spent_.front().first <= mono_ms - opt_.window_ms) spent_.pop_front();
  int w = 0;
  for (const auto& s : spent_) w += s.second;
  return w;
}

void RestClient::pump(std::int64_t mono_ms) {
  for (auto& c : calls_) {
    if (!c->done && c->wsi != nullptr && mono_ms - c->started_ms > opt_.timeout_ms) {
      c->resp.error = "timeout after " + std::to_string(opt_.timeout_ms) + " ms";
      net::close_async(c->wsi);  // CLOSED callback finishes it with the error above
    }
  }
  const int budget = std::max(1, static_cast<int>(opt_.budget * opt_.budget_fraction));
  while (!queue_.empty() && in_flight_ < opt_.max_in_flight && mono_ms >= paused_until_) {
    if (spent_in_window(mono_ms) + queue_.front().weight > budget) {
      ++throttled_;
      break;
    }
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    start(std::move(p), mono_ms);
  }
}

void RestClient::start(Pending&& p, std::int64_t mono_ms) {
  auto call = std::make_unique<Call>();
  call->owner = this;
  call->cb = std::move(p.cb);
  call->started_ms = mono_ms;
  const std::string path = opt_.endpoint.path_prefix + p.target;
  lws_client_connect_info ci{};
  ci.context = ctx_;
  ci.vhost = vhost_;
  ci.address = opt_.endpoint.host.c_str();
  ci.port = opt_.endpoint.port;
  ci.ssl_connection = LCCSCF_USE_SSL;  // and never any ALLOW_* flag
  ci.path = path.c_str();
  ci.host = opt_.endpoint.host.c_str();
  ci.origin = opt_.endpoint.host.c_str();
  ci.method = "GET";
  ci.protocol = "mdfeed-rest";
  ci.local_protocol_name = "mdfeed-rest";
  ci.alpn = "http/1.1";
  ci.opaque_user_data = call.get();
  // No ci.pwsi: lws writes NULL through it after a failed connection's callback, by which time
  // the call may be gone. The wsi comes from the return value and from callbacks instead.
  spent_.emplace_back(mono_ms, p.weight);
  ++requests_;
  ++in_flight_;
  Call* raw = call.get();
  calls_.push_back(std::move(call));
  lws* wsi = lws_client_connect_via_info(&ci);
  const bool alive = std::any_of(calls_.begin(), calls_.end(), [raw](const auto& q) { return q.get() == raw; });
  if (!alive) return;  // lws already reported the failure synchronously and it was finished
  if (wsi != nullptr && !raw->done) {
    raw->wsi = wsi;
  } else if (wsi == nullptr && !raw->done) {
    RestResponse r;
    r.error = "cannot start connection to " + opt_.endpoint.host;
    finish(raw, std::move(r));
  }
}

void RestClient::finish(Call* c, RestResponse&& r) {
  if (c->done) return;
  c->done = true;
  // The wsi may outlive this call (its CLOSED callback comes later): detach it first.
  if (c->wsi != nullptr) lws_set_opaque_user_data(c->wsi, nullptr);
  c->wsi = nullptr;
  --in_flight_;
  Callback cb = std::move(c->cb);
  const auto it = std::find_if(calls_.begin(), calls_.end(), [c](const auto& p) { return p.get() == c; });
  std::unique_ptr<Call> keep;
  if (it != calls_.end()) {
    keep = std::move(*it);
    calls_.erase(it);
  }
  if (cb) cb(std::move(r));
  // A finished request frees a slot: start the next one now rather than on the next cron tick
  // (the tick alone capped a 3000-stream backfill at ~40 requests/s, below the weight budget).
  pump(net::mono_ms());
}

void RestClient::pause_until(std::int64_t until_mono_ms) noexcept {
  paused_until_ = std::max(paused_until_, until_mono_ms);
}

namespace {

std::string header_value(lws* wsi, lws_token_indexes token) {
  char buf[64];
  const int n = lws_hdr_copy(wsi, buf, sizeof buf, token);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// A header lws does not know by name ("X-Bapi-Limit-Reset-Timestamp"); lws keeps such names as
// received, so try the venue's spelling and lower case.
std::string custom_header(lws* wsi, const std::string& name) {
  if (name.empty()) return {};
  std::string lower = name;
  for (char& ch : lower) ch = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
  for (const std::string& n : {name + ":", lower + ":"}) {
    char buf[64];
    const int len = lws_hdr_custom_copy(wsi, buf, sizeof buf, n.c_str(), static_cast<int>(n.size()));
    if (len > 0) return std::string(buf, static_cast<std::size_t>(len));
  }
  return {};
}

}  // namespace

int RestClient::lws_callback(lws* wsi, int reason, void* in, std::size_t len) {
  auto* u = static_cast<net::LwsUser*>(lws_get_opaque_user_data(wsi));
  if (u == nullptr || u->kind != net::LwsUser::Kind::kRest) return 0;
  auto* c = static_cast<Call*>(u);
  if (c->owner == nullptr) return 0;
  if (c->wsi == nullptr && !c->done) c->wsi = wsi;
  try {
    switch (reason) {
      case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        c->resp.http_status = static_cast<int>(lws_http_client_http_response(wsi));
        c->resp.retry_after = header_value(wsi, WSI_TOKEN_HTTP_RETRY_AFTER);
        c->resp.reset_header = custom_header(wsi, c->owner->opt_.reset_header);
        return 0;
      case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
        if (c->resp.body.size() + len > c->owner->opt_.max_body_bytes) {
          c->resp.error = "response larger than " + std::to_string(c->owner->opt_.max_body_bytes) + " bytes";
          return -1;
        }
        c->resp.body.append(static_cast<const char*>(in), len);
        return 0;
      case LWS_CALLBACK_RECEIVE_CLIENT_HTTP:
        return net::read_http_body(wsi);
      case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
        // Detach via the callback's wsi before finish() frees the call.
        lws_set_opaque_user_data(wsi, nullptr);
        c->owner->finish(c, std::move(c->resp));
        return -1;  // one request per connection: close it now
      case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        lws_set_opaque_user_data(wsi, nullptr);
        RestResponse r = std::move(c->resp);
        r.http_status = 0;
        r.error = in != nullptr ? std::string(static_cast<const char*>(in), strnlen(static_cast<const char*>(in), len > 0 ? len : 256))
                                : std::string("connection error");
        if (r.error.empty()) r.error = "connection error";
        c->owner->finish(c, std::move(r));
        return 0;
      }
      case LWS_CALLBACK_CLOSED_CLIENT_HTTP: {
        lws_set_opaque_user_data(wsi, nullptr);
        if (!c->done) {
          RestResponse r = std::move(c->resp);
          if (r.error.empty()) r.error = "connection closed before the response completed";
          r.http_status = 0;
          c->owner->finish(c, std::move(r));
        }
        return 0;
      }
      default:
        return 0;
    }
  } catch (const std::exception& e) {
    // Nothing may cross an lws callback; a failed request is retried by its owner.
    spdlog::error("rest: {}", e.what());
    return -1;
  }
}

}  // namespace mdfeed
