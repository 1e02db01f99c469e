#!/usr/bin/python3
"""Plots for bench/RESULTS.md, from the JSON and sample files scripts/bench leaves in OUT:

  bench/e2e_latency_cdf.png     CDF of send -> reader latency: mdfeed (spinning and blocking
                                reader) and the Python + Redis alternative, log x
  bench/streams_scaling.png     delivered msgs/s and daemon CPU against the number of streams
                                (real rate, 100x rate, and the one-stream flood)
  bench/readers_writer_cost.png writer CPU per update against the number of readers

    /usr/bin/python3 bench/plot.py --out BUILD/bench-out [--dest bench]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

LABELS = {
    "mdfeed_spin": "mdfeed, spinning C++ reader",
    "mdfeed_block": "mdfeed, blocking C++ reader (wait_for_update)",
    "floor_tls": "(floor) exchange -> bare C++ TLS WebSocket client, blocking read, no daemon",
    "floor_tls_spin": "(floor) the same client busy-polling: no wake-up",
    "alt_redis": "Python websocket-client + json -> Redis Streams -> Python reader",
    "alt_ws_recv": "(reference) exchange -> Python websocket-client recv, no Redis hop",
}
COLORS = {"mdfeed_spin": "tab:blue", "mdfeed_block": "tab:green", "alt_redis": "tab:red",
          "alt_ws_recv": "tab:gray", "floor_tls": "black", "floor_tls_spin": "tab:brown"}
STYLES = {"alt_ws_recv": "--", "floor_tls": ":", "floor_tls_spin": ":"}


def load_json(p: Path):
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError):
        return None


def latency_cdf(out: Path, dest: Path) -> Path | None:
    e2e = load_json(out / "e2e.json")
    if not e2e:
        return None
    fig, ax = plt.subplots(figsize=(8, 4.8))
    for ph, label in LABELS.items():
        parts = []
        for f in sorted(out.glob(f"e2e_{ph}_*.txt")):
            if f.stat().st_size:
                a = np.loadtxt(f, dtype=np.int64, ndmin=2)
                parts.append((a[:, 2] - a[:, 1]) / 1000.0)
        if not parts:
            continue
        lat = np.sort(np.concatenate(parts))
        lat = np.maximum(lat, 0.1)
        y = np.arange(1, lat.size + 1) / lat.size
        med = e2e["median_of_runs"].get(ph)
        if not med or med.get("p50_us") is None:
            continue
        ax.plot(lat, y, color=COLORS[ph], lw=1.6, ls=STYLES.get(ph, "-"),
                label=f"{label}\n  p50 {med['p50_us']:.0f} µs, p99 {med['p99_us']:.0f} µs (n={lat.size})")
    for q in (0.5, 0.99):
        ax.axhline(q, color="grey", lw=0.6, ls=":")
    ax.axvline(50, color="tab:blue", lw=0.8, ls="--", alpha=0.6)
    ax.text(50, 0.02, " p50 target 50 µs", color="tab:blue", fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("exchange send -> reader sees the update (µs, CLOCK_MONOTONIC, log scale)")
    ax.set_ylabel("fraction of updates")
    ax.set_ylim(0, 1.0)
    ax.set_title(f"End-to-end kline latency over TLS on loopback (one update per "
                 f"{e2e.get('update_ms', '?')} ms; all runs pooled)", fontsize=10)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7.5, loc="lower right")
    fig.tight_layout()
    path = dest / "e2e_latency_cdf.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def streams_scaling(out: Path, dest: Path) -> Path | None:
    scale = load_json(out / "scale.json")
    tp = load_json(out / "throughput.json")
    if not scale and not tp:
        return None
    series = {"real rate (1 update / stream / 2 s)": [], "100x real rate (1 / stream / 20 ms)": []}
    for s in (scale or {}).get("scenarios", {}).values():
        st = s.get("steady")
        if not st:
            continue
        key = list(series)[0] if s["update_ms"] >= 2000 else list(series)[1]
        series[key].append((s["streams"], st["msgs_per_s"], st["cpu_frac_mean"] * 100))
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4.2))
    markers = ["o", "s"]
    for (name, pts), m, period in zip(series.items(), markers, (2.0, 0.02)):
        if not pts:
            continue
        pts.sort()
        x = [p[0] for p in pts]
        line = a1.plot(x, [p[1] for p in pts], marker=m, label=name)[0]
        a1.plot(x, [n / period for n in x], ls=":", color=line.get_color(), lw=1,
                label="  offered by the fake exchange (nominal)")
        a2.plot(x, [p[2] for p in pts], marker=m, label=name)
    if tp and tp.get("median_of_runs"):
        t = tp["median_of_runs"]
        a1.plot([1], [t["msgs_per_s"]], marker="*", ms=12, ls="", color="tab:red",
                label="fake --flood, 1 stream, 1 connection")
        a2.plot([1], [t["daemon_cpu_frac"] * 100], marker="*", ms=12, ls="", color="tab:red")
        fs = (tp.get("flood_sender") or {}).get("batch32", {}).get("median_of_runs")
        if fs:
            a1.plot([1], [fs["msgs_per_s"]], marker="P", ms=10, ls="", color="tab:purple",
                    label="flood_sender --batch 32, 1 stream")
            a2.plot([1], [fs["daemon_cpu_frac"] * 100], marker="P", ms=10, ls="", color="tab:purple")
    a2.axhline(5, color="grey", ls="--", lw=0.8)
    a2.text(1.1, 5.5, "target at 3000 streams: 5%", fontsize=7, color="grey")
    a2.axhline(1, color="grey", ls=":", lw=0.8)
    a2.text(1.1, 1.1, "target at 300 streams: 1%", fontsize=7, color="grey")
    for ax in (a1, a2):
        ax.set_xscale("log")
        ax.set_xlabel("streams (symbols x 3 intervals)")
        ax.grid(True, which="both", alpha=0.25)
    a1.set_yscale("log")
    a1.set_ylabel("kline messages/s through the daemon")
    a2.set_yscale("log")
    a2.set_ylabel("daemon CPU (% of one core)")
    a1.legend(fontsize=6.5, loc="center left")
    fig.suptitle("Throughput and CPU against the number of streams", fontsize=10)
    fig.tight_layout()
    path = dest / "streams_scaling.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def readers_cost(out: Path, dest: Path) -> Path | None:
    r = load_json(out / "readers.json")
    if not r or not r.get("writer_loop"):
        return None
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for mode, color in (("block", "tab:green"), ("spin", "tab:blue")):
        pts = []
        for k, v in r["writer_loop"].items():
            m, n = k.rsplit("_", 1)
            if m == mode or (n == "0"):
                pts.append((int(n), v["writer_cpu_ns_per_update"] / 1000))
        pts = sorted(set(pts))
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", color=color,
                    label={"block": "blocking readers", "spin": "spinning readers"}[mode])
    ax.set_xscale("symlog", linthresh=1)
    ax.set_xticks([0, 1, 8, 32])
    ax.set_xticklabels(["0", "1", "8", "32"])
    ax.set_xlabel("reader processes on the ring")
    ax.set_ylabel("writer CPU per publish + notify (µs)")
    ax.set_title(f"Writer cost per update vs readers (writer at {1e6 / r['period_us']:.0f} updates/s)",
                 fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = dest / "readers_writer_cost.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="scripts/bench output dir (JSON, samples)")
    p.add_argument("--dest", type=Path, default=Path(__file__).resolve().parent)
    a = p.parse_args()
    made = [f for f in (latency_cdf(a.out, a.dest), streams_scaling(a.out, a.dest),
                        readers_cost(a.out, a.dest)) if f]
    for f in made:
        print(f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
