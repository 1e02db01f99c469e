#!/usr/bin/python3
"""Python read latency: mdfeed.get_bars / get_price over a live ring vs the same bars from Redis.

    /usr/bin/python3 bench/python/bench_get_price.py [--tool PATH] [--runs 5] [--calls 20000]

Sets everything up itself, in one run: the C++ ring_writer_tool (a live writer holding 1000
closed 1m bars plus a forming one, in a temporary shm dir) and a private redis-server on a free
127.0.0.1 port (--save '' --appendonly no) holding the same bars the way cryptofeed's Redis
backend stores candles (CandlesRedis: a sorted set per feed/symbol, one JSON document per bar,
scored by the bar start). Every operation is timed call by call with perf_counter_ns; the table
shows the median over runs of each run's median, and the p99 of all calls.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "client" / "python"))  # the source tree's mdfeed

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import redis  # noqa: E402

import mdfeed  # noqa: E402

SYMBOL, COUNT, BARS = "BTCUSDT", 20, 1000
REDIS_KEY = "candles-BINANCE-BTC-USDT"  # cryptofeed: f"{key}-{exchange}-{symbol}"
READY_TIMEOUT_S = 15.0


def find_tool(explicit: str | None) -> str:
    for candidate in [explicit, os.environ.get("MDFEED_RING_WRITER_TOOL"),
                      *map(str, sorted(REPO.glob("build*/tests/python/ring_writer_tool")))]:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    sys.exit("ring_writer_tool not found: build target ring_writer_tool or pass --tool")


def start_writer(tool: str, shm_dir: str) -> subprocess.Popen:
    """A live writer (heartbeating) that exits when its stdin closes."""
    proc = subprocess.Popen([tool, "--dir", shm_dir, "--closed", str(BARS), "--capacity", "4096",
                             "--forming", "--values", "tricky", "--hold", "--max-ms", "3600000"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    data, deadline = b"", time.monotonic() + READY_TIMEOUT_S
    while b"READY" not in data and time.monotonic() < deadline:
        if select.select([proc.stdout], [], [], 0.5)[0]:
            chunk = os.read(proc.stdout.fileno(), 1 << 20)
            if not chunk:
                break
            data += chunk
    if b"READY" not in data:
        proc.kill()
        sys.exit("ring_writer_tool did not become ready")
    return proc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(work_dir: str) -> tuple[subprocess.Popen, redis.Redis]:
    server = shutil.which("redis-server") or sys.exit("redis-server not installed")
    port = free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", work_dir, "--daemonize", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            if client.ping():
                return proc, client
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("redis-server did not start")


def load_redis(client: redis.Redis, bars: np.ndarray) -> None:
    """One JSON candle per bar in a sorted set scored by its start, as cryptofeed's CandlesRedis
    does (its dict has no quote volume; ours adds it so both paths build the same frame)."""
    members = {}
    for b in bars:
        candle = {"exchange": "BINANCE", "symbol": "BTC-USDT",
                  "start": int(b["open_time_ms"]) / 1000, "stop": int(b["close_time_ms"]) / 1000,
                  "interval": "1m", "trades": int(b["trades"]), "open": float(b["open"]),
                  "close": float(b["close"]), "high": float(b["high"]), "low": float(b["low"]),
                  "volume": float(b["volume"]), "quote_volume": float(b["quote_volume"]),
                  "closed": bool(b["flags"] & 1), "timestamp": int(b["close_time_ms"]) / 1000,
                  "receipt_timestamp": int(b["close_time_ms"]) / 1000}
        members[json.dumps(candle)] = candle["start"]
    client.delete(REDIS_KEY)
    client.zadd(REDIS_KEY, members)


def redis_get_price(client: redis.Redis, count: int) -> pd.DataFrame:
    """The last `count` candles from the sorted set, as get_price's DataFrame."""
    candles = [json.loads(m) for m in client.zrange(REDIS_KEY, -count, -1)]
    index = pd.DatetimeIndex(np.array([round(c["start"] * 1000) for c in candles],
                                      dtype="datetime64[ms]"), tz="UTC", name="open_time")
    columns = {name: np.array([c[name] for c in candles], dtype=np.float64)
               for name in ("open", "high", "low", "close", "volume", "quote_volume")}
    columns["trades"] = np.array([c["trades"] for c in candles], dtype=np.int64)
    columns["closed"] = np.array([c["closed"] for c in candles], dtype=bool)
    return pd.DataFrame(columns, index=index)


def time_calls(fn, calls: int) -> np.ndarray:
    """Per-call latencies in microseconds (after a warm-up)."""
    for _ in range(min(1000, calls)):
        fn()
    out = np.empty(calls)
    clock = time.perf_counter_ns
    for i in range(calls):
        t0 = clock()
        fn()
        out[i] = clock() - t0
    return out / 1000.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tool", help="path to ring_writer_tool")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--calls", type=int, default=20000, help="timed calls per run (redis: /4)")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="mdfeed-bench-py.")
    writer = redis_proc = None
    try:
        writer = start_writer(find_tool(args.tool), work)
        redis_proc, client = start_redis(work)
        load_redis(client, mdfeed.get_bars(SYMBOL, BARS, shm_dir=work))
        # Same bars, same frame, whichever way they were read.
        pd.testing.assert_frame_equal(mdfeed.get_price(SYMBOL, COUNT, shm_dir=work),
                                      redis_get_price(client, COUNT))

        ops = {
            "get_bars(count=20): zero-copy view": (
                lambda: mdfeed.get_bars(SYMBOL, COUNT, shm_dir=work), args.calls, "≤ 10 µs"),
            "get_price(count=20): DataFrame": (
                lambda: mdfeed.get_price(SYMBOL, COUNT, shm_dir=work), args.calls, "≤ 300 µs"),
            "redis-py ZRANGE 20 + JSON + same DataFrame": (
                lambda: redis_get_price(client, COUNT), max(1000, args.calls // 4), "—"),
        }
        medians = {name: [] for name in ops}
        samples = {name: [] for name in ops}
        for _ in range(args.runs):
            for name, (fn, calls, _) in ops.items():
                t = time_calls(fn, calls)
                medians[name].append(float(np.median(t)))
                samples[name].append(t)

        print(f"Python {sys.version.split()[0]}, numpy {np.__version__}, pandas {pd.__version__}, "
              f"redis-py {redis.__version__}; {args.runs} runs\n")
        print("| operation | median | p99 | target |\n|---|---|---|---|")
        for name, (_, _, target) in ops.items():
            med = statistics.median(medians[name])
            p99 = float(np.percentile(np.concatenate(samples[name]), 99))
            print(f"| {name} | {med:.1f} µs | {p99:.1f} µs | {target} |")
        names = list(ops)
        ratio = statistics.median(medians[names[2]]) / statistics.median(medians[names[1]])
        print(f"\nRedis path / get_price: {ratio:.1f}× (same 20 bars, same DataFrame)")
        print("per-run medians (µs): " + "; ".join(
            f"{n.split(':')[0]}: " + ", ".join(f"{m:.1f}" for m in medians[n]) for n in names))
    finally:
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(timeout=10)
        if writer is not None:
            writer.stdin.close()
            writer.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
