#!/usr/bin/python3
"""Venue mix: one daemon with five feeds (binance, binance-usdm, okx, bybit-spot, bybit-linear),
60 streams each (20 symbols x [1m, 5m, 1h]) = 300 streams, against one fake exchange at real
speed (--speed 1) and each venue's real kline push period (--venue-update-ms):

  binance       2000 ms  (Binance spot docs: "Update Speed: 1000ms for 1s, 2000ms for the others")
  binance-usdm   250 ms  (USD-M futures docs: "Update Speed: 250ms")
  okx           1000 ms  (OKX documents no candle push period; about once a second is assumed)
  bybit-spot    1000 ms  (Bybit docs: "Push frequency: 1-60s"; the fastest end, an upper bound)
  bybit-linear  1000 ms

In the same run, on the same fake, a Binance-only daemon with 300 streams (100 symbols x 3) at
2000 ms: the figure bench/scale/run_scale.py measures, for comparison. Both daemons backfill
--backfill bars per stream, shm.capacity 4096.

Each repetition starts a fresh daemon per scenario; after every ring holds the backfill and
every ring has received a live update, plus --settle-s, it measures over --window-s: CPU (% of
a core, utime+stime from /proc/PID/stat), ring publishes per second (per feed), RSS and RSS
excluding the rings (bench/e2e/benchlib.py memory()). Medians over --reps. Writes
OUT/venue_mix.json.

    /usr/bin/python3 bench/scale/run_venue_mix.py --build build [--reps 3] [--window-s 24]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
import benchlib as bl  # noqa: E402

INTERVALS = ["1m", "5m", "1h"]
START_MS = 1_699_920_000_000  # the fake's default start: 2023-11-14T00:00Z

# feed/exchange name, fake venue name, real push period (ms), symbols (the fake's naming rules)
VENUES = [
    ("binance", "binance", 2000, [f"S{i:04d}USDT" for i in range(20)]),
    ("binance-usdm", "binance-usdm", 250, [f"S{i:04d}USDT" for i in range(20)]),
    ("okx", "okx", 1000, [f"S{i:04d}-USDT" for i in range(20)]),
    ("bybit-spot", "bybit", 1000, [f"S{i:04d}USDT" for i in range(20)]),
    ("bybit-linear", "bybit", 1000, [f"S{i:04d}USDT" for i in range(20)]),
]
BINANCE_ONLY = [("binance", "binance", 2000, [f"S{i:04d}USDT" for i in range(100)])]


def write_config(path: Path, shm: Path, port: int, certs: Path, feeds, backfill: int) -> Path:
    text = f"shm:\n  dir: {shm}\n  capacity: 4096\nlog:\n  level: warn\nfeeds:\n"
    for name, _, _, syms in feeds:
        text += (f"  - name: {name}\n    exchange: {name}\n"
                 f"    ws_url: wss://localhost:{port}\n    rest_url: https://localhost:{port}\n"
                 f"    ca_file: {certs / 'ca.pem'}\n"
                 f"    symbols: [{', '.join(syms)}]\n    intervals: [{', '.join(INTERVALS)}]\n"
                 f"    backfill_bars: {backfill}\n    stale_after_s: 30\n")
    path.write_text(text)
    return path


def measure(d: bl.Daemon, fx: bl.FakeExchange, shm: Path, rings: list[Path], window: float) -> dict:
    feeds = [r.parent.name for r in rings]
    s0, f0 = fx.stats(), bl.cpu_seconds(fx.pid)
    c0, t0, u0 = bl.cpu_seconds(d.pid), time.monotonic(), bl.update_counts(rings)
    time.sleep(window)
    c1, t1, u1 = bl.cpu_seconds(d.pid), time.monotonic(), bl.update_counts(rings)
    f1, s1 = bl.cpu_seconds(fx.pid), fx.stats()
    dt = t1 - t0
    per_feed: dict[str, float] = {}
    for feed, a, b in zip(feeds, u0, u1):
        per_feed[feed] = per_feed.get(feed, 0) + ((b - a) & 0xFFFFFFFF) / dt
    msgs = bl.u32_delta(u0, u1)
    sent = (s1.get("ws_messages_sent", 0) - s0.get("ws_messages_sent", 0)) if s0 and s1 else None
    return {"window_s": dt, "cpu_frac": (c1 - c0) / dt, "msgs_per_s": msgs / dt,
            "msgs_per_s_per_feed": per_feed,
            "cpu_us_per_msg": (c1 - c0) / msgs * 1e6 if msgs else None,
            "fake_sent_per_s": sent / dt if sent is not None else None,
            "fake_cpu_frac": (f1 - f0) / dt, **bl.memory(d.pid, shm), "load": bl.loadavg()}


def scenario(bins, certs: Path, fx: bl.FakeExchange, work: Path, name: str, feeds, backfill: int,
             window: float, settle: float, timeout: float) -> dict:
    shm = bl.shm_tempdir(f"mdfeed-mix-{name}-shm.")
    n = sum(len(f[3]) for f in feeds) * len(INTERVALS)
    res: dict = {"name": name, "streams": n, "load_before": bl.loadavg()}
    try:
        cfg = write_config(work / f"{name}.yaml", shm, fx.port, certs, feeds, backfill)
        t_start = time.monotonic()
        with bl.Daemon(bins, cfg, work, name=f"mdfeed-{name}") as d:
            rings = bl.wait_for_rings(shm, n, 60)

            def ready() -> bool:
                return (all(c >= backfill for c in bl.closed_counts(rings)) and
                        all(u > 0 for u in bl.update_counts(rings)))

            ok = bl.wait_until(ready, timeout, step=0.5)
            res["ready_s"] = time.monotonic() - t_start if ok else None
            if not ok:
                cc, uc = bl.closed_counts(rings), bl.update_counts(rings)
                raise bl.BenchError(f"{name}: not ready within {timeout}s: "
                                    f"{sum(c >= backfill for c in cc)}/{n} backfilled, "
                                    f"{sum(u > 0 for u in uc)}/{n} live (see {d.log_path})")
            time.sleep(settle)
            res.update(measure(d, fx, shm, rings, window))
            bl.log(f"  {name}: {n} streams, CPU {res['cpu_frac'] * 100:.2f}% of a core, "
                   f"{res['msgs_per_s']:.0f} msgs/s "
                   f"({', '.join(f'{k} {v:.0f}' for k, v in res['msgs_per_s_per_feed'].items())}), "
                   f"RSS {res['rss_kb'] / 1024:.1f} MB, excl. rings "
                   f"{res['rss_excl_rings_kb'] / 1024:.1f} MB (load {res['load'][0]:.2f})")
        res["daemon_rc"] = d.proc.returncode
        errors = [l for l in d.log_text().splitlines() if " error" in l.lower()]
        res["daemon_error_lines"] = errors[:20]
    finally:
        shutil.rmtree(shm, ignore_errors=True)
    return res


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", type=Path, required=True)
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--certs", type=Path, default=None)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--window-s", type=float, default=24.0)
    p.add_argument("--settle-s", type=float, default=5.0)
    p.add_argument("--backfill", type=int, default=100)
    a = p.parse_args()
    a.build = a.build.resolve()
    a.reps = max(1, min(a.reps, 10))
    a.window_s = max(4.0, min(a.window_s, 120.0))
    out = (a.out or (a.build / "bench-out")).resolve()
    out.mkdir(parents=True, exist_ok=True)
    bins = bl.binaries(a.build)
    certs = bl.make_certs((a.certs or (a.build / "bench-certs")).resolve())
    periods = sorted({(v[1], v[2]) for v in VENUES})
    fake_args = ["--speed", "1", "--update-ms", "2000",
                 "--venue-update-ms", ",".join(f"{v}={ms}" for v, ms in periods),
                 "--start-ms", str(START_MS), "--history-start-ms", str(START_MS - 60 * 86_400_000)]
    work = Path(tempfile.mkdtemp(prefix="mdfeed-venue-mix."))
    results: dict = {"fake_args": fake_args, "backfill": a.backfill, "window_s": a.window_s,
                     "venues": [{"feed": v[0], "update_ms": v[2], "symbols": len(v[3])}
                                for v in VENUES], "runs": {"mix": [], "binance_only": []}}
    bl.log(f"venue mix: fake {' '.join(fake_args)}")
    try:
        with bl.FakeExchange(bins, certs, work, fake_args) as fx:
            for rep in range(a.reps):
                bl.log(f"repetition {rep + 1}/{a.reps}")
                # Alternate the order so a drift in machine load does not favour one scenario.
                order = [("mix", VENUES), ("binance_only", BINANCE_ONLY)]
                if rep % 2:
                    order.reverse()
                for name, feeds in order:
                    results["runs"][name].append(scenario(bins, certs, fx, work, name, feeds,
                                                          a.backfill, a.window_s, a.settle_s, 120))
                    (out / "venue_mix.json").write_text(json.dumps(results, indent=1))
        summary = {}
        for name, runs in results["runs"].items():
            summary[name] = {
                "streams": runs[0]["streams"],
                "cpu_pct_median": bl.median([r["cpu_frac"] * 100 for r in runs]),
                "cpu_pct_runs": [round(r["cpu_frac"] * 100, 3) for r in runs],
                "msgs_per_s_median": bl.median([r["msgs_per_s"] for r in runs]),
                "cpu_us_per_msg_median": bl.median([r["cpu_us_per_msg"] for r in runs]),
                "rss_mb_median": bl.median([r["rss_kb"] / 1024 for r in runs]),
                "rss_excl_rings_mb_median": bl.median([r["rss_excl_rings_kb"] / 1024 for r in runs]),
                "rss_excl_rings_mb_runs": [round(r["rss_excl_rings_kb"] / 1024, 1) for r in runs],
                "rings_rss_mb_median": bl.median([r["shm_rss_kb"] / 1024 for r in runs]),
                "per_feed_msgs_per_s_median": {
                    f: bl.median([r["msgs_per_s_per_feed"].get(f) for r in runs])
                    for f in runs[0]["msgs_per_s_per_feed"]},
                "load_1m": [r["load"][0] for r in runs],
            }
        results["summary"] = summary
        (out / "venue_mix.json").write_text(json.dumps(results, indent=1))
        print(json.dumps(summary, indent=1))
        shutil.rmtree(work, ignore_errors=True)
    except Exception:
        bl.log(f"venue mix failed; logs kept in {work}")
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
