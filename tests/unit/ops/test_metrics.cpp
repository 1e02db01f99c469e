// Prometheus text format: an exact page for a small snapshot, and a grammar check (HELP/TYPE
// before samples, families contiguous, no duplicate series, escaped labels) for a large one.
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <sstream>
#include <string>

#include "ops/metrics.hpp"

using namespace mdfeed::status;
using mdfeed::ops::escape_label_value;
using mdfeed::ops::format_prometheus;

namespace {

constexpr std::uint64_t kSec = 1'000'000'000ULL;
constexpr std::uint64_t kNow = 5000 * kSec;

Snapshot small() {
  Snapshot s;
  s.daemon.version = "0.1.0";
  s.daemon.instance_id = 0xabc;
  s.daemon.start_ms = 1'700'000'000'000;
  s.daemon.start_mono_ns = kNow - 90 * kSec;
  ConnectionInfo c;
  c.feed = "binance";
  c.id = 0;
  c.state = ConnState::kConnected;
  c.reconnects = 2;
  c.messages = 1000;
  s.connections = {c};
  StreamInfo st;
  st.feed = "binance";
  st.symbol = "BTCUSDT";
  st.interval = "1m";
  st.state = StreamState::kLive;
  st.last_update_ns = kNow - 1500 * 1'000'000ULL;
  st.closed_bars = 10;
  st.gaps_filled = 1;
  st.late_closes = 2;
  st.dropped = 3;
  st.bad_messages = 4;
  st.explicit_gaps = 5;
  s.streams = {st};
  return s;
}

// A hand-written recogniser for the text format's lines (std::regex trips a GCC 12
// -Wmaybe-uninitialized false positive under the sanitizer presets, and recurses per char).
bool name_char(char c, bool first) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
  return alpha || (!first && c >= '0' && c <= '9');
}

// Consumes a metric (or, with colon = false, label) name at line[pos].
std::string take_name(const std::string& line, std::size_t& pos, bool colon = true) {
  const std::size_t start = pos;
  while (pos < line.size() && name_char(line[pos], pos == start) && (colon || line[pos] != ':'))
    ++pos;
  return line.substr(start, pos - start);
}

// Consumes {k="v",...} with only \\, \" and \n escapes; returns false on any deviation.
bool take_labels(const std::string& line, std::size_t& pos) {
  if (pos >= line.size() || line[pos] != '{') return true;  // labels are optional
  ++pos;
  for (;;) {
    if (take_name(line, pos, false).empty()) return false;
    if (line.compare(pos, 2, "=\"") != 0) return false;
    pos += 2;
    while (pos < line.size() && line[pos] != '"') {
      if (line[pos] == '\\') {
        if (pos + 1 >= line.size() || std::string("\\\"n").find(line[pos + 1]) == std::string::npos)
          return false;
        ++pos;
      }
      ++pos;
    }
    if (pos >= line.size()) return false;
    ++pos;  // closing quote
    if (pos < line.size() && line[pos] == ',') {
      ++pos;
      continue;
    }
    if (pos < line.size() && line[pos] == '}') {
      ++pos;
      return true;
    }
    return false;
  }
}

struct Family {
  std::string name;
  std::string type;
};

// Checks the exposition grammar line by line; returns the samples as "name{labels}" -> value.
std::map<std::string, double> check_grammar(const std::string& page) {
  std::map<std::string, double> samples;
  std::set<std::string> seen_families;
  Family current;
  std::string helped;
  std::istringstream in(page);
  std::string line;
  REQUIRE(!page.empty());
  REQUIRE(page.back() == '\n');
  while (std::getline(in, line)) {
    INFO(line);
    if (line.rfind("# HELP ", 0) == 0) {
      std::size_t pos = 7;
      helped = take_name(line, pos);
      REQUIRE(!helped.empty());
      REQUIRE(pos + 1 < line.size());
      REQUIRE(line[pos] == ' ');
      REQUIRE(seen_families.insert(helped).second);  // each family appears once
    } else if (line.rfind("# TYPE ", 0) == 0) {
      std::size_t pos = 7;
      current.name = take_name(line, pos);
      REQUIRE(current.name == helped);  // TYPE right after its HELP
      current.type = line.substr(pos);
      REQUIRE((current.type == " counter" || current.type == " gauge"));
      if (current.type == " counter") {
        REQUIRE(current.name.size() > 6);
        CHECK(current.name.substr(current.name.size() - 6) == "_total");
      }
    } else {
      std::size_t pos = 0;
      const std::string name = take_name(line, pos);
      REQUIRE(name == current.name);  // samples stay inside their declared family
      REQUIRE(take_labels(line, pos));
      const std::string series = line.substr(0, pos);
      REQUIRE(pos < line.size());
      REQUIRE(line[pos] == ' ');
      const std::string value = line.substr(pos + 1);
      REQUIRE(!value.empty());
      REQUIRE(value.find(' ') == std::string::npos);
      REQUIRE(samples.count(series) == 0);  // no duplicate series
      std::size_t used = 0;
      const double v = std::stod(value, &used);
      REQUIRE(used == value.size());
      samples[series] = v;
    }
  }
  return samples;
}

}  // namespace

TEST_CASE("exact page for a small snapshot") {
  const std::string want =
      "# HELP mdfeed_build_info Always 1; labels carry the daemon version and instance.\n"
      "# TYPE mdfeed_build_info gauge\n"
      "mdfeed_build_info{version=\"0.1.0\",instance=\"0000000000000abc\"} 1\n"
      "# HELP mdfeed_start_time_seconds Daemon start time, seconds since the epoch.\n"
      "# TYPE mdfeed_start_time_seconds gauge\n"
      "mdfeed_start_time_seconds 1700000000\n"
      "# HELP mdfeed_uptime_seconds Seconds since the daemon started.\n"
      "# TYPE mdfeed_uptime_seconds gauge\n"
      "mdfeed_uptime_seconds 90\n"
      "# HELP mdfeed_connection_up 1 if the connection is connected, else 0.\n"
      "# TYPE mdfeed_connection_up gauge\n"
      "mdfeed_connection_up{feed=\"binance\",conn=\"0\"} 1\n"
      "# HELP mdfeed_connection_state 1 for the connection's current state (label state); "
      "other states are absent.\n"
      "# TYPE mdfeed_connection_state gauge\n"
      "mdfeed_connection_state{feed=\"binance\",conn=\"0\",state=\"connected\"} 1\n"
      "# HELP mdfeed_connection_reconnects_total Reconnects of this WebSocket connection.\n"
      "# TYPE mdfeed_connection_reconnects_total counter\n"
      "mdfeed_connection_reconnects_total{feed=\"binance\",conn=\"0\"} 2\n"
      "# HELP mdfeed_connection_messages_total WebSocket messages received on this connection.\n"
      "# TYPE mdfeed_connection_messages_total counter\n"
      "mdfeed_connection_messages_total{feed=\"binance\",conn=\"0\"} 1000\n"
      "# HELP mdfeed_stream_age_seconds Seconds since the stream's last update (since daemon "
      "start if none yet).\n"
      "# TYPE mdfeed_stream_age_seconds gauge\n"
      "mdfeed_stream_age_seconds{feed=\"binance\",symbol=\"BTCUSDT\",interval=\"1m\"} 1.5\n"
      "# HELP mdfeed_stream_state 1 for the stream's current state (label state); other states "
      "are absent.\n"
      "# TYPE mdfeed_stream_state gauge\n"
      "mdfeed_stream_state{feed=\"binance\",symbol=\"BTCUSDT\",interval=\"1m\",state=\"live\"} 1\n"
      "# HELP mdfeed_stream_closed_bars_total Closed bars published to the ring.\n"
      "# TYPE mdfeed_stream_closed_bars_total counter\n"
      "mdfeed_stream_closed_bars_total{feed=\"binance\",symbol=\"BTCUSDT\",interval=\"1m\"} 10\n"
      "# HELP mdfeed_stream_gaps_filled_total Gaps filled over REST.\n"
      "# TYPE mdfeed_stream_gaps_filled_total counter\n"
      "mdfeed_stream_gaps_filled_total{feed=\"binance\",symbol=\"BTCUSDT\",interval=\"1m\"} 1\n"
      "# HELP mdfeed_stream_late_closes_total Late closing updates fetched over REST.\n"
      "# TYPE mdfeed_stream_late_closes_total counter\n"
      "mdfeed_stream_late_closes_total{feed=\"binance\",symbol=\"BTCUSDT\",interval=\"1m\"} 2\n"
      "# HELP mdfeed_stream_dropped_total Duplicate or stale updates dropped.\n"
      "# TYPE mdfeed_stream_dropped_total counter\n"
      "mdfeed_stream_dropped_total{feed=\"binance\",symbol=\"BTCUSDT\",interval=\"1m\"} 3\n"
      "# HELP mdfeed_stream_bad_messages_total Kline messages that failed to parse or validate.\n"
      "# TYPE mdfeed_stream_bad_messages_total counter\n"
      "mdfeed_stream_bad_messages_total{feed=\"binance\",symbol=\"BTCUSDT\",interval=\"1m\"} 4\n"
      "# HELP mdfeed_stream_explicit_gaps_total Periods the exchange has no bar for.\n"
      "# TYPE mdfeed_stream_explicit_gaps_total counter\n"
      "mdfeed_stream_explicit_gaps_total{feed=\"binance\",symbol=\"BTCUSDT\",interval=\"1m\"} 5\n";
  const std::string page = format_prometheus(small(), kNow);
  CHECK(page == want);
  CHECK(check_grammar(page).size() == 3 + 4 + 8);
}

TEST_CASE("grammar holds for many streams, every state and hostile label values") {
  Snapshot s = small();
  s.connections[0].feed = "we\"ird\\feed\nx";
  for (std::uint32_t i = 1; i < 4; ++i) {
    ConnectionInfo c = s.connections[0];
    c.id = i;
    c.state = static_cast<ConnState>(i);
    s.connections.push_back(c);
  }
  for (std::uint32_t i = 1; i < 60; ++i) {
    StreamInfo st = s.streams[0];
    st.symbol = "S" + std::to_string(i);
    st.state = static_cast<StreamState>(i % 6);
    st.last_update_ns = i % 2 ? 0 : kNow - i * kSec;  // some never updated
    s.streams.push_back(st);
  }
  const auto samples = check_grammar(format_prometheus(s, kNow));
  // 3 daemon + 4 connection families x 4 + 8 stream families x 60.
  CHECK(samples.size() == 3 + 4 * 4 + 8 * 60);
  CHECK(samples.at("mdfeed_connection_up{feed=\"we\\\"ird\\\\feed\\nx\",conn=\"1\"}") == 0);
  CHECK(samples.at("mdfeed_connection_up{feed=\"we\\\"ird\\\\feed\\nx\",conn=\"2\"}") == 1);
  // A stream that never updated is aged from daemon start (90 s ago).
  CHECK(samples.at(
            "mdfeed_stream_age_seconds{feed=\"binance\",symbol=\"S1\",interval=\"1m\"}") == 90);
  CHECK(samples.at(
            "mdfeed_stream_age_seconds{feed=\"binance\",symbol=\"S2\",interval=\"1m\"}") == 2);
}

TEST_CASE("label escaping: backslash, quote, newline and nothing else") {
  CHECK(escape_label_value("plain") == "plain");
  CHECK(escape_label_value("a\"b\\c\nd\te") == "a\\\"b\\\\c\\nd\te");
}

TEST_CASE("an empty daemon still yields a valid page") {
  const auto samples = check_grammar(format_prometheus(Snapshot{}, kNow));
  CHECK(samples.size() == 3);
}

TEST_CASE("the grammar checker itself rejects malformed label sets") {
  auto ok = [](const std::string& l) {
    std::size_t pos = 0;
    (void)take_name(l, pos);
    return take_labels(l, pos) && pos == l.size();
  };
  CHECK(ok("m{a=\"x\",b=\"y\\\"z\"}"));
  CHECK_FALSE(ok("m{a=\"x\\y\"}"));  // unknown escape
  CHECK_FALSE(ok("m{a=\"x\""));      // unterminated
  CHECK_FALSE(ok("m{a=x}"));         // unquoted
  CHECK_FALSE(ok("m{a:b=\"x\"}"));   // colon in a label name
}
