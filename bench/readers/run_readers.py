#!/usr/bin/python3
"""Many readers on the same ring: does the writer's cost per update grow with readers?

  writer loop  bench_readers: one RingWriter publishes forming bars + notify (as the daemon does
               per message) at 1 kHz while N reader processes (0, 1, 8, 32) spin on the update
               counter or block in wait_for_update. Writer CPU ns per update
               (CLOCK_THREAD_CPUTIME_ID) and the wall time of each publish + notify call.
  daemon       the whole daemon under --flood (bench/throughput) with N blocking or spinning
               e2e_reader processes on its ring: daemon CPU us per message.

Writes OUT/readers.json.

    /usr/bin/python3 bench/readers/run_readers.py --build build [--counts 0,1,8,32] [--no-daemon]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "throughput"))
import benchlib as bl  # noqa: E402
from run_throughput import flood_once  # noqa: E402


def writer_loop(bins, n: int, mode: str, seconds: float, period_us: int, runs: int) -> dict:
    rs = []
    for _ in range(runs):
        p = subprocess.run([str(bins["bench_readers"]), "--readers", str(n), "--mode", mode,
                            "--seconds", str(seconds), "--period-us", str(period_us)],
                           capture_output=True, text=True, timeout=seconds + 60)
        if p.returncode != 0:
            raise bl.BenchError(f"bench_readers: {p.stderr.strip()}")
        rs.append(json.loads(p.stdout.strip().splitlines()[-1]))
    keys = ("writer_cpu_ns_per_update", "call_p50_ns", "call_p99_ns", "call_p999_ns",
            "reader_seen_fraction", "updates")
    return {"runs": rs, **{k: bl.median([r[k] for r in rs]) for k in keys}}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", type=Path, required=True)
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--counts", default="0,1,8,32")
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--period-us", type=int, default=1000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--daemon-seconds", type=float, default=4.0)
    p.add_argument("--no-daemon", action="store_true")
    p.add_argument("--certs", type=Path, default=None)
    a = p.parse_args()
    a.build = a.build.resolve()
    counts = [max(0, min(int(x), 128)) for x in a.counts.split(",")]
    a.seconds = max(0.5, min(a.seconds, 20.0))
    a.runs = max(1, min(a.runs, 5))
    out = (a.out or (a.build / "bench-out")).resolve()
    out.mkdir(parents=True, exist_ok=True)
    bins = bl.binaries(a.build)

    res: dict = {"period_us": a.period_us, "writer_loop": {}, "daemon": {}}
    for mode in ("block", "spin"):
        for n in counts:
            if n == 0 and mode == "spin":
                continue  # same as block with no readers
            x = writer_loop(bins, n, mode, a.seconds, a.period_us, a.runs)
            res["writer_loop"][f"{mode}_{n}"] = x
            bl.log(f"writer loop, {n:2d} {mode:5s} readers: {x['writer_cpu_ns_per_update']:.0f} ns "
                   f"CPU/update, call p50 {x['call_p50_ns']:.0f} ns p99 {x['call_p99_ns']:.0f} ns, "
                   f"readers saw {x['reader_seen_fraction']:.2f} of updates")
    (out / "readers.json").write_text(json.dumps(res, indent=1))

    if not a.no_daemon:
        certs = bl.make_certs((a.certs or (a.build / "bench-certs")).resolve())
        # Spinning readers beyond the core count only starve the daemon on a 2-vCPU box; the
        # writer loop above covers them. The daemon gets blocking readers, plus spinning up to 8.
        plan = [("block", n) for n in counts] + [("spin", n) for n in counts if 0 < n <= 8]
        for mode, n in plan:
            if True:
                x = flood_once(bins, certs, a.daemon_seconds, warmup=1.5, readers=n, reader_mode=mode)
                res["daemon"][f"{mode}_{n}"] = x
                bl.log(f"daemon flood, {n:2d} {mode:5s} readers: {x['msgs_per_s']:.0f} msgs/s, "
                       f"{x['daemon_cpu_us_per_msg']:.2f} us CPU/msg")
                (out / "readers.json").write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
