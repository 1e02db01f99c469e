#!/usr/bin/python3
"""Sustained kline throughput through the whole daemon on one connection: the fake exchange
floods one stream (--flood: a kline update whenever the socket is writeable) over TLS on
loopback; mdfeed parses every message and publishes it into the ring. Measured over a window after
a warm-up:

  msgs/s      = ring update_count delta / window (every message is one ring publish)
  CPU per msg = daemon utime+stime delta (/proc/PID/stat) / messages
  and the fake exchange's own CPU, to tell which side is the bottleneck.

Optionally N reader processes follow the same ring meanwhile (bench/readers uses this).
Writes OUT/throughput.json.

    /usr/bin/python3 bench/throughput/run_throughput.py --build build [--runs 3] [--seconds 6]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
import benchlib as bl  # noqa: E402


def flood_once(bins, certs: Path, seconds: float, warmup: float = 2.0, readers: int = 0,
               reader_mode: str = "block", sender_batch: int = 0) -> dict:
    """One measurement. sender_batch 0: the fake exchange --flood; N > 0: flood_sender with N
    frames per TLS write."""
    work = Path(tempfile.mkdtemp(prefix="mdfeed-tp."))
    shm = bl.shm_tempdir("mdfeed-tp-shm.")
    kids: list[subprocess.Popen] = []
    try:
        source = (bl.FakeExchange(bins, certs, work, ["--flood", "--speed", "1"]) if sender_batch == 0
                  else bl.FloodSender(bins["build"], certs, work, sender_batch, warmup + seconds + 30))
        with source as fx:
            cfg = bl.daemon_config(work / "mdfeed.yaml", shm, fx.port, certs, ["BTCUSDT"], ["1h"],
                                   capacity=1024, backfill=0)
            with bl.Daemon(bins, cfg, work) as d:
                rings = bl.wait_for_rings(shm, 1, 20)
                if not bl.wait_until(lambda: bl.update_counts(rings)[0] > 1000, 20):
                    raise bl.BenchError("no flood traffic reached the ring")
                for _ in range(readers):
                    kids.append(subprocess.Popen(
                        [str(bins["e2e_reader"]), "--shm-dir", str(shm), "--symbol", "BTCUSDT",
                         "--interval", "1h", "--mode", reader_mode, "--seconds",
                         str(warmup + seconds + 3), "--warmup-s", "0"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                time.sleep(warmup)
                u0, c0, f0, t0 = bl.update_counts(rings), bl.cpu_seconds(d.pid), bl.cpu_seconds(fx.pid), time.monotonic()
                s0 = fx.stats() if sender_batch == 0 else {}
                time.sleep(seconds)
                u1, c1, f1, t1 = bl.update_counts(rings), bl.cpu_seconds(d.pid), bl.cpu_seconds(fx.pid), time.monotonic()
                s1 = fx.stats() if sender_batch == 0 else {}
                mem = bl.memory(d.pid, shm)
        for k in kids:
            try:
                k.wait(10)
            except subprocess.TimeoutExpired:
                k.kill()
                k.wait(5)
        shutil.rmtree(work, ignore_errors=True)
        msgs = bl.u32_delta(u0, u1)
        win = t1 - t0
        sent = (s1.get("ws_messages_sent", 0) - s0.get("ws_messages_sent", 0)) if s0 and s1 else None
        return {
            "source": "fake --flood" if sender_batch == 0 else f"flood_sender --batch {sender_batch}",
            "readers": readers, "reader_mode": reader_mode, "window_s": win, "messages": msgs,
            "msgs_per_s": msgs / win, "daemon_cpu_frac": (c1 - c0) / win,
            "daemon_cpu_us_per_msg": (c1 - c0) / msgs * 1e6 if msgs else None,
            "fake_cpu_frac": (f1 - f0) / win, "fake_sent_per_s": sent / win if sent is not None else None,
            "daemon_rss_excl_rings_kb": mem["rss_excl_rings_kb"], "load": bl.loadavg(),
        }
    except Exception:
        bl.log(f"throughput run failed; logs kept in {work}")
        raise
    finally:
        for k in kids:
            if k.poll() is None:
                k.kill()
                k.wait(5)
        shutil.rmtree(shm, ignore_errors=True)


def sender_only(bins, certs: Path, seconds: float, warmup: float = 1.0) -> dict:
    """The fake exchange's --flood into a bare TLS socket that only drains bytes (no WebSocket
    parsing, no daemon): how fast the sender itself can go on this machine."""
    import socket
    import ssl

    work = Path(tempfile.mkdtemp(prefix="mdfeed-tp-sender."))
    try:
        with bl.FakeExchange(bins, certs, work, ["--flood", "--speed", "1"]) as fx:
            ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))
            with ctx.wrap_socket(socket.create_connection(("localhost", fx.port), timeout=5),
                                 server_hostname="localhost") as s:
                s.sendall(b"GET /stream?streams=btcusdt@kline_1h HTTP/1.1\r\nHost: localhost\r\n"
                          b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          b"Sec-WebSocket-Version: 13\r\n\r\n")
                end = time.monotonic() + warmup
                while time.monotonic() < end:
                    s.recv(1 << 20)
                s0, f0, t0 = fx.stats(), bl.cpu_seconds(fx.pid), time.monotonic()
                nbytes = 0
                while time.monotonic() < t0 + seconds:
                    nbytes += len(s.recv(1 << 20))
                s1, f1, t1 = fx.stats(), bl.cpu_seconds(fx.pid), time.monotonic()
        shutil.rmtree(work, ignore_errors=True)
        sent = s1.get("ws_messages_sent", 0) - s0.get("ws_messages_sent", 0)
        return {"msgs_per_s": sent / (t1 - t0), "fake_cpu_frac": (f1 - f0) / (t1 - t0),
                "bytes_per_s": nbytes / (t1 - t0), "load": bl.loadavg()}
    except Exception:
        bl.log(f"sender-only run failed; logs kept in {work}")
        raise


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a, out, bins, certs = bl.standard_args(p, min_seconds=1.0)

    runs = []
    for r in range(a.runs):
        bl.log(f"throughput run {r + 1}/{a.runs}")
        x = flood_once(bins, certs, a.seconds)
        runs.append(x)
        bl.log(f"  {x['msgs_per_s']:.0f} msgs/s, daemon {x['daemon_cpu_frac'] * 100:.0f}% of a core, "
               f"{x['daemon_cpu_us_per_msg']:.2f} us CPU/msg; fake {x['fake_cpu_frac'] * 100:.0f}%")
    keys = ("msgs_per_s", "daemon_cpu_frac", "daemon_cpu_us_per_msg", "fake_cpu_frac", "fake_sent_per_s")
    summary = {k: bl.median([r[k] for r in runs]) for k in keys}
    if summary["daemon_cpu_us_per_msg"]:
        summary["projected_msgs_per_s_one_core"] = 1e6 / summary["daemon_cpu_us_per_msg"]
    result = {"runs": runs, "median_of_runs": summary}

    bl.log("sender alone: fake exchange --flood into a bare TLS drain")
    result["sender_only"] = sender_only(bins, certs, min(a.seconds, 4.0))
    bl.log(f"  {result['sender_only']['msgs_per_s']:.0f} msgs/s, fake "
           f"{result['sender_only']['fake_cpu_frac'] * 100:.0f}% of a core")

    result["flood_sender"] = {}
    for batch, n in ((1, 1), (32, a.runs)):
        rs = []
        for r in range(n):
            bl.log(f"daemon ceiling: flood_sender --batch {batch}, run {r + 1}/{n}")
            x = flood_once(bins, certs, a.seconds, sender_batch=batch)
            rs.append(x)
            bl.log(f"  {x['msgs_per_s']:.0f} msgs/s, daemon {x['daemon_cpu_frac'] * 100:.0f}% of a "
                   f"core, {x['daemon_cpu_us_per_msg']:.2f} us CPU/msg; sender {x['fake_cpu_frac'] * 100:.0f}%")
        result["flood_sender"][f"batch{batch}"] = {
            "runs": rs, "median_of_runs": {k: bl.median([r[k] for r in rs]) for k in keys[:4]}}
    (out / "throughput.json").write_text(json.dumps(result, indent=1))
    bl.log("throughput summary: " + json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
