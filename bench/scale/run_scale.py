#!/usr/bin/python3
"""Scale: many streams against the fake exchange over TLS on loopback.

  startup  1000 symbols x [1m, 5m, 1h] = 3000 streams on 3 connections (max_streams_per_conn
           1000), backfill_bars 1000: time from daemon start to every ring holding >= 1000
           closed bars, with the fake exchange enforcing Binance's 6000/min REST weight (its
           429 counter must stay 0), next to the time the budget alone imposes.
  steady   the same daemon afterwards at the real rate (one update per stream per 2 s): CPU
           (utime+stime from /proc/PID/stat over a window), RSS and RSS excluding the rings
           (smaps_rollup Rss minus the Rss of the mappings of files under the shm dir), the
           shm footprint, and `mdfeed-ctl status` wall time.
  100x     a fresh daemon (backfill 0) with the fake at --update-ms 20: 100x the real rate.
  small    100 symbols x 3 intervals (the daemon issue's figure), backfill 1000, real rate.
  idle     1000 symbols x 3 intervals, connections up but no market data (the fake's update
           period is an hour; staleness is set longer): the daemon's own periodic cost.

Writes OUT/scale.json. Every wait is bounded.

    /usr/bin/python3 bench/scale/run_scale.py --build build [--window-s 20] [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
import benchlib as bl  # noqa: E402

INTERVALS = ["1m", "5m", "1h"]
REAL_UPDATE_MS = 2000
START_MS = 1_699_920_000_000  # the fake's default start: 2023-11-14T00:00Z
KLINES_WEIGHT = 2          # Binance: GET /api/v3/klines with limit 1000 (daemon/binance/venue.hpp)
VENUE_WEIGHT_PER_MIN = 6000
DAEMON_BUDGET_FRACTION = 0.8  # RestClient::Options::budget_fraction (daemon/core/rest_client.hpp)


def symbols(n: int) -> list[str]:
    return [f"S{i:04d}USDT" for i in range(n)]


def budget_time_s(streams: int, pages_per_stream: int = 1) -> dict:
    """Lower bound the REST budget puts on the backfill: the daemon spends at most
    budget_fraction x 6000 weight in any sliding minute."""
    weight = streams * pages_per_stream * KLINES_WEIGHT
    budget = VENUE_WEIGHT_PER_MIN * DAEMON_BUDGET_FRACTION
    # The first `budget` of weight goes at once; each further full budget needs another minute.
    minutes = max(0, math.ceil(weight / budget) - 1)
    return {"requests": streams * pages_per_stream, "weight": weight,
            "daemon_budget_per_min": budget, "venue_limit_per_min": VENUE_WEIGHT_PER_MIN,
            "budget_floor_s": 60.0 * minutes,
            "floor_at_full_venue_limit_s": 60.0 * max(0, math.ceil(weight / VENUE_WEIGHT_PER_MIN) - 1)}


def steady(d: bl.Daemon, fx: bl.FakeExchange, shm: Path, rings: list[Path], window: float,
           parts: int = 4) -> dict:
    """CPU over `parts` consecutive sub-windows (median and whole-window mean), msgs/s (ring
    publishes, and what the fake exchange sent meanwhile), memory."""
    fracs, rates = [], []
    s_start, f_start = fx.stats(), bl.cpu_seconds(fx.pid)
    c_start, t_start = bl.cpu_seconds(d.pid), time.monotonic()
    u_start = bl.update_counts(rings)
    for _ in range(parts):
        c0, t0, u0 = bl.cpu_seconds(d.pid), time.monotonic(), bl.update_counts(rings)
        time.sleep(window / parts)
        c1, t1, u1 = bl.cpu_seconds(d.pid), time.monotonic(), bl.update_counts(rings)
        fracs.append((c1 - c0) / (t1 - t0))
        rates.append(bl.u32_delta(u0, u1) / (t1 - t0))
    c_end, t_end = bl.cpu_seconds(d.pid), time.monotonic()
    msgs = bl.u32_delta(u_start, bl.update_counts(rings))
    f_end, s_end = bl.cpu_seconds(fx.pid), fx.stats()
    mem = bl.memory(d.pid, shm)
    sent = (s_end.get("ws_messages_sent", 0) - s_start.get("ws_messages_sent", 0)
            if s_start and s_end else None)
    return {"window_s": t_end - t_start, "cpu_frac_mean": (c_end - c_start) / (t_end - t_start),
            "cpu_frac_median_part": bl.median(fracs), "cpu_frac_parts": fracs,
            "msgs_per_s": msgs / (t_end - t_start), "msgs_per_s_parts": rates,
            "cpu_us_per_msg": (c_end - c_start) / msgs * 1e6 if msgs else None,
            "fake_sent_per_s": sent / (t_end - t_start) if sent is not None else None,
            "fake_cpu_frac": (f_end - f_start) / (t_end - t_start),
            **mem, "load": bl.loadavg()}


def ctl_status(bins, shm: Path, reps: int = 5) -> dict:
    ctl = bins.get("ctl")
    if not ctl or not Path(ctl).exists():
        return {"skipped": "mdfeed-ctl not built"}
    out = {}
    for variant, extra in (("text", []), ("json", ["--json"])):
        times, rc, size = [], None, 0
        for _ in range(reps):
            t0 = time.perf_counter()
            p = subprocess.run([str(ctl), "--shm-dir", str(shm), "status", *extra],
                               capture_output=True, timeout=60)
            times.append(time.perf_counter() - t0)
            rc, size = p.returncode, len(p.stdout)
        out[variant] = {"median_ms": bl.median(times) * 1000, "min_ms": min(times) * 1000,
                        "exit_code": rc, "stdout_bytes": size}
        if variant == "json":
            try:
                j = json.loads(p.stdout)
                out["json_streams"] = len(j.get("streams", []))
                out["json_healthy"] = j.get("healthy")
            except (ValueError, AttributeError):
                out["json_streams"] = None
    return out


def scenario(bins, certs: Path, name: str, n_symbols: int, update_ms: int, backfill: int,
             window: float, startup_timeout: float, with_ctl: bool) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"mdfeed-scale-{name}."))
    shm = bl.shm_tempdir(f"mdfeed-scale-{name}-shm.")
    n_streams = n_symbols * len(INTERVALS)
    res: dict = {"name": name, "symbols": n_symbols, "streams": n_streams, "update_ms": update_ms,
                 "backfill_bars": backfill, "load_before": bl.loadavg()}
    bl.log(f"scale {name}: {n_streams} streams, update every {update_ms} ms, backfill {backfill}")
    try:
        # The fake serves 30 days of history by default: 720 hourly bars. 60 days holds 1000.
        fake_args = ["--speed", "1", "--update-ms", str(update_ms), "--rest-weight-limit",
                     str(VENUE_WEIGHT_PER_MIN), "--start-ms", str(START_MS),
                     "--history-start-ms", str(START_MS - 60 * 86_400_000)]
        with bl.FakeExchange(bins, certs, work, fake_args) as fx:
            cfg = bl.daemon_config(
                work / "mdfeed.yaml", shm, fx.port, certs, symbols(n_symbols), INTERVALS,
                capacity=4096, backfill=backfill,
                extra="    max_streams_per_conn: 1000\n    stale_after_s: "
                      + ("30" if update_ms <= 60_000 else "7200") + "\n", log_level="warn")
            t_start = time.monotonic()
            with bl.Daemon(bins, cfg, work) as d:
                rings = bl.wait_for_rings(shm, n_streams, 60)
                res["rings_created_s"] = time.monotonic() - t_start
                # Startup: all rings have the backfill (or, without backfill, all carry updates).
                timeline = []
                want = backfill

                def done() -> bool:
                    if want > 0:
                        cc = bl.closed_counts(rings)
                        complete = sum(1 for c in cc if c >= want)
                        timeline.append((round(time.monotonic() - t_start, 2), complete, sum(cc)))
                        return complete == len(rings)
                    uc = bl.update_counts(rings)
                    live = sum(1 for u in uc if u > 0)
                    timeline.append((round(time.monotonic() - t_start, 2), live, sum(uc)))
                    return live == len(rings)

                ok = bl.wait_until(done, startup_timeout, step=0.5)
                res["startup_complete"] = ok
                res["startup_s"] = time.monotonic() - t_start if ok else None
                res["startup_timeline"] = timeline[:: max(1, len(timeline) // 200)]
                st = fx.stats()
                res["fake_stats_after_startup"] = {k: st.get(k) for k in (
                    "rest_requests", "rest_429", "rest_418", "rest_weight_exceeded",
                    "conn_opened", "kline_updates_sent", "kline_closes_sent")}
                bl.log(f"  startup {'done' if ok else 'INCOMPLETE'} in "
                       f"{time.monotonic() - t_start:.1f}s; REST requests "
                       f"{st.get('rest_requests')}, 429s {st.get('rest_429')}")
                time.sleep(min(5.0, window / 4))  # let the last REST answers and bursts settle
                res["steady"] = steady(d, fx, shm, rings, window)
                s = res["steady"]
                bl.log(f"  steady: {s['msgs_per_s']:.0f} msgs/s, CPU {s['cpu_frac_mean'] * 100:.2f}% "
                       f"of a core, RSS {s['rss_kb'] / 1024:.1f} MB, excl. rings "
                       f"{s['rss_excl_rings_kb'] / 1024:.1f} MB")
                res["shm"] = bl.shm_footprint(shm)
                if with_ctl:
                    res["ctl_status"] = ctl_status(bins, shm)
                    bl.log(f"  mdfeed-ctl status: {res['ctl_status']}")
                res["daemon_rc"] = None
            res["daemon_rc"] = d.proc.returncode
        shutil.rmtree(work, ignore_errors=True)
    except Exception:
        bl.log(f"scale {name} failed; logs kept in {work}")
        raise
    finally:
        shutil.rmtree(shm, ignore_errors=True)
    res["load_after"] = bl.loadavg()
    return res


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", type=Path, required=True)
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--window-s", type=float, default=20.0)
    p.add_argument("--certs", type=Path, default=None)
    p.add_argument("--only", default="", help="comma list of scenarios to run (default: all)")
    p.add_argument("--quick", action="store_true", help="300-stream scenarios only")
    a = p.parse_args()
    a.build = a.build.resolve()
    a.window_s = max(4.0, min(a.window_s, 120.0))
    out = (a.out or (a.build / "bench-out")).resolve()
    out.mkdir(parents=True, exist_ok=True)
    bins = bl.binaries(a.build)
    certs = bl.make_certs((a.certs or (a.build / "bench-certs")).resolve())

    plan = [  # name, symbols, update_ms, backfill, startup timeout, ctl
        ("s100_real", 100, REAL_UPDATE_MS, 1000, 60, True),
        ("s1000_real", 1000, REAL_UPDATE_MS, 1000, 240, True),
        ("s100_x100", 100, REAL_UPDATE_MS // 100, 0, 60, False),
        ("s1000_x100", 1000, REAL_UPDATE_MS // 100, 0, 60, False),
        ("s1000_idle", 1000, 3_600_000, 50, 240, False),
    ]
    if a.quick:
        plan = [x for x in plan if x[1] == 100]
    if a.only:
        plan = [x for x in plan if x[0] in a.only.split(",")]
    results = {"budget": {"s1000": budget_time_s(3000), "s100": budget_time_s(300)}, "scenarios": {}}
    for name, n, upd, bf, tmo, ctl in plan:
        # The 100x scenarios carry 100x the messages: a shorter window resolves their CPU as well.
        win = a.window_s if upd >= REAL_UPDATE_MS else max(4.0, a.window_s * 0.6)
        results["scenarios"][name] = scenario(bins, certs, name, n, upd, bf, win, tmo, ctl)
        (out / "scale.json").write_text(json.dumps(results, indent=1))
    bl.log("scale done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
