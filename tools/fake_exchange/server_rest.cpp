// REST side of the fake exchange: request parsing, weight accounting, injected 429/418, and
// the response written in chunks on HTTP writeable callbacks.
#include <cstring>

#include "fake_exchange/server_impl.hpp"

namespace mdfeed::fake::detail {

int Server::on_http(lws* wsi, SessionData* pss, const char* path_in) {
  ++stats_.rest_requests;
  forget_http(pss);  // a keep-alive connection may still hold the previous transaction
  const std::string path = path_in ? path_in : "";
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
  const bool is_get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0 || is_h2_get(wsi);
  std::int64_t used_weight = -1;
  const HttpResponse resp =
      is_get ? route(path, args, used_weight) : error_response(405, -1, "Method not allowed.");
  if (resp.status == 400) ++stats_.rest_400;
  if (resp.status == 404) ++stats_.rest_404;
  emit("rest path=" + printable(path) + " status=" + std::to_string(resp.status) +
       " rows=" + std::to_string(resp.rows) + " used_weight=" + std::to_string(used_weight));

  unsigned char head[LWS_PRE + 1024];
  unsigned char* start = head + LWS_PRE;
  unsigned char* p = start;
  unsigned char* end = head + sizeof(head) - 1;
  if (lws_add_http_common_headers(wsi, static_cast<unsigned int>(resp.status),
                                  "application/json;charset=UTF-8", resp.body.size(), &p, end))
    return 1;
  auto header = [&](const char* name, std::int64_t value) {
    const std::string v = std::to_string(value);
    return lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(name),
                                       reinterpret_cast<const unsigned char*>(v.data()),
                                       static_cast<int>(v.size()), &p, end) == 0;
  };
  if (used_weight >= 0 &&
      !(header("x-mbx-used-weight:", used_weight) && header("x-mbx-used-weight-1m:", used_weight)))
    return 1;
  if (resp.retry_after_s >= 0 && !header("retry-after:", resp.retry_after_s)) return 1;
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

HttpResponse Server::route(const std::string& path, const QueryArgs& args,
                           std::int64_t& used_weight) {
  const std::int64_t now_ms = mono_us() / 1000;
  if (path == "/api/v3/klines") return rest_klines(args, used_weight, now_ms);
  HttpResponse refusal;
  if (path == "/api/v3/time") {
    if (!charge_weight(kLightWeight, now_ms, used_weight, refusal)) return refusal;
    return time_response(sim_now(mono_us()));
  }
  if (path == "/api/v3/ping") {
    if (!charge_weight(kLightWeight, now_ms, used_weight, refusal)) return refusal;
    HttpResponse r;
    r.body = "{}";
    return r;
  }
  return error_response(404, -1, "Not found.");
}

HttpResponse Server::rest_klines(const QueryArgs& args, std::int64_t& used_weight,
                                 std::int64_t now_ms) {
  if (rest_418_left_ > 0) {
    --rest_418_left_;
    ++stats_.rest_418;
    return banned(rest_418_retry_s_, sim_now(mono_us()) + rest_418_retry_s_ * 1000);
  }
  if (rest_429_left_ > 0) {
    --rest_429_left_;
    ++stats_.rest_429;
    return too_many_requests(rest_429_retry_s_, weights_.limit());
  }
  HttpResponse refusal;
  if (!charge_weight(kKlinesWeight, now_ms, used_weight, refusal)) return refusal;
  MarketView view;
  view.sim_now_ms = sim_now(mono_us());
  view.history_start_ms = opts_.history_start_ms;
  view.invalid_symbols = &opts_.invalid_symbols;
  return klines_response(args, view);
}

bool Server::charge_weight(std::int64_t weight, std::int64_t now_ms, std::int64_t& used,
                           HttpResponse& refusal) {
  const WeightWindow::Charge c = weights_.charge(weight, now_ms);
  used = c.used;
  if (c.allowed) return true;
  ++stats_.rest_429;
  ++stats_.rest_weight_exceeded;
  emit("rest-weight-exceeded used=" + std::to_string(c.used) +
       " retry_after=" + std::to_string(c.retry_after_s));
  refusal = too_many_requests(c.retry_after_s, weights_.limit());
  return false;
}

}  // namespace mdfeed::fake::detail
