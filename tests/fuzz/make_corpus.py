#!/usr/bin/env python3
"""Writes the text seed corpora of the fuzz targets (kline_parser, rest_klines, config) from the
real captures in fixtures/binance and the configs in config/, plus hand-made edge cases.

    tests/fuzz/make_corpus.py            # rewrites tests/fuzz/corpus/{kline_parser,rest_klines,config}

Deterministic, so a rerun changes nothing unless the inputs did. Files named crash-* are
regression inputs and are never touched. The ring_reader seeds are binary and come from
fuzz_make_ring_corpus (built with the tests).
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")
CAPTURES = ["BINANCE.ws.1.0", "BINANCE_US.ws.1.0", "BINANCE_FUTURES.ws.1.0", "BINANCE_DELIVERY.ws.1.0"]
MAX_SEED_BYTES = 4096


def payloads(capture):
    """Payloads of a capture: first line is the URL, then `EPOCH: PAYLOAD`."""
    with open(os.path.join(ROOT, "fixtures", "binance", capture), encoding="utf-8") as f:
        next(f)
        for line in f:
            line = line.rstrip("\n")
            if line:
                yield line.split(": ", 1)[1]


def stream_type(p):
    try:
        return json.loads(p)["stream"].split("@", 1)[1]
    except (ValueError, KeyError, IndexError):
        return ""


def reset(target):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    for name in os.listdir(d):
        if not name.startswith("crash-"):
            os.remove(os.path.join(d, name))
    return d


def write(d, name, text):
    data = text.encode("utf-8") if isinstance(text, str) else text
    assert len(data) <= MAX_SEED_BYTES, (name, len(data))
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def compact(obj):
    return json.dumps(obj, separators=(",", ":"))


def kline_corpus():
    d = reset("kline_parser")
    klines, closed = [], []
    for cap in CAPTURES:
        tag = cap.split(".")[0].lower()
        seen = {}
        for p in payloads(cap):
            t = stream_type(p)
            if t.startswith("kline_"):
                (closed if '"x":true' in p else klines).append((tag, p))
            elif t not in seen and len(p) <= 1500:
                seen[t] = p
        for t, p in sorted(seen.items()):
            write(d, f"capture-{tag}-{t.replace('@', '-')}", p)
    # Two live updates per venue and three closing updates (of the five captured).
    per_venue = {}
    for tag, p in klines:
        if per_venue.setdefault(tag, 0) < 2:
            per_venue[tag] += 1
            write(d, f"capture-{tag}-kline-{per_venue[tag]}", p)
    for i, (tag, p) in enumerate(closed[:3]):
        write(d, f"capture-{tag}-kline-closed-{i}", p)

    env = json.loads(closed[0][1])
    ev = env["data"]
    k = ev["k"]
    write(d, "raw-event-kline", compact(ev))
    write(d, "raw-event-depth", '{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]}')
    write(d, "raw-event-escaped-type", '{"e":"kl\\u0069ne","E":1,"k":' + compact(k) + "}")
    write(d, "pretty-kline", json.dumps(env, indent=2))
    write(d, "data-before-stream", compact({"data": ev, "stream": env["stream"]}))
    write(d, "reordered-k-fields", compact({**env, "data": {**ev, "k": dict(reversed(list(k.items())))}}))
    write(d, "escaped-stream-name", compact(env).replace("@kline_1m", "\\u0040kline_1m", 1))
    full = compact(env)
    write(d, "truncated-half", full[: len(full) // 2])
    write(d, "truncated-last-brace", full[:-1])
    write(d, "truncated-in-k", full[: full.index('"x"')])
    write(d, "trailing-content", full + "}")
    write(d, "trailing-second-object", full + full)
    for field in ("E", "k"):
        write(d, f"missing-{field}", compact({**env, "data": {kk: v for kk, v in ev.items() if kk != field}}))
    for field in ("t", "o", "n", "x", "Q"):
        write(d, f"missing-k-{field}", compact({**env, "data": {**ev, "k": {kk: v for kk, v in k.items() if kk != field}}}))
    write(d, "price-as-number", compact({**env, "data": {**ev, "k": {**k, "o": 13.7}}}))
    write(d, "trades-negative", compact({**env, "data": {**ev, "k": {**k, "n": -1}}}))
    write(d, "time-as-string", compact({**env, "data": {**ev, "k": {**k, "t": "1633998240000"}}}))
    write(d, "price-exponent", compact({**env, "data": {**ev, "k": {**k, "c": "1e308", "h": "1e309"}}}))
    write(d, "k-not-object", compact({**env, "data": {**ev, "k": []}}))
    write(d, "kline-stream-depth-event", compact({**env, "data": {"e": "depthUpdate", "E": 1, "b": []}}))
    write(d, "control-result-null", '{"result":null,"id":1}')
    write(d, "control-result-list", '{"result":["btcusdt@kline_1m"],"id":7}')
    write(d, "control-error-object", '{"error":{"code":2,"msg":"Invalid request: unknown variant"},"id":3}')
    write(d, "control-code-msg", '{"code":2,"msg":"Invalid request: request ID must be an unsigned integer","id":null}')
    write(d, "control-id-string", '{"result":null,"id":"x"}')
    write(d, "shutdown-top", '{"e":"serverShutdown","E":1633998301755}')
    write(d, "shutdown-data", '{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1}}')
    write(d, "shutdown-event", '{"event":{"e":"serverShutdown","E":1}}')
    write(d, "not-object-array", "[1,2,3]")
    write(d, "empty-object", "{}")
    write(d, "deep-nesting", '{"a":' * 40 + "1" + "}" * 40)
    write(d, "unicode-symbol", compact({**env, "data": {**ev, "k": {**k, "s": "\u00e9\u4e2d"}}}))


def rest_row(k, t):
    return [t, k["o"], k["h"], k["l"], k["c"], k["v"], t + 59999, k["q"], k["n"], k["V"], k["Q"], "0"]


def rest_corpus():
    d = reset("rest_klines")
    ks = []
    for cap in CAPTURES:
        for p in payloads(cap):
            if stream_type(p).startswith("kline_"):
                ks.append(json.loads(p)["data"]["k"])
    t0 = 1633998240000
    rows = [rest_row(k, t0 + 60000 * i) for i, k in enumerate(ks[:12])]
    write(d, "valid-1-row", compact(rows[:1]))
    write(d, "valid-3-rows", compact(rows[:3]))
    write(d, "valid-12-rows", compact(rows))
    write(d, "valid-empty", "[]")
    write(d, "valid-pretty", json.dumps(rows[:2], indent=1))
    write(d, "valid-11-columns", compact([r[:11] for r in rows[:2]]))
    write(d, "valid-13-columns", compact([r + [{"x": [1]}] for r in rows[:2]]))
    write(d, "error-invalid-symbol", '{"code":-1121,"msg":"Invalid symbol."}')
    write(d, "error-weight", '{"code":-1003,"msg":"Too much request weight used; current limit is 6000 request weight per 1 MINUTE."}')
    write(d, "error-no-code", '{"msg":"oops"}')
    write(d, "error-code-string", '{"code":"-1121","msg":"x"}')
    write(d, "error-msg-escaped", '{"code":-1100,"msg":"Illegal characters found in parameter \'symbol\'; legal range is \'^[A-Z0-9-_.]{1,20}$\'.\\u0000"}')
    body = compact(rows[:3])
    for cut in (1, len(body) // 3, body.index('","') + 2, len(body) - 1):
        write(d, f"truncated-{cut}", body[:cut])
    write(d, "not-ascending", compact([rows[1], rows[0]]))
    write(d, "duplicate-open-time", compact([rows[0], rows[0]]))
    write(d, "10-columns", compact([rows[0][:10]]))
    write(d, "row-not-array", '[{"t":1}]')
    write(d, "price-as-number", compact([[t0, 1.5] + rows[0][2:]]))
    write(d, "time-as-string", compact([[str(t0)] + rows[0][1:]]))
    write(d, "trades-negative", compact([rows[0][:8] + [-5] + rows[0][9:]]))
    write(d, "trades-float", compact([rows[0][:8] + [5.5] + rows[0][9:]]))
    write(d, "time-int64-overflow", compact([[9223372036854775808] + rows[0][1:]]))
    write(d, "trailing-garbage", body + "x")
    write(d, "two-arrays", body + body)
    write(d, "scalar-null", "null")
    write(d, "scalar-string", '"[]"')
    write(d, "scalar-number", "123")
    write(d, "server-time", '{"serverTime":1499827319559}')
    write(d, "server-time-float", '{"serverTime":1.5e12}')


MINIMAL = """\
feeds:
  - name: binance
    exchange: binance
    ws_url: wss://stream.binance.com:9443
    rest_url: https://api.binance.com
    symbols: [BTCUSDT]
    intervals: [1m]
"""

FULL = """\
shm:
  dir: /dev/shm/mdfeed/
  capacity: 65536
  heartbeat_ms: 250
log:
  level: debug
metrics:
  listen: 127.0.0.1:9464
feeds:
  - name: spot
    exchange: binance
    ws_url: wss://stream.binance.com:9443/
    rest_url: https://api.binance.com/
    ca_file: ""
    symbols: [BTCUSDT, ETHUSDT, SOLUSDT]
    intervals: [1s, 1m, 1h, 1d, 1w, 1M]
    backfill_bars: 65535
    stale_after_s: 2.5
    close_grace_s: 0
    max_streams_per_conn: 200
    rotate_after_s: 86340
    max_message_bytes: 65536
    ping_interval_s: 1
    pong_timeout_s: 2
    reconnect_min_ms: 1
    reconnect_max_ms: 1
    rest_weight_per_min: 1200
    max_control_msgs_per_s: 5
    rest_timeout_s: 0.5
  - name: us
    exchange: binance
    ws_url: wss://stream.binance.us:9443
    rest_url: https://api.binance.us
    symbols:
      - BTCUSD
    intervals:
      - 5m
"""


def config_corpus():
    d = reset("config")
    for name in sorted(os.listdir(os.path.join(ROOT, "config"))):
        if name.endswith(".yaml"):
            with open(os.path.join(ROOT, "config", name), encoding="utf-8") as f:
                write(d, "repo-" + name[:-5], f.read())
    write(d, "minimal", MINIMAL)
    write(d, "full", FULL)
    write(d, "flow-style", '{feeds: [{name: b, exchange: binance, ws_url: "wss://h:1", '
                           'rest_url: "https://h", symbols: [A], intervals: [1m]}], shm: {capacity: 64}}\n')
    write(d, "anchors-merge", "x: &feed\n  exchange: binance\n  ws_url: wss://h\n  rest_url: https://h\n"
                              "  symbols: [BTCUSDT]\n  intervals: [1m]\nfeeds:\n  - <<: *feed\n    name: a\n"
                              "  - <<: *feed\n    name: b\n")
    write(d, "alias-scalar", "shm:\n  capacity: &c 128\n" + MINIMAL.replace("symbols: [BTCUSDT]", "symbols: [*c]"))
    write(d, "duplicate-key", "shm:\n  capacity: 64\n  capacity: 128\n" + MINIMAL)
    write(d, "duplicate-feed", MINIMAL + MINIMAL.split("\n", 1)[1])
    write(d, "unknown-key-typo", "shm:\n  capacty: 64\n" + MINIMAL)
    write(d, "wrong-types", "shm: [1, 2]\nlog: {level: [info]}\n" + MINIMAL.replace("symbols: [BTCUSDT]", "symbols: BTCUSDT"))
    write(d, "bad-capacity", "shm:\n  capacity: 100\n" + MINIMAL)
    write(d, "capacity-numbers", "shm:\n  capacity: 0x40\n  heartbeat_ms: 1e2\n" + MINIMAL)
    write(d, "backfill-too-big", "shm:\n  capacity: 64\n" + MINIMAL + "    backfill_bars: 64\n")
    write(d, "pong-before-ping", MINIMAL + "    ping_interval_s: 20\n    pong_timeout_s: 20.5\n")
    write(d, "backoff-reversed", MINIMAL + "    reconnect_min_ms: 500\n    reconnect_max_ms: 499\n")
    write(d, "nan-inf", MINIMAL + "    stale_after_s: .nan\n    close_grace_s: .inf\n    rest_timeout_s: -.inf\n")
    write(d, "negative-huge", MINIMAL + "    backfill_bars: -1\n    max_message_bytes: 99999999999999999999\n")
    write(d, "plain-ws-url", MINIMAL.replace("wss://", "ws://").replace("https://", "http://"))
    write(d, "url-query-port", MINIMAL.replace("wss://stream.binance.com:9443", "wss://h:99999/x?y#z"))
    write(d, "lowercase-dup-symbols", MINIMAL.replace("[BTCUSDT]", "[btcusdt, BTCUSDT, BTCUSDT]"))
    write(d, "bad-intervals", MINIMAL.replace("[1m]", "[1m, 2m, 1M, 1m, '']"))
    write(d, "relative-shm-dir", "shm:\n  dir: dev/shm\n" + MINIMAL)
    write(d, "root-shm-dir", "shm:\n  dir: ///\n" + MINIMAL)
    write(d, "ca-file-relative", MINIMAL + "    ca_file: no/such/ca.pem\n")
    write(d, "unknown-exchange", MINIMAL.replace("exchange: binance", "exchange: kraken"))
    write(d, "feeds-empty", "feeds: []\n")
    write(d, "empty", "")
    write(d, "null-doc", "~\n")
    write(d, "multi-doc", MINIMAL + "---\n" + MINIMAL)
    write(d, "tab-indent", MINIMAL.replace("  - name", "\t- name"))
    write(d, "tags", "shm: !!map\n  capacity: !!str 64\n  dir: !!binary aGVsbG8=\n" + MINIMAL)
    write(d, "quoted-unicode", 'log:\n  level: "inf\\u006f"\nmetrics:\n  listen: "[::1]:9464"\n' + MINIMAL)
    write(d, "deep-nesting", "feeds: " + "[" * 30 + "]" * 30 + "\n")
    write(d, "unterminated", 'feeds:\n  - name: "binance\n    exchange: [binance\n')


def main():
    kline_corpus()
    rest_corpus()
    config_corpus()
    for t in ("kline_parser", "rest_klines", "config"):
        d = os.path.join(CORPUS, t)
        files = os.listdir(d)
        size = sum(os.path.getsize(os.path.join(d, f)) for f in files)
        print(f"{t}: {len(files)} files, {size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
