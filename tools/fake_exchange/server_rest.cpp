// REST side of the fake exchange: request parsing, routing to the venue that owns the path
// (each venue does its own rate limiting and answers injected 429/418 its own way), and the
// response written in chunks on HTTP writeable callbacks.
#include <cstring>

#include "fake_exchange/server_impl.hpp"

namespace mdfeed::fake::detail {

int Server::on_http(lws* wsi, SessionData* pss, const char* path_in) {
  ++stats_.rest_requests;
  forget_http(pss);  // a keep-alive connection may still hold the previous transaction
  const std::string path = path_in ? path_in : "";
  const QueryArgs args = read_query_args(wsi);
  const bool is_get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0 || is_h2_get(wsi);
  const HttpResponse resp =
      is_get ? route(path, args) : error_response(405, -1, "Method not allowed.");
  if (resp.status == 400) ++stats_.rest_400;
  if (resp.status == 404) ++stats_.rest_404;
  if (resp.rate_limited) {
    ++stats_.rest_429;
    ++stats_.rest_weight_exceeded;
    emit("rest-weight-exceeded path=" + printable(path) + " used=" +
         std::to_string(resp.used_weight) + " retry_after=" + std::to_string(resp.retry_after_s));
  }
  emit("rest path=" + printable(path) + " status=" + std::to_string(resp.status) +
       " rows=" + std::to_string(resp.rows) + " used_weight=" + std::to_string(resp.used_weight));

  unsigned char head[LWS_PRE + 1024];
  unsigned char* start = head + LWS_PRE;
  unsigned char* p = start;
  unsigned char* end = head + sizeof(head) - 1;
  if (lws_add_http_common_headers(wsi, static_cast<unsigned int>(resp.status),
                                  "application/json;charset=UTF-8", resp.body.size(), &p, end))
    return 1;
  auto header = [&](const char* name, const std::string& v) {
    return lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(name),
                                       reinterpret_cast<const unsigned char*>(v.data()),
                                       static_cast<int>(v.size()), &p, end) == 0;
  };
  const std::string used = std::to_string(resp.used_weight);
  if (resp.used_weight >= 0 &&
      !(header("x-mbx-used-weight:", used) && header("x-mbx-used-weight-1m:", used)))
    return 1;
  if (resp.retry_after_s >= 0 && !header("retry-after:", std::to_string(resp.retry_after_s)))
    return 1;
  for (const auto& [name, value] : resp.headers)
    if (!header(name.c_str(), value)) return 1;
  if (lws_finalize_write_http_header(wsi, start, &p, end)) return 1;
  pss->http = new HttpTxn{resp.body, 0};
  lws_callback_on_writable(wsi);
  return 0;
}

int Server::on_http_writeable(lws* wsi, SessionData* pss) {
  HttpTxn* t = pss->http;
  if (!t) return 0;
  const std::size_t chunk = std::min(kHttpChunk, t->body.size() - t->offset);
  const bool last = t->offset + chunk == t->body.size();
  std::memcpy(http_buf_.data() + LWS_PRE, t->body.data() + t->offset, chunk);
  const int n = lws_write(wsi, http_buf_.data() + LWS_PRE, chunk,
                          last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP);
  if (n < 0 || static_cast<std::size_t>(n) < chunk) return -1;
  t->offset += chunk;
  if (!last) {
    lws_callback_on_writable(wsi);
    return 0;
  }
  delete t;
  pss->http = nullptr;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

// The first venue that owns the path answers (venues/registry.cpp).
HttpResponse Server::route(const std::string& path, const QueryArgs& args) {
  RestEnv env;
  env.market.sim_now_ms = sim_now(mono_us());
  env.market.history_start_ms = opts_.history_start_ms;
  env.market.invalid_symbols = &opts_.invalid_symbols;
  env.real_ms = mono_us() / 1000;
  env.take_fault = &Server::take_rest_fault;
  env.fault_ctx = this;
  for (const auto& v : venues_)
    if (std::optional<HttpResponse> r = v->rest(path, args, env)) return std::move(*r);
  return error_response(404, -1, "Not found.");
}

// Injected rest-418 / rest-429, taken by a venue's klines endpoint (ban first).
RestFault Server::take_rest_fault(void* self_ptr, std::int64_t& retry_s) {
  auto* self = static_cast<Server*>(self_ptr);
  if (self->rest_418_left_ > 0) {
    --self->rest_418_left_;
    ++self->stats_.rest_418;
    retry_s = self->rest_418_retry_s_;
    return RestFault::kBan;
  }
  if (self->rest_429_left_ > 0) {
    --self->rest_429_left_;
    ++self->stats_.rest_429;
    retry_s = self->rest_429_retry_s_;
    return RestFault::kRateLimit;
  }
  return RestFault::kNone;
}

}  // namespace mdfeed::fake::detail
