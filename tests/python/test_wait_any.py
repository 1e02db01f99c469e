"""mdfeed.wait_any: one wait over many rings, woken by the shm directory's doorbell.

The writer is ring_writer_tool --many (the real C++ RingWriter and DoorbellWriter, in another
process): each command publishes to the named rings and then rings the bell once, as the daemon
does per service pass.
"""

import random
import threading
import time

import pytest

import mdfeed
import mdfeed.watch as watch
import ringtool

N_RINGS = 100
SYMBOLS = [f"SYM{k:03d}" for k in range(N_RINGS)]


def _open_all(shm_dir):
    return [mdfeed.open_ring(s, "1m", shm_dir=str(shm_dir)) for s in SYMBOLS]


class _Waiter(threading.Thread):
    """wait_any in a thread: blocked before the change happens, as a real follower is."""

    def __init__(self, rings, timeout):
        super().__init__(daemon=True)
        self.rings, self.timeout = rings, timeout
        self.result, self.woke_at = None, None
        self.started_at = time.monotonic()

    def run(self):
        self.result = mdfeed.wait_any(self.rings, self.timeout)
        self.woke_at = time.monotonic()


@pytest.fixture
def no_recheck(monkeypatch):
    """Only the bell can end a wait early: the safety re-check is pushed past every timeout."""
    monkeypatch.setattr(watch, "RECHECK_INTERVAL_S", 3600.0)
    watch._bells.clear()
    yield
    watch._bells.clear()


def test_any_one_of_100_rings_wakes_the_waiter_and_is_named(shm_dir, no_recheck):
    with ringtool.Running(shm_dir, many=N_RINGS) as tool:
        rings = _open_all(shm_dir)
        assert mdfeed.has_doorbell(str(shm_dir))
        assert mdfeed.wait_any(rings, 0) == []  # nothing moved since they were opened
        rng = random.Random(11)
        for k in rng.sample(range(N_RINGS), 8) + [0, N_RINGS - 1]:
            waiter = _Waiter(rings, timeout=20.0)
            waiter.start()
            time.sleep(0.05)  # let it block on the bell
            assert waiter.is_alive(), "wait_any returned before any change"
            sent = time.monotonic()
            tool.command(str(k))
            waiter.join(10.0)
            assert not waiter.is_alive(), f"ring {k} changed, the waiter still sleeps"
            assert [r.symbol for r in waiter.result] == [SYMBOLS[k]]
            assert waiter.result[0] is rings[k]
            assert waiter.woke_at - sent < 5.0


def test_several_rings_in_one_pass_are_all_returned_in_order(shm_dir, no_recheck):
    with ringtool.Running(shm_dir, many=N_RINGS) as tool:
        rings = _open_all(shm_dir)
        tool.command("42 7 99")
        assert [r.symbol for r in mdfeed.wait_any(rings, 5.0)] == [SYMBOLS[7], SYMBOLS[42],
                                                                    SYMBOLS[99]]
        # Reported once: the next wait sees nothing new.
        assert mdfeed.wait_any(rings, 0.05) == []


def test_timeout_with_no_change_returns_empty(shm_dir, no_recheck):
    with ringtool.Running(shm_dir, many=N_RINGS) as tool:
        rings = _open_all(shm_dir)
        t0 = time.monotonic()
        assert mdfeed.wait_any(rings, 0.2) == []
        assert time.monotonic() - t0 >= 0.19
        # A bell with no ring change (another process's rings) wakes it, but it keeps waiting.
        waiter = _Waiter(rings, timeout=0.5)
        waiter.start()
        time.sleep(0.05)
        tool.command("bell")
        waiter.join(5.0)
        assert waiter.result == []
        assert waiter.woke_at - waiter.started_at >= 0.45


def test_a_subset_ignores_other_rings(shm_dir, no_recheck):
    with ringtool.Running(shm_dir, many=N_RINGS) as tool:
        rings = _open_all(shm_dir)
        subset = rings[10:20]
        tool.command("5")  # not in the subset
        assert mdfeed.wait_any(subset, 0.1) == []
        tool.command("15")
        assert mdfeed.wait_any(subset, 5.0) == [rings[15]]


def test_without_a_doorbell_it_polls(shm_dir):
    watch._bells.clear()
    try:
        with ringtool.Running(shm_dir, many=10, no_doorbell=True) as tool:
            rings = [mdfeed.open_ring(s, "1m", shm_dir=str(shm_dir)) for s in SYMBOLS[:10]]
            assert not mdfeed.has_doorbell(str(shm_dir))
            waiter = _Waiter(rings, timeout=20.0)
            waiter.start()
            time.sleep(0.05)
            sent = time.monotonic()
            tool.command("3")
            waiter.join(10.0)
            assert [r.symbol for r in waiter.result] == [SYMBOLS[3]]
            assert waiter.woke_at - sent < 5.0
    finally:
        watch._bells.clear()


def test_arguments_are_checked(shm_dir, tmp_path):
    with pytest.raises(mdfeed.InvalidArgument):
        mdfeed.wait_any([], 0)
    with pytest.raises(mdfeed.InvalidArgument):
        mdfeed.wait_any(["BTCUSDT"], 0)
    other = tmp_path / "other"
    other.mkdir()
    ringtool.write(shm_dir, closed=1)
    ringtool.write(other, closed=1)
    a = mdfeed.open_ring("BTCUSDT", shm_dir=str(shm_dir))
    b = mdfeed.open_ring("BTCUSDT", shm_dir=str(other))
    with pytest.raises(mdfeed.InvalidArgument, match="one shm directory"):
        mdfeed.wait_any([a, b], 0)
