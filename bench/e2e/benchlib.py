"""Shared plumbing for the mdfeed benchmark drivers (bench/e2e, bench/throughput, bench/scale,
bench/readers): child processes with bounded lifetimes, the fake exchange, the daemon, a private
redis-server, /proc accounting and ring counters. Loopback only; every wait is bounded.

Run with /usr/bin/python3 (Debian's numpy, redis, websocket).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

# Ring header offsets (shm/include/mdfeed/layout.hpp).
OFF_CLOSED_COUNT = 256
OFF_UPDATE_COUNT = 512


class BenchError(RuntimeError):
    pass


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def binaries(build: Path) -> dict[str, Path]:
    b = {
        "mdfeed": build / "daemon/core/mdfeed",
        "fake": build / "tools/fake_exchange/mdfeed-fake-exchange",
        "ctl": build / "tools/ctl/mdfeed-ctl",
        "e2e_reader": build / "bench/e2e/e2e_reader",
        "bench_readers": build / "bench/readers/bench_readers",
        "flood_sender": build / "bench/throughput/flood_sender",
        "build": build,
    }
    for k in ("mdfeed", "fake"):
        if not os.access(b[k], os.X_OK):
            raise BenchError(f"{b[k]} missing: build the '{b[k].name}' target first")
    return b


def make_certs(outdir: Path) -> Path:
    subprocess.run([str(REPO / "scripts/make-test-certs"), str(outdir)], check=True, timeout=120)
    return outdir


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shm_tempdir(prefix: str) -> Path:
    """A private shm dir on tmpfs (/dev/shm when it exists): rings live where they would."""
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    return Path(tempfile.mkdtemp(prefix=prefix, dir=base))


# ------------------------------------------------------------------------------------------------
# Children


class Child:
    """A child process whose stdout lines are collected by a thread. stop() is bounded."""

    def __init__(self, argv: list[str], log_path: Path, stdin_pipe: bool = False, env=None):
        self.argv = argv
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin_pipe else subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self._log, env=env)
        self.lines: list[str] = []
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()

    def _read(self) -> None:
        for raw in self.proc.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_line(self, prefix: str, timeout: float) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for line in list(self.lines):
                if line.startswith(prefix):
                    return line
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        raise BenchError(f"{Path(self.argv[0]).name}: no '{prefix}' line within {timeout}s "
                         f"(rc={self.proc.poll()}; see {self.log_path})")

    def stop(self, sig: int = signal.SIGTERM, grace: float = 10.0) -> int | None:
        if self.proc.poll() is None:
            try:
                if self.proc.stdin:
                    self.proc.stdin.close()  # --exit-on-stdin-eof
            except OSError:
                pass
            self.proc.send_signal(sig)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._t.join(2)
        self._log.close()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class FakeExchange(Child):
    def __init__(self, bins, certs: Path, workdir: Path, args: list[str], name: str = "fake"):
        argv = [str(bins["fake"]), "--cert", str(certs / "server.pem"), "--key",
                str(certs / "server.key"), "--port", "0", "--exit-on-stdin-eof", *args]
        super().__init__(argv, workdir / f"{name}.log", stdin_pipe=True)
        self.port = int(self.wait_line("ready port=", 20).split("=", 1)[1])

    def stats(self, timeout: float = 5.0) -> dict:
        """The fake's counters ('stats' command -> a 'stats {...}' line)."""
        n = sum(1 for l in self.lines if l.startswith("stats "))
        self.proc.stdin.write(b"stats\n")
        self.proc.stdin.flush()
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            got = [l for l in self.lines if l.startswith("stats ")]
            if len(got) > n:
                return json.loads(got[-1][6:])
            time.sleep(0.02)
        return {}


class FloodSender(Child):
    """bench/throughput/flood_sender: a minimal TLS WebSocket kline source, faster than --flood."""

    def __init__(self, build: Path, certs: Path, workdir: Path, batch: int, seconds: float):
        argv = [str(build / "bench/throughput/flood_sender"), "--cert", str(certs / "server.pem"),
                "--key", str(certs / "server.key"), "--batch", str(batch), "--seconds",
                str(seconds)]
        super().__init__(argv, workdir / f"flood_sender_{batch}.log", stdin_pipe=True)
        self.port = int(self.wait_line("ready port=", 20).split("=", 1)[1])


def daemon_config(path: Path, shm: Path, port: int, certs: Path, symbols: list[str],
                  intervals: list[str], capacity: int = 4096, backfill: int = 0,
                  extra: str = "", log_level: str = "info") -> Path:
    path.write_text(
        f"shm:\n  dir: {shm}\n  capacity: {capacity}\n"
        f"log:\n  level: {log_level}\n"
        "feeds:\n  - name: binance\n    exchange: binance\n"
        f"    ws_url: wss://localhost:{port}\n"
        f"    rest_url: https://localhost:{port}\n"
        f"    ca_file: {certs / 'ca.pem'}\n"
        f"    symbols: [{', '.join(symbols)}]\n"
        f"    intervals: [{', '.join(intervals)}]\n"
        f"    backfill_bars: {backfill}\n"
        + extra)
    return path


class Daemon(Child):
    def __init__(self, bins, config: Path, workdir: Path, name: str = "mdfeed"):
        super().__init__([str(bins["mdfeed"]), "--config", str(config)], workdir / f"{name}.log")

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


class Redis(Child):
    def __init__(self, workdir: Path):
        self.port = free_port()
        argv = [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(self.port),
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir),
                "--protected-mode", "yes"]
        super().__init__(argv, workdir / "redis.log")
        import redis  # Debian python3-redis

        end = time.monotonic() + 15
        while True:
            try:
                redis.Redis(host="127.0.0.1", port=self.port).ping()
                break
            except redis.exceptions.ConnectionError:
                if time.monotonic() > end or self.proc.poll() is not None:
                    raise BenchError(f"redis-server did not start (see {self.log_path})")
                time.sleep(0.05)


# ------------------------------------------------------------------------------------------------
# /proc accounting


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all threads), from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the ")": field 3 is state, so utime (14) and stime (15) are at 11 and 12.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def memory(pid: int, shm_dir: Path | None) -> dict:
    """RSS, and RSS excluding the rings: smaps_rollup's Rss minus the Rss of every mapping whose
    file lives under shm_dir (the ring files and the status segment: tmpfs pages that belong to
    /dev/shm, not to the daemon's heap, and are counted once however many readers map them)."""
    rollup = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[1].isdigit():
                rollup[parts[0].rstrip(":")] = int(parts[1])
    shm_rss = shm_pss = shm_maps = 0
    prefix = str(shm_dir) + "/" if shm_dir else None
    cur_is_shm = False
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split(None, 1)[0]
            if "-" in head and not head.endswith(":"):  # a mapping header line
                parts = line.split(None, 5)
                path = parts[5].strip() if len(parts) > 5 else ""
                cur_is_shm = bool(prefix) and path.startswith(prefix)
                shm_maps += cur_is_shm
            elif cur_is_shm and head == "Rss:":
                shm_rss += int(line.split()[1])
            elif cur_is_shm and head == "Pss:":
                shm_pss += int(line.split()[1])
    rss = rollup.get("Rss", 0)
    return {"rss_kb": rss, "pss_kb": rollup.get("Pss", 0), "anon_kb": rollup.get("Anonymous", 0),
            "shm_rss_kb": shm_rss, "shm_maps": shm_maps, "rss_excl_rings_kb": rss - shm_rss}


def ring_files(shm: Path) -> list[Path]:
    return sorted(shm.glob("*/*.ring"))


def read_u32(path: Path, off: int) -> int:
    fd = os.open(path, os.O_RDONLY)
    try:
        return struct.unpack("<I", os.pread(fd, 4, off))[0]
    finally:
        os.close(fd)


def read_u64(path: Path, off: int) -> int:
    fd = os.open(path, os.O_RDONLY)
    try:
        return struct.unpack("<Q", os.pread(fd, 8, off))[0]
    finally:
        os.close(fd)


def update_counts(paths: list[Path]) -> list[int]:
    return [read_u32(p, OFF_UPDATE_COUNT) for p in paths]


def closed_counts(paths: list[Path]) -> list[int]:
    return [read_u64(p, OFF_CLOSED_COUNT) for p in paths]


def u32_delta(a: list[int], b: list[int]) -> int:
    return sum((y - x) & 0xFFFFFFFF for x, y in zip(a, b))


def shm_footprint(shm: Path) -> dict:
    """Bytes the ring files occupy in tmpfs (allocated blocks: they are fallocated)."""
    files = list(shm.rglob("*"))
    size = sum(p.stat().st_size for p in files if p.is_file())
    alloc = sum(p.stat().st_blocks * 512 for p in files if p.is_file())
    return {"files": sum(1 for p in files if p.is_file()), "bytes": size, "allocated_bytes": alloc}


def wait_until(pred, timeout: float, step: float = 0.05) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def wait_for_rings(shm: Path, n: int, timeout: float) -> list[Path]:
    if not wait_until(lambda: len(ring_files(shm)) >= n, timeout):
        raise BenchError(f"only {len(ring_files(shm))}/{n} rings appeared in {shm} within {timeout}s")
    return ring_files(shm)


def loadavg() -> list[float]:
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def percentiles_us(lat_ns) -> dict:
    import numpy as np

    a = np.asarray(lat_ns, dtype=np.float64) / 1000.0
    if a.size == 0:
        return {"n": 0}
    p50, p90, p99, p999 = np.percentile(a, [50, 90, 99, 99.9])
    return {"n": int(a.size), "p50_us": float(p50), "p90_us": float(p90), "p99_us": float(p99),
            "p999_us": float(p999), "max_us": float(a.max())}


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    m = len(xs) // 2
    return xs[m] if len(xs) % 2 else (xs[m - 1] + xs[m]) / 2


def standard_args(p, min_seconds: float):
    """The options every bench driver shares; returns (args, out dir, binaries, certs dir)."""
    p.add_argument("--build", type=Path, required=True)
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seconds", type=float, default=6.0)
    p.add_argument("--certs", type=Path, default=None)
    a = p.parse_args()
    a.build = a.build.resolve()
    a.runs = max(1, min(a.runs, 10))
    a.seconds = max(min_seconds, min(a.seconds, 60.0))
    out = (a.out or (a.build / "bench-out")).resolve()
    out.mkdir(parents=True, exist_ok=True)
    return a, out, binaries(a.build), make_certs((a.certs or (a.build / "bench-certs")).resolve())
