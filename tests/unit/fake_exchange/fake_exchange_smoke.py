#!/usr/bin/python3
"""End-to-end smoke test of mdfeed-fake-exchange over real TLS on loopback.

usage: fake_exchange_smoke.py --exe PATH --make-certs PATH [--workdir DIR]

Starts the fake exchange, then checks: TLS verification against the test CA, REST klines and
errors, combined and raw WebSocket streams (every x:true close equals the REST row for that bar,
closes are contiguous), SUBSCRIBE/LIST replies, the control-message rate limit, and the faults
fragment, garbage, oversize, skip-close, rest-429, shutdown-event, drop and outage; finally that
SIGTERM prints a stats line; then OKX, Bybit and USD-M over the real server (acks, pushes equal
REST, application pings, stall vs ignore-pings, idle closes, 1500-row USD-M klines, Bybit 10006);
and that a --tls10-only server is refused by a default client.
Needs python3-websocket (websocket-client).
"""
import argparse
import json
import os
import queue
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import websocket

KLINE_FIELDS = ("o", "h", "l", "c", "v", "q", "V", "Q")


class FakeExchange:
    def __init__(self, exe, certs, *extra):
        self.certs = certs
        args = [exe, "--cert", f"{certs}/server.pem", "--key", f"{certs}/server.key",
                "--ca", f"{certs}/ca.pem", "--port", "0", "--exit-on-stdin-eof", *extra]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=sys.stderr, text=True, bufsize=1)
        self.lines = queue.Queue()
        self.log = []
        threading.Thread(target=self._pump, daemon=True).start()
        ready = self.expect("ready port=")
        self.port = int(ready.split("=")[1])

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def expect(self, prefix, timeout=10.0):
        end = time.time() + timeout
        while time.time() < end:
            try:
                line = self.lines.get(timeout=max(0.01, end - time.time()))
            except queue.Empty:
                break
            self.log.append(line)
            if line.startswith(prefix):
                return line
        raise AssertionError(f"no '{prefix}' on stdout; saw: {self.log[-15:]}")

    def command(self, cmd):
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        self.expect("ok " + cmd)

    def ssl_context(self):
        return ssl.create_default_context(cafile=f"{self.certs}/ca.pem")

    def rest(self, path):
        url = f"https://localhost:{self.port}{path}"
        try:
            with urllib.request.urlopen(url, context=self.ssl_context(), timeout=5) as r:
                return r.status, dict(r.headers), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read().decode()

    def ws(self, path, timeout=5):
        return websocket.create_connection(f"wss://localhost:{self.port}{path}",
                                           sslopt={"ca_certs": f"{self.certs}/ca.pem"},
                                           timeout=timeout)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        stats = self.expect("stats ")
        assert self.proc.wait(timeout=10) == 0
        return json.loads(stats[len("stats "):])


def recv_json(ws):
    op, data = ws.recv_data()
    assert op == websocket.ABNF.OPCODE_TEXT, op
    return json.loads(data)


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok -", what)


def test_tls_and_rest(fx):
    with socket.create_connection(("127.0.0.1", fx.port)) as raw:
        with fx.ssl_context().wrap_socket(raw, server_hostname="localhost") as tls:
            check(tls.version() in ("TLSv1.2", "TLSv1.3"), "TLS verifies against the test CA")
    status, headers, body = fx.rest("/api/v3/time")
    check(status == 200 and "serverTime" in json.loads(body), "GET /api/v3/time")
    status, headers, body = fx.rest("/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=5")
    rows = json.loads(body)
    check(status == 200 and len(rows) == 5 and len(rows[0]) == 12, "klines rows")
    check(int(headers["x-mbx-used-weight-1m"]) >= 2, "x-mbx-used-weight-1m header")
    check([r[0] for r in rows] == sorted(r[0] for r in rows), "klines ascending")
    status, _, body = fx.rest("/api/v3/klines?symbol=DELISTED&interval=1m")
    check(status == 400 and json.loads(body)["code"] == -1121, "invalid symbol -> -1121")
    status, _, body = fx.rest("/api/v3/klines?symbol=BTCUSDT&interval=2m")
    check(status == 400 and json.loads(body)["code"] == -1120, "bad interval -> -1120")


def rest_rows_by_open(fx, symbol, interval, start):
    _, _, body = fx.rest(f"/api/v3/klines?symbol={symbol}&interval={interval}"
                         f"&startTime={start}&limit=1000")
    return {r[0]: r for r in json.loads(body)}


def test_streams_match_rest(fx):
    ws = fx.ws("/stream?streams=btcusdt@kline_1m/ethusdt@kline_3m")
    closes = {"btcusdt@kline_1m": [], "ethusdt@kline_3m": []}
    end = time.time() + 8  # speed 60: eight 1m bars
    while time.time() < end:
        m = recv_json(ws)
        if m["data"]["k"]["x"]:
            closes[m["stream"]].append(m["data"]["k"])
    ws.close()
    btc = closes["btcusdt@kline_1m"]
    check(len(btc) >= 5, f"{len(btc)} btcusdt 1m closes in 8 s at speed 60")
    check(all(b["t"] - a["t"] == 60000 for a, b in zip(btc, btc[1:])), "closes are contiguous")
    rows = rest_rows_by_open(fx, "BTCUSDT", "1m", btc[0]["t"])
    for k in btc:
        r = rows[k["t"]]
        ws_vals = [k[f] for f in KLINE_FIELDS] + [k["n"], k["T"]]
        rest_vals = [r[1], r[2], r[3], r[4], r[5], r[7], r[9], r[10], r[8], r[6]]
        assert ws_vals == rest_vals, (ws_vals, rest_vals)
    check(True, "every x:true close equals the REST row for that bar")
    check(len(closes["ethusdt@kline_3m"]) >= 1, "second stream closes too")


def test_subscribe_and_rate_limit(fx):
    ws = fx.ws("/ws")
    ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@kline_1m"], "id": 1}))
    reply = None
    while reply is None:
        m = recv_json(ws)
        if "id" in m:
            reply = m
    check(reply == {"result": None, "id": 1}, "SUBSCRIBE -> {result:null,id:1}")
    m = recv_json(ws)
    check(m.get("e") == "kline" and m["s"] == "BTCUSDT", "raw /ws events are unwrapped")
    ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 2}))
    while True:
        m = recv_json(ws)
        if m.get("id") == 2:
            break
    check(m["result"] == ["btcusdt@kline_1m"], "LIST_SUBSCRIPTIONS")
    for i in range(10):
        try:
            ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 10 + i}))
        except Exception:
            break
    fx.expect("ctrl-rate-exceeded")
    code = None
    try:
        while True:
            op, data = ws.recv_data(control_frame=True)
            if op == websocket.ABNF.OPCODE_CLOSE:
                code = int.from_bytes(data[:2], "big")
                break
    except Exception:
        pass
    check(code == 1008, "more than 5 messages/s -> close 1008")


def test_faults(fx):
    ws = fx.ws("/stream?streams=btcusdt@kline_1m")
    recv_json(ws)
    fx.command("fragment on")
    # Read raw frames: a kline must arrive as TEXT without FIN, then CONTINUATION frames.
    while True:
        frame = ws.recv_frame()
        if frame.opcode == websocket.ABNF.OPCODE_TEXT and not frame.fin:
            break
    parts, count = [frame.data], 1
    while not frame.fin:
        frame = ws.recv_frame()
        assert frame.opcode == websocket.ABNF.OPCODE_CONT, frame.opcode
        parts.append(frame.data)
        count += 1
    m = json.loads(b"".join(parts))
    check(count >= 2 and m["data"]["e"] == "kline",
          f"fragment on -> kline split over {count} frames, reassembles to valid JSON")
    fx.command("fragment off")

    fx.command("garbage 6")
    junk = 0
    for _ in range(200):
        op, data = ws.recv_data()
        try:
            k = json.loads(data)["data"]["k"]
            if isinstance(k.get("c"), str):
                continue  # a real kline interleaved
        except Exception:
            pass
        junk += 1
        if junk == 6:
            break
    check(junk == 6, "garbage 6 -> six junk frames")

    fx.command("oversize 100000")
    for _ in range(500):
        op, data = ws.recv_data()
        if len(data) == 100000:
            break
    check(len(data) == 100000, "oversize 100000 -> a 100000-byte message")

    fx.command("skip-close BTCUSDT 1m 1")
    skipped = int(fx.expect("close-suppressed", timeout=5).rsplit("open=", 1)[1])
    seen = []
    while len([t for t in seen if t > skipped]) < 2:
        m = recv_json(ws)
        if m["data"]["k"]["x"]:
            seen.append(m["data"]["k"]["t"])
    check(skipped not in seen and [t for t in seen if t > skipped] == [skipped + 60000, skipped + 120000],
          "skip-close: that bar's x:true never comes, the following closes do")
    status, _, body = fx.rest(f"/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime={skipped}&limit=1")
    check(json.loads(body)[0][0] == skipped, "REST still serves the suppressed bar")

    fx.command("rest-429 1 5")
    status, headers, body = fx.rest("/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1")
    check(status == 429 and headers.get("retry-after") == "5", "rest-429 -> 429 Retry-After: 5")
    status, _, _ = fx.rest("/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1")
    check(status == 200, "then 200 again")

    fx.command("shutdown-event")
    while True:
        m = recv_json(ws)
        if m.get("stream") == "!serverShutdown":
            break
    check(m["data"]["e"] == "serverShutdown", "shutdown-event -> serverShutdown")

    fx.command("drop")
    got_close_frame = False
    try:
        while True:
            op, _ = ws.recv_data(control_frame=True)
            if op == websocket.ABNF.OPCODE_CLOSE:
                got_close_frame = True
                break
    except Exception:
        pass
    check(not got_close_frame, "drop -> connection ends without a close frame")

    fx.command("outage 1")
    refused = False
    try:
        fx.ws("/stream?streams=btcusdt@kline_1m").recv_data()
    except Exception:
        refused = True
    check(refused, "outage -> new connections refused")
    fx.expect("outage end", timeout=5)
    ws = fx.ws("/stream?streams=btcusdt@kline_1m")
    check(recv_json(ws)["data"]["e"] == "kline", "after the outage connections work again")
    ws.close()


def test_tls10_only(exe, certs):
    fx = FakeExchange(exe, certs, "--tls10-only")
    try:
        refused = False
        try:
            with socket.create_connection(("127.0.0.1", fx.port)) as raw:
                fx.ssl_context().wrap_socket(raw, server_hostname="localhost")
        except ssl.SSLError:
            refused = True
        check(refused, "a default client refuses a TLS 1.0-only server")
    finally:
        fx.stop()


def recv_until(ws, pred, limit=200):
    for _ in range(limit):
        msg = ws.recv()
        if pred(msg):
            return msg
    raise AssertionError("expected message not seen")


def test_other_venues(exe, certs):
    """OKX, Bybit and USD-M over the real server: subscribe, pushes equal REST, application
    pings answered (also while stalled), ignore-pings, and the venues' idle close."""
    fx = FakeExchange(exe, certs, "--speed", "60", "--okx-idle-s", "1.5", "--bybit-idle-s", "1.5")
    try:
        # OKX: ack, then candle pushes; the closing push ("1") equals the REST history row.
        ws = fx.ws("/ws/v5/business")
        ws.send(json.dumps({"id": "1", "op": "subscribe",
                            "args": [{"channel": "candle1m", "instId": "BTC-USDT-SWAP"}]}))
        ack = json.loads(recv_until(ws, lambda m: "event" in m))
        check(ack["event"] == "subscribe" and ack["id"] == "1" and ack["connId"], "okx subscribe ack")
        closed = json.loads(recv_until(ws, lambda m: m.endswith('"1"]]}')))
        row = closed["data"][0]
        check(closed["arg"] == {"channel": "candle1m", "instId": "BTC-USDT-SWAP"} and
              all(isinstance(x, str) for x in row), "okx candle push, all strings")
        check(70_000 < float(row[1]) < 110_000, f"BTC-USDT-SWAP trades near 90,000: {row[1]}")
        _, _, body = fx.rest(f"/api/v5/market/history-candles?instId=BTC-USDT-SWAP&after={int(row[0]) + 1}&limit=1")
        check(json.loads(body)["data"][0] == row, "okx closing push equals the REST row")
        ws.send("ping")
        recv_until(ws, lambda m: m == "pong")
        check(True, "okx text ping -> pong")
        # Bybit: an idle connection without subscriptions is closed after --bybit-idle-s, and a
        # ping is answered (while not ignoring pings).
        bws = fx.ws("/v5/public/linear")
        bws.send(json.dumps({"op": "ping", "req_id": "9"}))
        pong = json.loads(recv_until(bws, lambda m: "pong" in m))
        check(pong["success"] and pong["op"] == "ping" and pong["req_id"] == "9", "bybit ping -> pong")
        bws.send(json.dumps({"req_id": "2", "op": "subscribe", "args": ["kline.1.ETHUSDT"]}))
        push = json.loads(recv_until(bws, lambda m: '"topic"' in m))
        check(push["topic"] == "kline.1.ETHUSDT" and 2_000 < float(push["data"][0]["close"]) < 4_000,
              "bybit kline push, ETH near 3,000")
        bws.close()
        idle = fx.ws("/v5/public/spot")
        fx.expect("idle-close", timeout=5)
        idle.close()
        check(True, "bybit idle connection closed")

        # USD-M routed URL carries the same kline payload as spot.
        uws = fx.ws("/market/stream?streams=btcusdt@kline_1m")
        msg = json.loads(recv_until(uws, lambda m: '"kline"' in m))
        check(msg["stream"] == "btcusdt@kline_1m" and msg["data"]["k"]["s"] == "BTCUSDT", "usdm /market/stream")
        uws.close()
        status, _, body = fx.rest("/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=1500")
        check(status == 200 and len(json.loads(body)) == 1500, "usdm klines serve 1500 rows")
        fx.command("rest-429 1 3")
        status, headers, body = fx.rest("/v5/market/kline?category=spot&symbol=BTCUSDT&interval=1")
        check(status == 200 and json.loads(body)["retCode"] == 10006 and
              "X-Bapi-Limit-Reset-Timestamp" in headers, "bybit rest-429 -> retCode 10006")

        # Last (stall and ignore-pings cannot be shortened): OKX keeps answering pings during a
        # stall; with pings ignored as well, the silent connection is closed (4004).
        ws.send("ping")
        recv_until(ws, lambda m: m == "pong")
        fx.command("stall 2")
        t_ping = time.monotonic()
        ws.send("ping")
        # Candle pushes queued before the stall may still be in flight: skip them; the pong
        # must come while the stall (2 s) still holds the data back.
        recv_until(ws, lambda m: m == "pong")
        check(time.monotonic() - t_ping < 2.0, "okx pong still answered during a stall")
        # ignore-pings: pings go unanswered, and with no data the connection is closed (4004).
        fx.command("ignore-pings 30")
        fx.command("stall 30")
        ws.send("ping")
        fx.expect("ping-ignored")
        fx.expect("idle-close")
        ended = False
        try:  # the close frame (4004) may be lost to the TCP teardown; the end is what counts
            for _ in range(10_000):
                op, _ = ws.recv_data(control_frame=True)
                if op == websocket.ABNF.OPCODE_CLOSE:
                    ended = True
                    break
        except websocket.WebSocketConnectionClosedException:
            ended = True
        check(ended, "okx connection closed after the idle time with pings unanswered")

    except Exception:
        fx.proc.kill()
        print("\n".join(fx.log[-20:]))
        raise
    stats = fx.stop()
    check(stats["pings_ignored"] >= 1 and stats["idle_closes"] >= 2, f"venue stats: {stats}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exe", required=True)
    ap.add_argument("--make-certs", required=True)
    ap.add_argument("--workdir")
    a = ap.parse_args()
    work = a.workdir or tempfile.mkdtemp(prefix="fake-exchange-smoke.")
    certs = os.path.join(work, "certs")
    subprocess.run([a.make_certs, certs], check=True)

    fx = FakeExchange(a.exe, certs, "--speed", "60", "--invalid-symbols", "DELISTED")
    try:
        check(fx.log[0] == "cert-check ok", "cert-check ok")
        test_tls_and_rest(fx)
        test_streams_match_rest(fx)
        test_subscribe_and_rate_limit(fx)
        test_faults(fx)
    except Exception:
        fx.proc.kill()
        raise
    stats = fx.stop()
    check(stats["conn_opened"] >= 4 and stats["rest_429"] >= 1 and stats["ctrl_rate_exceeded"] == 1,
          f"final stats line: {stats}")
    test_other_venues(a.exe, certs)
    test_tls10_only(a.exe, certs)
    print("all fake exchange smoke checks passed")


if __name__ == "__main__":
    main()
