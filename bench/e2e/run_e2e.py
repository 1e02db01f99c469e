#!/usr/bin/python3
"""End-to-end latency, send -> reader, on loopback over TLS, mdfeed against the common
alternative, in one run:

  1. mdfeed: the fake exchange (--latency-probe: each forming kline carries a sequence number in
     n/c and its CLOCK_MONOTONIC send time in v) -> mdfeed -> ring -> e2e_reader, first spinning
     on the update counter, then blocked in wait_for_update.
  2. The floor: bench/e2e/probe_client, a bare native TLS WebSocket client (OpenSSL, blocking
     reads) stamping each probe as SSL_read returns it: one hop, one wake-up, no daemon.
  3. The alternative: the same fake exchange feed -> alt_pipeline.py publish (websocket-client,
     json.loads, XADD) -> redis-server -> alt_pipeline.py read (XREAD BLOCK). The publisher also
     records when websocket-client hands it each message (alt_ws_recv): the exchange -> Python
     client hop alone, for reference.

The phases run one after the other (never concurrently: on 2 cores they would disturb each other),
each on a fresh connection. Writes OUT/e2e.json and the raw samples OUT/e2e_<phase>_<run>.txt.

    /usr/bin/python3 bench/e2e/run_e2e.py --build build [--runs 3] [--seconds 6] [--update-ms 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402

HERE = Path(__file__).resolve().parent
PHASES = ("mdfeed_spin", "mdfeed_block", "floor_tls", "floor_tls_spin", "alt_redis", "alt_ws_recv")


def load_samples(path: Path) -> np.ndarray:
    if not path.exists() or path.stat().st_size == 0:
        return np.zeros((0, 3), dtype=np.int64)
    return np.loadtxt(path, dtype=np.int64, ndmin=2)


def one_run(bins, certs: Path, out: Path, run: int, a) -> dict:
    work = Path(tempfile.mkdtemp(prefix="mdfeed-e2e."))
    shm = bl.shm_tempdir("mdfeed-e2e-shm.")
    res: dict = {"load_before": bl.loadavg()}
    try:
        fake_args = ["--latency-probe", "--update-ms", str(a.update_ms), "--speed", "1"]
        # mdfeed phases: one stream, 1h bars from an hour boundary, so no bar closes during the run
        # (every update is a forming update carrying the probe) and no REST backfill (0 bars).
        with bl.FakeExchange(bins, certs, work, fake_args) as fx:
            cfg = bl.daemon_config(work / "mdfeed.yaml", shm, fx.port, certs, ["BTCUSDT"], ["1h"],
                                   capacity=1024, backfill=0)
            with bl.Daemon(bins, cfg, work) as d:
                for mode in ("spin", "block"):
                    f = out / f"e2e_mdfeed_{mode}_{run}.txt"
                    p = bl.subprocess.run(
                        [str(bins["e2e_reader"]), "--shm-dir", str(shm), "--symbol", "BTCUSDT",
                         "--interval", "1h", "--mode", mode, "--seconds", str(a.seconds),
                         "--warmup-s", "1", "--out", str(f)],
                        capture_output=True, text=True, timeout=a.seconds + 60)
                    if p.returncode != 0:
                        raise bl.BenchError(f"e2e_reader {mode}: {p.stderr.strip()}")
                    res[f"mdfeed_{mode}_reader"] = p.stdout.strip()
                d_cpu = bl.cpu_seconds(d.pid)
            res["daemon_cpu_s"] = d_cpu

        # The floor: a bare native TLS WebSocket client, one hop and one wake-up, no daemon.
        probe = a.build / "bench/e2e/probe_client"
        # Blocking (one wake-up per message, like the daemon) and busy-polling (no wake-up).
        for ph, spin in (("floor_tls", "0"), ("floor_tls_spin", "1")):
            if not probe.exists():
                break
            with bl.FakeExchange(bins, certs, work, fake_args, name=f"fake-{ph}") as fx:
                p = bl.subprocess.run(
                    [str(probe), "--port", str(fx.port), "--ca", str(certs / "ca.pem"),
                     "--seconds", str(a.seconds), "--warmup-s", "1", "--spin", spin,
                     "--out", str(out / f"e2e_{ph}_{run}.txt")],
                    capture_output=True, text=True, timeout=a.seconds + 60)
                if p.returncode != 0:
                    raise bl.BenchError(f"probe_client: {p.stderr.strip()[-500:]}")

        # The alternative, on a fresh fake exchange with the same flags.
        with bl.FakeExchange(bins, certs, work, fake_args, name="fake-alt") as fx, bl.Redis(work) as rd:
            f = out / f"e2e_alt_redis_{run}.txt"
            reader = bl.subprocess.Popen(
                [sys.executable, str(HERE / "alt_pipeline.py"), "read", "--redis-port", str(rd.port),
                 "--seconds", str(a.seconds + 0.5), "--warmup-s", "1.5", "--out", str(f)],
                stdout=bl.subprocess.PIPE, text=True)
            time.sleep(0.3)  # the reader's XREAD is waiting before the first XADD
            pub = bl.subprocess.run(
                [sys.executable, str(HERE / "alt_pipeline.py"), "publish", "--url",
                 f"wss://localhost:{fx.port}/stream?streams=btcusdt@kline_1h", "--ca",
                 str(certs / "ca.pem"), "--redis-port", str(rd.port), "--seconds", str(a.seconds),
                 "--warmup-s", "1", "--out", str(out / f"e2e_alt_ws_recv_{run}.txt")],
                capture_output=True, text=True, timeout=a.seconds + 60)
            if pub.returncode != 0:
                raise bl.BenchError(f"alt publisher: {pub.stderr.strip()[-500:]}")
            rout, _ = reader.communicate(timeout=a.seconds + 60)
            res["alt_publisher"] = pub.stdout.strip()
            res["alt_reader"] = (rout or "").strip()
    except Exception:
        bl.log(f"e2e run failed; logs kept in {work}")
        shutil.rmtree(shm, ignore_errors=True)
        raise
    shutil.rmtree(shm, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)

    for ph in PHASES:
        s = load_samples(out / f"e2e_{ph}_{run}.txt")
        res[ph] = bl.percentiles_us(s[:, 2] - s[:, 1]) if len(s) else {"n": 0}
    res["load_after"] = bl.loadavg()
    return res


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--update-ms", type=int, default=2)
    a, out, bins, certs = bl.standard_args(p, min_seconds=2.0)

    runs = []
    for r in range(a.runs):
        bl.log(f"e2e run {r + 1}/{a.runs}")
        runs.append(one_run(bins, certs, out, r, a))
        for ph in PHASES:
            x = runs[-1][ph]
            bl.log(f"  {ph:13s} n={x.get('n')} p50={x.get('p50_us', 0):.1f}us "
                   f"p99={x.get('p99_us', 0):.1f}us p99.9={x.get('p999_us', 0):.1f}us "
                   f"max={x.get('max_us', 0):.1f}us")

    summary = {}
    for ph in PHASES:
        summary[ph] = {k: bl.median([r[ph].get(k) for r in runs])
                       for k in ("n", "p50_us", "p90_us", "p99_us", "p999_us", "max_us")}
    for mode in ("spin", "block"):
        m, alt = summary[f"mdfeed_{mode}"], summary["alt_redis"]
        summary[f"ratio_p50_{mode}"] = (alt["p50_us"] / m["p50_us"]) if m.get("p50_us") else None
        summary[f"ratio_p99_{mode}"] = (alt["p99_us"] / m["p99_us"]) if m.get("p99_us") else None
    result = {"runs": runs, "median_of_runs": summary, "update_ms": a.update_ms,
              "seconds": a.seconds}
    (out / "e2e.json").write_text(json.dumps(result, indent=1))
    bl.log(f"e2e summary (median of {a.runs} runs): " + json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
