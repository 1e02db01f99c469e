// Binance spot and USD-M behind the venue boundary: the combined-stream WebSocket protocol over
// KlineParser, the REST protocol over RestParser, and each market's limits.
// Sources: Binance spot API docs ("WebSocket Streams": general info, limits; "Kline/Candlestick
// data"; "LIMITS"), Binance USD-M futures docs ("Websocket Market Streams", "Kline/Candlestick
// Data", "General Info": limits), as summarised in docs/design.md, "Venues".
#include "binance/spec.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <memory>

#include "binance/kline_parser.hpp"
#include "binance/rest.hpp"
#include "binance/streams.hpp"

namespace mdfeed::binance {
namespace {

using venue::Event;
using venue::EventKind;
using venue::RestOutcome;
using venue::RestVerdict;

// Streams in the URL itself are limited so the request line stays well inside lws's header
// buffer; the rest go out as SUBSCRIBE messages.
constexpr std::size_t kMaxUrlStreamsBytes = 1500;

// A 429/418 without a usable Retry-After: stay away a minute.
constexpr std::int64_t kDefaultRetryMs = 60'000;

class Ws final : public venue::WsProtocol {
 public:
  Ws(std::string_view path, std::size_t max_topics, std::size_t max_bytes)
      : path_(path), max_topics_(max_topics), parser_(max_bytes) {}

  std::string kline_topic(std::string_view symbol, std::string_view interval) const override {
    return stream_name(symbol, interval);
  }

  std::string connect_path(const std::vector<std::string>& topics,
                           std::size_t& in_url) const override {
    std::vector<std::string> head;
    std::size_t bytes = 0;
    for (const auto& t : topics) {
      if (bytes + t.size() + 1 > kMaxUrlStreamsBytes) break;
      bytes += t.size() + 1;
      head.push_back(t);
    }
    in_url = head.size();
    std::string p(path_);
    p += combined_path(head).substr(std::string_view("/stream").size());
    return p;
  }

  std::vector<std::string> control_frames(const std::vector<std::string>& topics, bool subscribe,
                                          std::int64_t& next_id) const override {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < topics.size(); i += max_topics_) {
      const auto end = std::min(topics.size(), i + max_topics_);
      const std::vector<std::string> chunk(topics.begin() + static_cast<std::ptrdiff_t>(i),
                                           topics.begin() + static_cast<std::ptrdiff_t>(end));
      out.push_back(subscribe_message(subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE", next_id++, chunk));
    }
    return out;
  }

  // Binance pings us (protocol frames; lws answers them): no application heartbeat.
  std::optional<std::string> heartbeat(std::int64_t, std::int64_t, std::int64_t) override {
    return std::nullopt;
  }

  Event parse(const char* data, std::size_t len, std::size_t capacity) noexcept override {
    KlineMsg m;
    Event e;
    switch (parser_.parse(data, len, capacity, m)) {
      case MsgKind::kKline:
        e.kind = EventKind::kKline;
        e.topic = m.stream;
        e.event_time_ms = m.event_time_ms;
        e.bar = m.bar;
        if (e.topic.empty()) {
          // A raw (non-combined) message names its stream only by symbol and interval.
          raw_topic_ = stream_name(m.symbol, m.interval);
          e.topic = raw_topic_;
        }
        break;
      case MsgKind::kTrade:
        e.kind = EventKind::kTrade;
        e.topic = m.stream;
        e.event_time_ms = m.event_time_ms;
        e.trade = {m.trade.trade_time_ms, m.trade.price, m.trade.quantity, m.trade.buyer_is_maker,
                   m.trade.first_id, m.trade.last_id};
        if (e.topic.empty()) {
          raw_topic_ = trade_stream_name(m.symbol);
          e.topic = raw_topic_;
        }
        break;
      case MsgKind::kNotKline:
        e.kind = EventKind::kIgnored;
        break;
      case MsgKind::kControlReply:
        e.kind = EventKind::kControlReply;
        e.control = {m.control.id, m.control.ok, m.control.error_code, m.control.error_msg};
        break;
      case MsgKind::kServerShutdown:
        e.kind = EventKind::kShutdown;
        e.event_time_ms = m.event_time_ms != 0 ? m.event_time_ms : venue::kNoTime;
        e.text = "serverShutdown";
        break;
      case MsgKind::kError:
        e.kind = EventKind::kError;
        break;
    }
    return e;
  }

  const char* last_error() const noexcept override { return parser_.last_error(); }

 private:
  std::string_view path_;
  std::size_t max_topics_;
  KlineParser parser_;
  std::string raw_topic_;
};

std::int64_t retry_after_ms(std::string_view header) {
  std::int64_t secs = 0;
  const auto* end = header.data() + header.size();
  if (header.empty() || std::from_chars(header.data(), end, secs).ptr != end || secs < 0)
    return kDefaultRetryMs;
  return secs * 1000;
}

RestOutcome from_result(RestResult&& r) {
  RestOutcome o;
  switch (r.status) {
    case RestStatus::kOk: return o;
    case RestStatus::kInvalidSymbol: o.verdict = RestVerdict::kInvalidSymbol; break;
    case RestStatus::kApiError: o.verdict = RestVerdict::kVenueError; break;
    case RestStatus::kError: o.verdict = RestVerdict::kMalformed; break;
  }
  o.code = r.code;
  o.message = std::move(r.message);
  return o;
}

// 429: over the weight budget, Retry-After says how long; 418: banned for repeating that
// (Binance "LIMITS": "IP Limits"). Other errors carry {"code":..,"msg":..}.
RestOutcome classify(const venue::HttpAnswer& a) {
  RestOutcome o;
  if (a.status == 200) return o;
  if (a.status == 429 || a.status == 418) {
    o.verdict = a.status == 429 ? RestVerdict::kRetryAfter : RestVerdict::kBanned;
    o.wait_ms = retry_after_ms(a.retry_after);
    o.code = a.status;
    o.message = "HTTP " + std::to_string(a.status) + ", retry after " + std::to_string(o.wait_ms) + " ms";
    return o;
  }
  std::vector<Bar> none;
  o = from_result(parse_klines_response(a.body, none));
  if (o.ok() || o.verdict == RestVerdict::kMalformed) {
    o.verdict = RestVerdict::kMalformed;
    o.code = a.status;
    o.message = "HTTP " + std::to_string(a.status);
  }
  return o;
}

RestOutcome parse_klines(std::string_view body, std::string_view, std::string_view,
                         std::vector<Bar>& out) {
  return from_result(parse_klines_response(body, out));
}

std::optional<std::int64_t> server_time(std::string_view body) { return parse_server_time(body); }

// --- spot ---------------------------------------------------------------------------------------

constexpr venue::IntervalName kSpotIntervals[] = {
    {"1s", "1s"}, {"1m", "1m"}, {"3m", "3m"}, {"5m", "5m"},    {"15m", "15m"}, {"30m", "30m"},
    {"1h", "1h"}, {"2h", "2h"}, {"4h", "4h"}, {"6h", "6h"},    {"8h", "8h"},   {"12h", "12h"},
    {"1d", "1d"}, {"3d", "3d"}, {"1w", "1w"}, {"1M", "1M"},
};

std::unique_ptr<venue::WsProtocol> make_spot_ws(std::size_t max_bytes) {
  return std::make_unique<Ws>("/stream", kSpotSpec.limits.max_topics_per_request, max_bytes);
}

venue::KlinesRequest spot_klines(std::string_view symbol, std::string_view interval,
                                 std::int64_t start, std::int64_t end, int limit, std::int64_t) {
  // /api/v3/klines weighs 2 whatever the limit (1..1000).
  return {klines_target("/api/v3/klines", symbol, interval, start, end, limit), 2,
          venue::Paging::kOldestFirst};
}

// --- USD-M --------------------------------------------------------------------------------------

constexpr venue::IntervalName kUsdmIntervals[] = {
    {"1m", "1m"}, {"3m", "3m"}, {"5m", "5m"},   {"15m", "15m"}, {"30m", "30m"},
    {"1h", "1h"}, {"2h", "2h"}, {"4h", "4h"},   {"6h", "6h"},   {"8h", "8h"},
    {"12h", "12h"}, {"1d", "1d"}, {"3d", "3d"}, {"1w", "1w"},   {"1M", "1M"},
};

std::unique_ptr<venue::WsProtocol> make_usdm_ws(std::size_t max_bytes) {
  // Since 2026-04 market streams live on the /market route; the unrouted URL connects and then
  // sends nothing (docs/design.md, "Venues").
  return std::make_unique<Ws>("/market/stream", kUsdmSpec.limits.max_topics_per_request, max_bytes);
}

venue::KlinesRequest usdm_klines(std::string_view symbol, std::string_view interval,
                                 std::int64_t start, std::int64_t end, int limit, std::int64_t) {
  return {klines_target("/fapi/v1/klines", symbol, interval, start, end, limit),
          usdm_klines_weight(limit), venue::Paging::kOldestFirst};
}

}  // namespace

int usdm_klines_weight(int limit) noexcept {
  if (limit < 100) return 1;
  if (limit < 500) return 2;
  if (limit <= 1000) return 5;
  return 10;
}

const venue::Spec kSpotSpec = {
    /*name=*/"binance",
    /*default_ws_url=*/"wss://stream.binance.com:9443",
    /*default_rest_url=*/"https://api.binance.com",
    /*rest_reset_header=*/"",
    /*limits=*/
    {
        /*max_streams_per_connection=*/1024,
        /*max_topics_per_request=*/100,
        // Counts every incoming frame: SUBSCRIBE-like JSON, but also our pings and pongs, so
        // the default leaves room for one.
        /*max_control_msgs_per_s=*/5,
        /*default_control_msgs_per_s=*/4,
        /*max_connect_attempts=*/300,
        /*connect_window_ms=*/5 * 60'000,
        /*connection_lifetime_ms=*/24 * 3'600'000,
        /*heartbeat_ms=*/0,  // the server pings every 20 s, pong within 1 minute
        /*pong_deadline_ms=*/60'000,
        /*kline_push_ms=*/2'000,  // 1'000 for 1s bars
        /*event_time=*/true,
        /*rest_budget=*/6000,
        /*rest_window_ms=*/60'000,
        /*max_klines_per_request=*/1000,
        /*ban_default_ms=*/120'000,
    },
    /*intervals=*/kSpotIntervals,
    /*interval_count=*/std::size(kSpotIntervals),
    /*make_ws=*/&make_spot_ws,
    /*rest=*/{&spot_klines, &classify, &parse_klines, "/api/v3/time", 1, &server_time},
};

const venue::Spec kUsdmSpec = {
    /*name=*/"binance-usdm",
    /*default_ws_url=*/"wss://fstream.binance.com",
    /*default_rest_url=*/"https://fapi.binance.com",
    /*rest_reset_header=*/"",
    /*limits=*/
    {
        // 1024 in the docs, 200 on mirrors: design for 200.
        /*max_streams_per_connection=*/200,
        /*max_topics_per_request=*/50,
        /*max_control_msgs_per_s=*/10,
        /*default_control_msgs_per_s=*/8,
        /*max_connect_attempts=*/300,
        /*connect_window_ms=*/5 * 60'000,
        /*connection_lifetime_ms=*/24 * 3'600'000,
        /*heartbeat_ms=*/0,  // the server pings every 3 minutes, pong within 10
        /*pong_deadline_ms=*/600'000,
        /*kline_push_ms=*/250,
        /*event_time=*/true,
        /*rest_budget=*/2400,
        /*rest_window_ms=*/60'000,
        /*max_klines_per_request=*/1500,
        /*ban_default_ms=*/120'000,
    },
    /*intervals=*/kUsdmIntervals,
    /*interval_count=*/std::size(kUsdmIntervals),
    /*make_ws=*/&make_usdm_ws,
    /*rest=*/{&usdm_klines, &classify, &parse_klines, "/fapi/v1/time", 1, &server_time},
};

}  // namespace mdfeed::binance
