"""Torture test: Python readers while the C++ writer rewrites the forming bar and closes bars at
full speed in a small ring. Every bar returned must be exactly one write (synth invariants),
closed bars contiguous and the forming bar right after them. Bounded in time."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import mdfeed
import ringtool

# Each reader reads for at least DURATION_S and MIN_READS rounds (a loaded machine gives a
# reader few time slices), and never longer than MAX_S.
DURATION_S = float(os.environ.get("MDFEED_PY_STRESS_S", "2.0"))
MIN_READS = 200
MAX_S = 60.0
# Small ring, and a bar closed every REVS forming updates (microseconds at full speed, a
# million times the real rate) so the writer laps deliberately delayed zero-copy views.
CAPACITY = 64
COUNT = 16
REVS = 200


def read_for(shm_dir: str, seconds: float) -> dict:
    """One reader's loop. Returns counters; raises AssertionError on the first torn bar."""
    ring = mdfeed.open_ring("BTCUSDT", shm_dir=shm_dir)
    stats = dict(reads=0, views_checked=0, views_lapped=0, frames=0, formings=0, retries=0,
                 snapshots_lapped=0)
    start = time.monotonic()
    while True:
        elapsed = time.monotonic() - start
        if (elapsed >= seconds and stats["reads"] >= MIN_READS) or elapsed >= MAX_S:
            break
        # Validated copies (closed bars + the forming one): must always be consistent. A writer
        # closing a bar every few hundred ns can outrun every attempt of a slow reader; that
        # is the documented Lapped error, never a torn result.
        try:
            bars = mdfeed.get_bars("BTCUSDT", COUNT, include_forming=True, shm_dir=shm_dir)
        except mdfeed.Lapped:
            stats["snapshots_lapped"] += 1
            continue
        assert ringtool.synth_consistent(bars).all(), bars
        assert ringtool.contiguous(bars), bars
        # Zero-copy view: what was read counts only if the view was still valid after it.
        view = ring.latest(COUNT)
        if stats["reads"] % 2:
            time.sleep(0.001)  # let the writer lap this view: valid() must then say so
        snap = view.bars.copy()
        if view.valid():
            assert ringtool.synth_consistent(snap).all() and ringtool.contiguous(snap), snap
            stats["views_checked"] += 1
        else:
            stats["views_lapped"] += 1
        forming = ring.forming()
        if forming is not None:
            assert ringtool.synth_consistent(forming).all() and not forming["flags"][0] & 1
            stats["formings"] += 1
        if stats["reads"] % 8 == 0:  # DataFrames are slower: every 8th round
            try:
                df = mdfeed.get_price("BTCUSDT", COUNT, include_forming=True, shm_dir=shm_dir)
                assert ringtool.synth_consistent(df).all() and ringtool.contiguous(df), df
                stats["frames"] += 1
            except mdfeed.Lapped:
                stats["snapshots_lapped"] += 1
        stats["reads"] += 1
    stats["retries"] = ring.retries + mdfeed.api._rings[ring.path].retries
    return stats


# Liveness is not under test here; a writer starved of CPU for 1.5 s must not fail it.
@pytest.mark.filterwarnings("ignore::mdfeed.StaleWarning")
def test_readers_never_see_a_torn_bar(shm_dir):
    with ringtool.Running(shm_dir, closed=COUNT, capacity=CAPACITY, stress=True, revs=REVS,
                          max_ms=int((MAX_S + 30) * 1000)) as tool:
        ring = mdfeed.open_ring("BTCUSDT", shm_dir=shm_dir)
        start_closed = ring.closed_count()
        # A second reader in its own process, as strategies are (same mdfeed as ours).
        env = dict(os.environ, PYTHONPATH=str(Path(mdfeed.__file__).parents[1]))
        other = subprocess.Popen(
            [sys.executable, "-c", "import sys, test_concurrency as t; "
             "print(t.read_for(sys.argv[1], float(sys.argv[2])))", str(shm_dir),
             str(DURATION_S)], cwd=Path(__file__).parent, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        stats = read_for(str(shm_dir), DURATION_S)
        out, err = other.communicate(timeout=MAX_S + 30)
        assert other.returncode == 0, err
        progressed = ring.closed_count() - start_closed
        done = tool.stop()
    print("reader:", stats, "other reader:", out.strip(), "writer:", done)
    assert stats["reads"] >= MIN_READS and stats["frames"] > 10 and stats["formings"] > 0
    assert stats["views_checked"] > 0 and stats["views_lapped"] > 0
    # The writer really was busy: thousands of bars, i.e. the ring lapped many times over.
    assert progressed > 100 * CAPACITY, progressed
    assert "updates=" in done and int(done.rsplit("=", 1)[1]) > 0
