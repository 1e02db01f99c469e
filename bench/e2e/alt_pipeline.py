#!/usr/bin/python3
"""The common alternative to mdfeed, for bench/e2e: Python + websocket-client + json.loads ->
Redis Streams -> a Python reader, the way cryptofeed's Redis backend publishes candles
(CandlesStream: XADD of the candle dict to "candles-<EXCHANGE>-<SYMBOL>"; readers XREAD).

    alt_pipeline.py publish --url wss://localhost:PORT/stream?streams=btcusdt@kline_1h
                            --ca CA.pem --redis-port P --seconds S [--out FILE]
    alt_pipeline.py read --redis-port P --seconds S --out FILE [--warmup-s 1]

The publisher is deliberately lean (synchronous, no asyncio queue, floats rather than Decimal,
one XADD per message): a faster alternative than cryptofeed itself, so the comparison is
conservative. The reader writes "seq send_ns recv_ns" lines like bench/e2e/e2e_reader, where
send_ns is the fake exchange's CLOCK_MONOTONIC stamp (--latency-probe) carried in the volume and
recv_ns is time.monotonic_ns() (CLOCK_MONOTONIC on Linux) when XREAD returns.
"""

from __future__ import annotations

import argparse
import json
import ssl
import sys
import time

import redis
import websocket

KEY = "candles-BINANCE-BTC-USDT"


def publish(a: argparse.Namespace) -> int:
    r = redis.Redis(host="127.0.0.1", port=a.redis_port)
    ws = websocket.create_connection(a.url, timeout=5,
                                     sslopt={"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": a.ca})
    start = time.monotonic_ns()
    warm_end = start + int(a.warmup_s * 1e9)
    end = start + int(a.seconds * 1e9)
    n = 0
    recv_samples = []
    while time.monotonic_ns() < end:
        try:
            raw = ws.recv()
        except websocket.WebSocketTimeoutException:
            continue
        now = time.monotonic_ns()
        msg = json.loads(raw)
        k = msg["data"]["k"]
        if a.out and now >= warm_end:  # the hop exchange -> this Python client, for reference
            recv_samples.append((k["n"], int(k["v"].split(".")[0]), now))
        candle = {  # cryptofeed's Candle.to_dict(numeric_type=float) fields
            "exchange": "BINANCE", "symbol": "BTC-USDT", "start": k["t"] / 1000,
            "stop": k["T"] / 1000, "interval": k["i"], "trades": k["n"],
            "open": float(k["o"]), "close": float(k["c"]), "high": float(k["h"]),
            "low": float(k["l"]), "volume": float(k["v"]), "closed": str(k["x"]),
            "timestamp": msg["data"]["E"] / 1000, "receipt_timestamp": time.time(),
        }
        r.xadd(KEY, candle, maxlen=100_000, approximate=True)
        n += 1
    ws.close()
    if a.out:
        with open(a.out, "w") as f:
            for x in recv_samples:
                f.write(f"{x[0]} {x[1]} {x[2]}\n")
    print(f"published={n}")
    return 0


def read(a: argparse.Namespace) -> int:
    r = redis.Redis(host="127.0.0.1", port=a.redis_port)
    start = time.monotonic_ns()
    warm_end = start + int(a.warmup_s * 1e9)
    end = start + int(a.seconds * 1e9)
    last_id = "$"
    out = []
    seen = 0
    while time.monotonic_ns() < end:
        got = r.xread({KEY: last_id}, count=1000, block=100)
        now = time.monotonic_ns()  # first thing after XREAD returned
        if not got:
            continue
        for _stream, entries in got:
            for eid, fields in entries:
                last_id = eid
                seen += 1
                if now >= warm_end:
                    out.append((int(fields[b"trades"]), int(float(fields[b"volume"])), now))
    with open(a.out, "w") as f:
        for s in out:
            f.write(f"{s[0]} {s[1]} {s[2]}\n")
    print(f"seen={seen} samples={len(out)}")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("publish")
    pp.add_argument("--url", required=True)
    pp.add_argument("--ca", required=True)
    pp.add_argument("--redis-port", type=int, required=True)
    pp.add_argument("--seconds", type=float, default=5)
    pp.add_argument("--warmup-s", type=float, default=1)
    pp.add_argument("--out", default="", help="also record exchange -> publisher recv samples")
    pr = sub.add_parser("read")
    pr.add_argument("--redis-port", type=int, required=True)
    pr.add_argument("--seconds", type=float, default=5)
    pr.add_argument("--warmup-s", type=float, default=1)
    pr.add_argument("--out", required=True)
    a = p.parse_args()
    return publish(a) if a.cmd == "publish" else read(a)


if __name__ == "__main__":
    sys.exit(main())
