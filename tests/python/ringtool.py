"""Drives ring_writer_tool (the real C++ writer) for the Python tests and knows the bars it wrote.

Every wait here is bounded: a hung tool fails the test with its stderr instead of hanging ctest.
"""

from __future__ import annotations

import os
import select
import struct
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import mdfeed

_REPO = Path(__file__).resolve().parents[2]
_TIMEOUT_S = 30.0

_FLOATS = ("open", "high", "low", "close", "volume", "quote_volume", "taker_buy_volume",
           "taker_buy_quote_volume")


def tool_path() -> str:
    """$MDFEED_RING_WRITER_TOOL (set by ctest), else a build tree's copy."""
    env = os.environ.get("MDFEED_RING_WRITER_TOOL")
    if env:
        return env
    for build in sorted(_REPO.glob("build*/tests/python/ring_writer_tool")):
        return str(build)
    raise RuntimeError("ring_writer_tool not found: build it (target ring_writer_tool) or set "
                       "MDFEED_RING_WRITER_TOOL")


@dataclass
class Written:
    """What the tool reported writing: closed bars and the forming bar, exact bit patterns."""
    closed: np.ndarray  # BAR_DTYPE, packed in a fresh array
    forming: np.ndarray | None  # 1-element BAR_DTYPE or None
    closed_indices: list[int] = field(default_factory=list)
    path: str = ""


def _parse_bar(parts: list[str]) -> tuple[int, np.ndarray]:
    index, open_ms, close_ms = int(parts[0]), int(parts[1]), int(parts[2])
    bar = np.zeros(1, mdfeed.BAR_DTYPE)
    bar["open_time_ms"], bar["close_time_ms"] = open_ms, close_ms
    for name, hexbits in zip(_FLOATS, parts[3:11]):
        bar[name] = struct.unpack("<d", struct.pack("<Q", int(hexbits, 16)))[0]
    bar["trades"], bar["flags"] = int(parts[11]), int(parts[12])
    return index, bar


def parse_output(lines: list[str]) -> Written:
    closed, indices, forming, path = [], [], None, ""
    for line in lines:
        tag, _, rest = line.strip().partition(" ")
        if tag == "BAR":
            i, bar = _parse_bar(rest.split())
            indices.append(i)
            closed.append(bar)
        elif tag == "FORMING":
            forming = _parse_bar(rest.split())[1]
        elif tag == "READY":
            path = rest
    bars = np.concatenate(closed) if closed else np.zeros(0, mdfeed.BAR_DTYPE)
    return Written(bars, forming, indices, path)


def _args(shm_dir, **opts) -> list[str]:
    argv = [tool_path(), "--dir", str(shm_dir)]
    for key, value in opts.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            argv.append(flag)
        elif value not in (None, False):
            argv += [flag, str(value)]
    return argv


def write(shm_dir, **opts) -> Written:
    """Runs the tool to completion (it exits: the writer state becomes "stopped")."""
    proc = subprocess.run(_args(shm_dir, **opts), capture_output=True, text=True,
                          timeout=_TIMEOUT_S, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    return parse_output(proc.stdout.splitlines())


class Running:
    """The tool kept running (--hold or --stress) until stop(); use as a context manager."""

    def __init__(self, shm_dir, **opts):
        # Binary and unbuffered: select() must see exactly what Python has not read yet.
        self.proc = subprocess.Popen(_args(shm_dir, **opts), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
        self.written = parse_output(self._read_until_ready())
        self.done_line = ""

    def _read_until_ready(self) -> list[str]:
        return self._read_until("READY")

    def _read_until(self, tag: str) -> list[str]:
        data, deadline = b"", time.monotonic() + _TIMEOUT_S
        fd = self.proc.stdout.fileno()
        while time.monotonic() < deadline:
            if select.select([fd], [], [], 0.5)[0]:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    break  # the tool exited before answering
                data += chunk
                lines = data.decode().splitlines()
                if data.endswith(b"\n") and lines and lines[-1].startswith(tag):
                    return lines
        self.proc.kill()
        raise AssertionError(f"ring_writer_tool: no {tag}: {self.proc.stderr.read().decode()}")

    def command(self, line: str) -> int:
        """--many mode: sends one command ("K1 K2 ..." or "bell") and waits for its answer;
        returns the bell value after it."""
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        return int(self._read_until("RANG")[-1].split()[1])

    def stop(self) -> str:
        """Closes the tool's stdin (its stop signal) and waits; returns its DONE line."""
        out, err = self.proc.communicate(timeout=_TIMEOUT_S)
        assert self.proc.returncode == 0, err.decode()
        lines = out.decode().splitlines()
        self.done_line = next((line for line in lines if line.startswith("DONE")), "")
        return self.done_line

    def __enter__(self) -> "Running":
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            self.stop()


def layout_from_cpp() -> tuple[str, int]:
    """(kLayoutSpec, kLayoutHash) as compiled into the C++ writer."""
    out = subprocess.run([tool_path(), "--print-layout"], capture_output=True, text=True,
                         timeout=_TIMEOUT_S, check=True).stdout.splitlines()
    values = dict(line.split(" ", 1) for line in out)
    return values["SPEC"], int(values["HASH"])


# --- synth_bar invariants (tests/common/test_util.hpp), vectorised -------------------------

BASE_OPEN_MS = 1_700_000_040_000
MINUTE_MS = 60_000


def columns_of(data) -> dict:
    """Columns of a BAR_DTYPE array or a get_price DataFrame, keyed like BAR_DTYPE."""
    if isinstance(data, np.ndarray):
        return {name: data[name] for name in data.dtype.names}
    cols = {c: data[c].to_numpy() for c in data.columns}
    cols["open_time_ms"] = data.index.asi8 // 1_000_000
    cols["flags"] = cols.pop("closed").astype(np.uint32)
    return cols


def synth_consistent(data) -> np.ndarray:
    """Per bar: True iff it is exactly synth_bar(i, rev) for the i its open time implies. Any
    mix of two writes of a slot (a torn read) breaks at least one of these equalities. Fields a
    DataFrame does not carry (close time, taker volumes) are checked only when present."""
    c = columns_of(data)
    open_ms = c["open_time_ms"].astype(np.int64)
    i = (open_ms - BASE_OPEN_MS) // MINUTE_MS
    rev = c["trades"].astype(np.int64) - i * 1000
    frev = rev.astype(np.float64)
    o = (i % 1_000_000).astype(np.float64) + 100.0
    volume = frev * 2.0 + 1.0
    close = ((open_ms // MINUTE_MS) % 100_003).astype(np.float64) * 0.25 + 7.0
    expected = {
        "close_time_ms": open_ms + MINUTE_MS - 1, "open": o, "high": o + 1.5 + frev,
        "low": o - 1.0, "close": close + frev, "volume": volume, "quote_volume": volume * o,
        "taker_buy_volume": volume / 2.0, "taker_buy_quote_volume": (volume * o) / 2.0,
    }
    checks = [open_ms >= BASE_OPEN_MS, (open_ms - BASE_OPEN_MS) % MINUTE_MS == 0,
              (rev >= 0) & (rev < 1000), (c["flags"] & ~np.uint32(3)) == 0,
              ((c["flags"] & 1) != 0) | (rev > 0)]  # a forming synth bar has rev >= 1
    checks += [c[name] == want for name, want in expected.items() if name in c]
    return np.logical_and.reduce(checks)


def contiguous(data) -> bool:
    """Open times one minute apart; every bar closed except possibly the last (forming)."""
    c = columns_of(data)
    closed = (c["flags"] & 1) != 0
    return bool((np.diff(c["open_time_ms"]) == MINUTE_MS).all() and closed[:-1].all())
