"""Reads of rings written by the C++ writer: exact values, zero copy, wrap, replacement, args."""

import mmap
import warnings

import numpy as np
import pandas as pd
import pytest

import mdfeed
import ringtool

_PRICE_FLOATS = ("open", "high", "low", "close", "volume", "quote_volume")


def _bits(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64).view(np.uint64)


def _assert_frame_is(df: pd.DataFrame, bars: np.ndarray) -> None:
    """df holds exactly `bars` (bit-equal doubles), in the get_price contract's shape."""
    assert list(df.columns) == list(mdfeed.COLUMNS)
    assert str(df.index.tz) == "UTC" and df.index.name == "open_time"
    assert (df.index.asi8 // 1_000_000 == bars["open_time_ms"]).all()
    for c in _PRICE_FLOATS:
        assert df[c].dtype == np.float64
        assert np.array_equal(_bits(df[c].to_numpy()), _bits(bars[c])), c
    # Int64 on every venue; a known count is the exact integer (tricky counts exceed 2^53).
    known = (bars["flags"] & mdfeed.BAR_NO_TRADES) == 0
    assert df["trades"].dtype == pd.Int64Dtype()
    assert (df["trades"].isna().to_numpy() == ~known).all()
    assert [int(t) for t in df["trades"][known]] == [int(t) for t in bars["trades"][known]]
    assert df["closed"].dtype == bool
    assert (df["closed"].to_numpy() == ((bars["flags"] & 1) != 0)).all()


def _assert_bars_are(got: np.ndarray, want: np.ndarray) -> None:
    """Every Bar field byte-equal (reserved padding aside)."""
    assert got.dtype == mdfeed.BAR_DTYPE and len(got) == len(want)
    for name in mdfeed.BAR_DTYPE.names:
        assert got[name].tobytes() == want[name].tobytes(), name


@pytest.fixture
def live_tricky(shm_dir):
    """A live writer holding 25 closed bars of awkward doubles plus a forming bar."""
    with ringtool.Running(shm_dir, closed=25, forming=True, values="tricky", hold=True) as tool:
        yield tool.written


def test_get_price_is_bit_equal_to_what_cpp_wrote(shm_dir, live_tricky):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a live writer: no StaleWarning
        df = mdfeed.get_price("BTCUSDT", count=20, shm_dir=shm_dir)
    _assert_frame_is(df, live_tricky.closed[-20:])


def test_get_price_include_forming_appends_the_forming_bar(shm_dir, live_tricky):
    df = mdfeed.get_price("BTCUSDT", count=20, include_forming=True, shm_dir=shm_dir)
    assert len(df) == 21 and not df["closed"].iloc[-1] and df["closed"].iloc[:-1].all()
    _assert_frame_is(df, np.concatenate((live_tricky.closed[-20:], live_tricky.forming)))


def test_get_bars_every_field_bit_equal(shm_dir, live_tricky):
    _assert_bars_are(mdfeed.get_bars("BTCUSDT", 20, shm_dir=shm_dir), live_tricky.closed[-20:])
    with_forming = mdfeed.get_bars("BTCUSDT", 20, include_forming=True, shm_dir=shm_dir)
    _assert_bars_are(with_forming, np.concatenate((live_tricky.closed[-20:],
                                                   live_tricky.forming)))


def test_ring_forming_is_a_validated_copy(shm_dir, live_tricky):
    ring = mdfeed.open_ring("BTCUSDT", shm_dir=shm_dir)
    forming = ring.forming()
    _assert_bars_are(forming, live_tricky.forming)
    assert not forming.flags.writeable
    assert not np.shares_memory(forming, np.frombuffer(ring._mm, np.uint8))


def test_get_bars_is_a_zero_copy_read_only_view(shm_dir, live_tricky):
    bars = mdfeed.get_bars("BTCUSDT", 20, shm_dir=shm_dir)
    base = bars
    while isinstance(base, np.ndarray):
        base = base.base
    assert isinstance(base, mmap.mmap)  # the chain of views ends at the mapping itself
    assert np.shares_memory(bars, np.frombuffer(base, np.uint8))
    assert not bars.flags.owndata and not bars.flags.writeable
    with pytest.raises(ValueError):
        bars["close"][0] = 1.0
    with pytest.raises(ValueError):
        bars.setflags(write=True)  # the mapping itself is read-only (ACCESS_READ)


def test_copies_are_read_only_too(shm_dir, live_tricky):
    bars = mdfeed.get_bars("BTCUSDT", 20, include_forming=True, shm_dir=shm_dir)
    assert not bars.flags.writeable


def test_wrapped_window_is_a_validated_copy(shm_dir):
    # capacity 16, 20 closed: the last 10 are in slots 10..15 then 0..3.
    written = ringtool.write(shm_dir, closed=20, capacity=16, values="tricky")
    ring = mdfeed.open_ring("BTCUSDT", shm_dir=shm_dir)
    view = ring.latest(10)
    assert not view.zero_copy and view.first_index == 10 and view.valid()
    _assert_bars_are(view.bars, written.closed[10:])
    assert not view.bars.flags.writeable
    # A window that does not wrap is a view, valid while the writer has not lapped it.
    inner = ring.latest(3)
    assert inner.zero_copy and inner.valid() and inner.first_index == 17


def test_count_is_capped_at_what_the_ring_holds(shm_dir):
    written = ringtool.write(shm_dir, closed=40, capacity=16, values="tricky")
    with pytest.warns(mdfeed.StaleWarning):
        df = mdfeed.get_price("BTCUSDT", count=100, shm_dir=shm_dir)
    _assert_frame_is(df, written.closed[-15:])  # capacity - 1: one slot is the writer's


def test_fewer_bars_than_count_without_fallback(shm_dir):
    written = ringtool.write(shm_dir, closed=5, values="tricky")
    with pytest.warns(mdfeed.StaleWarning):
        df = mdfeed.get_price("BTCUSDT", count=20, include_forming=True, shm_dir=shm_dir)
    _assert_frame_is(df, written.closed)  # no forming bar was published


@pytest.mark.parametrize("interval", ["1s", "5m", "1h", "1M"])
def test_other_intervals(shm_dir, interval):
    written = ringtool.write(shm_dir, closed=4, interval=interval, values="tricky")
    with pytest.warns(mdfeed.StaleWarning):
        bars = mdfeed.get_bars("BTCUSDT", 4, frequency=interval, shm_dir=shm_dir)
    _assert_bars_are(bars, written.closed)
    if interval == "1M":  # calendar months from Dec 2023: 31, 31 and 29 (leap year) days
        days = np.diff(bars["open_time_ms"]) // 86_400_000
        assert days.tolist() == [31, 31, 29]


def test_follows_a_ring_replaced_by_the_daemon(shm_dir):
    first = ringtool.write(shm_dir, closed=10, capacity=16, values="tricky")
    with pytest.warns(mdfeed.StaleWarning):
        before = mdfeed.get_bars("BTCUSDT", 5, shm_dir=shm_dir)
    old_ident = mdfeed.api._rings[first.path].ident
    # Another capacity is incompatible: the writer builds a new file and rename()s it over.
    second = ringtool.write(shm_dir, closed=3, capacity=32, values="tricky")
    with pytest.warns(mdfeed.StaleWarning):
        after = mdfeed.get_price("BTCUSDT", 20, shm_dir=shm_dir)
    assert mdfeed.api._rings[first.path].ident != old_ident
    assert mdfeed.api._rings[first.path].capacity == 32
    _assert_frame_is(after, np.concatenate((first.closed, second.closed)))
    # The view taken before the replacement still reads the old file's bytes (no SIGBUS).
    _assert_bars_are(before, first.closed[-5:])


def test_removed_ring_is_not_found(shm_dir):
    written = ringtool.write(shm_dir, closed=3)
    with pytest.warns(mdfeed.StaleWarning):
        mdfeed.get_price("BTCUSDT", shm_dir=shm_dir)
    (shm_dir / "binance" / "BTCUSDT.1m.ring").unlink()
    with pytest.raises(mdfeed.NotFound, match="BTCUSDT.1m.ring"):
        mdfeed.get_price("BTCUSDT", shm_dir=shm_dir)
    assert written.path not in mdfeed.api._rings


def test_wealthdata_reexports_get_price(shm_dir, live_tricky):
    from wealthdata import get_price
    assert get_price is mdfeed.get_price
    _assert_frame_is(get_price("BTCUSDT", 3, "1m", shm_dir=shm_dir), live_tricky.closed[-3:])


def test_shm_dir_from_environment(shm_dir, live_tricky, monkeypatch):
    monkeypatch.setenv("MDFEED_SHM_DIR", str(shm_dir))
    _assert_frame_is(mdfeed.get_price("btcusdt", 2), live_tricky.closed[-2:])  # upper-cased


@pytest.mark.parametrize("frequency", ["2m", "1min", "M1", "", "1H", 60, None])
def test_unknown_frequency_lists_the_valid_ones(shm_dir, frequency):
    with pytest.raises(ValueError, match="valid: 1s 1m 3m 5m 15m 30m 1h .* 1w 1M") as err:
        mdfeed.get_price("BTCUSDT", frequency=frequency, shm_dir=shm_dir)
    assert isinstance(err.value, mdfeed.InvalidFrequency)
    assert isinstance(err.value, mdfeed.Error)


@pytest.mark.parametrize("count,message", [
    (0, "count must be >= 1, got 0"), (-5, "count must be >= 1, got -5"),
    (2.5, "positive integer"), ("20", "positive integer"), (True, "positive integer"),
])
def test_bad_count_is_a_value_error(shm_dir, count, message):
    for read in (mdfeed.get_price, mdfeed.get_bars):
        with pytest.raises(ValueError, match=message) as err:
            read("BTCUSDT", count=count, shm_dir=shm_dir)
        assert isinstance(err.value, mdfeed.Error)


def test_numpy_integer_count_is_accepted(shm_dir, live_tricky):
    assert len(mdfeed.get_price("BTCUSDT", count=np.int64(4), shm_dir=shm_dir)) == 4


@pytest.mark.parametrize("kwargs,message", [
    ({"symbol": "BTC/USDT"}, "invalid symbol"), ({"symbol": "../etc"}, "invalid symbol"),
    ({"symbol": "A" * 32}, "invalid symbol"), ({"symbol": ["BTCUSDT"]}, "invalid symbol"),
    ({"feed": "Binance"}, "invalid feed"),
    ({"feed": "a/b"}, "invalid feed"), ({"fallback": 42}, "fallback must be callable"),
])
def test_bad_names_are_value_errors(shm_dir, kwargs, message):
    args = {"symbol": "BTCUSDT", "shm_dir": shm_dir, **kwargs}
    with pytest.raises(mdfeed.InvalidArgument, match=message):
        mdfeed.get_price(args.pop("symbol"), **args)


def test_feed_selects_the_rings_namespace(shm_dir):
    written = ringtool.write(shm_dir, closed=3, feed="binance-usdm", values="tricky")
    with pytest.warns(mdfeed.StaleWarning):
        df = mdfeed.get_price("BTCUSDT", 3, feed="binance-usdm", shm_dir=shm_dir)
    _assert_frame_is(df, written.closed)
    with pytest.raises(mdfeed.NotFound, match="/binance/BTCUSDT.1m.ring"):
        mdfeed.get_price("BTCUSDT", 3, shm_dir=shm_dir)  # default feed "binance": no ring
