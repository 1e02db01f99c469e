"""A dead writer never yields silently old data: StaleWarning, or Stale with strict=True."""

import shutil
import time
import warnings

import pytest

import mdfeed
from mdfeed import layout
import ringtool


def test_stopped_writer_warns_and_still_returns_the_bars(shm_dir):
    written = ringtool.write(shm_dir, closed=4)  # the tool exits: state "stopped"
    with pytest.warns(mdfeed.StaleWarning, match="state stopped") as rec:
        df = mdfeed.get_price("BTCUSDT", 4, shm_dir=shm_dir)
    assert rec[0].filename == __file__  # points at the caller, not at mdfeed's internals
    assert len(df) == 4 and (df["close"].to_numpy() == written.closed["close"]).all()
    with pytest.warns(mdfeed.StaleWarning):
        assert len(mdfeed.get_bars("BTCUSDT", 4, shm_dir=shm_dir)) == 4


def test_stopped_writer_with_strict_raises(shm_dir):
    ringtool.write(shm_dir, closed=4)
    with pytest.raises(mdfeed.Stale, match="state stopped.*strict") as err:
        mdfeed.get_price("BTCUSDT", 4, shm_dir=shm_dir, strict=True)
    assert isinstance(err.value, mdfeed.Error)


def test_live_writer_is_silent_until_it_stops(shm_dir):
    tool = ringtool.Running(shm_dir, closed=4, hold=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(mdfeed.get_price("BTCUSDT", 4, shm_dir=shm_dir, strict=True)) == 4
    tool.stop()
    # Same cached mapping: the state change is seen, not just a fresh open's.
    with pytest.raises(mdfeed.Stale):
        mdfeed.get_price("BTCUSDT", 4, shm_dir=shm_dir, strict=True)


def _copy_with_writer(shm_dir, tmp_path, state: int, heartbeat_ns: int):
    """A copy of a real ring whose header claims the given writer state and heartbeat."""
    ringtool.write(shm_dir, closed=3)
    other = tmp_path / "copy"
    shutil.copytree(shm_dir, other)
    with open(other / "binance" / "BTCUSDT.1m.ring", "r+b") as f:
        f.seek(layout.offset_of("writer_state"))
        f.write(state.to_bytes(4, "little"))
        f.seek(layout.offset_of("heartbeat_ns"))
        f.write(heartbeat_ns.to_bytes(8, "little"))
    return other


def test_live_state_with_an_old_heartbeat_is_stale(shm_dir, tmp_path):
    # A daemon killed with SIGKILL leaves state "live" behind; only the heartbeat tells.
    old = time.monotonic_ns() - 10 * 10**9
    other = _copy_with_writer(shm_dir, tmp_path, layout.STATE_LIVE, old)
    with pytest.warns(mdfeed.StaleWarning, match="state live"):
        mdfeed.get_price("BTCUSDT", shm_dir=other)
    with pytest.raises(mdfeed.Stale, match=r"last heartbeat 1\d\.\d s ago"):
        mdfeed.get_price("BTCUSDT", shm_dir=other, strict=True)


def test_live_state_with_a_fresh_heartbeat_is_alive(shm_dir, tmp_path):
    # Same clock as the C++ writer (CLOCK_MONOTONIC): a heartbeat of "now" counts as alive.
    other = _copy_with_writer(shm_dir, tmp_path, layout.STATE_LIVE, time.monotonic_ns())
    assert len(mdfeed.get_price("BTCUSDT", shm_dir=other, strict=True)) == 3


def test_never_started_writer_is_stale(shm_dir, tmp_path):
    other = _copy_with_writer(shm_dir, tmp_path, layout.STATE_INIT, 0)
    with pytest.raises(mdfeed.Stale, match="state init"):
        mdfeed.get_bars("BTCUSDT", shm_dir=other, strict=True)
