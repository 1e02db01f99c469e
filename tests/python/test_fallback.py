"""The history fallback: splice at the seam, the backtest path (no ring) and the errors."""

import warnings

import numpy as np
import pandas as pd
import pytest

import mdfeed
import ringtool

BASE, MINUTE = ringtool.BASE_OPEN_MS, ringtool.MINUTE_MS
FALLBACK_CLOSE = -1.0  # marks a row that came from the fallback, not the ring


def history(indices, closed=None, tz="UTC") -> pd.DataFrame:
    """A fallback frame in get_price's shape for synth bar numbers `indices` (may be < 0)."""
    i = np.asarray(list(indices), dtype=np.int64)
    index = pd.DatetimeIndex((BASE + i * MINUTE).astype("datetime64[ms]"), name="open_time")
    index = index.tz_localize(tz) if tz else index
    return pd.DataFrame({
        "open": 1000.0 + i, "high": 1001.5 + i, "low": 999.0 + i,
        "close": np.full(len(i), FALLBACK_CLOSE), "volume": 0.1 * (i + 100),
        "quote_volume": 7.0 * (i + 100), "trades": i + 100,
        "closed": np.ones(len(i), bool) if closed is None else closed,
    }, index=index)


class Recorder:
    """A fallback that records its calls and returns a fixed frame."""

    def __init__(self, frame):
        self.frame, self.calls = frame, []

    def __call__(self, symbol, count, frequency):
        self.calls.append((symbol, count, frequency))
        return self.frame


@pytest.fixture
def ring5(shm_dir):
    """A live ring holding synth bars 0..4 closed and bar 5 forming."""
    with ringtool.Running(shm_dir, closed=5, forming=True, hold=True) as tool:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # live writer: any StaleWarning is a failure
            yield tool.written


def _bar_numbers(df) -> np.ndarray:
    return (df.index.asi8 // 1_000_000 - BASE) // MINUTE


def _assert_ring_rows(df, written):
    """Rows with bar number >= 0 are the ring's, bit for bit; the others the fallback's."""
    from_ring = _bar_numbers(df) >= 0
    ring = df[from_ring]
    assert ringtool.synth_consistent(ring).all()
    assert (ring["close"].to_numpy() == written.closed["close"][_bar_numbers(ring)]).all()
    assert (df.loc[~from_ring, "close"] == FALLBACK_CLOSE).all()


def test_splice_at_the_seam_ring_wins_on_overlap(shm_dir, ring5):
    fb = Recorder(history(range(-30, 3)))  # more rows than asked, overlaps ring bars 0..2
    df = mdfeed.get_price("BTCUSDT", count=12, shm_dir=shm_dir, fallback=fb)
    assert fb.calls == [("BTCUSDT", 12, "1m")]
    assert _bar_numbers(df).tolist() == list(range(-7, 5))  # no gap, no duplicate
    assert df.index.is_unique and df.index.is_monotonic_increasing
    _assert_ring_rows(df, ring5)
    assert df["closed"].all() and str(df.index.tz) == "UTC"


def test_splice_when_history_ends_right_before_the_ring(shm_dir, ring5):
    df = mdfeed.get_price("BTCUSDT", count=8, shm_dir=shm_dir,
                          fallback=Recorder(history(range(-20, 0))))
    assert _bar_numbers(df).tolist() == list(range(-3, 5))
    _assert_ring_rows(df, ring5)


def test_splice_keeps_the_forming_bar_last(shm_dir, ring5):
    df = mdfeed.get_price("BTCUSDT", count=8, include_forming=True, shm_dir=shm_dir,
                          fallback=Recorder(history(range(-20, 1))))
    assert _bar_numbers(df).tolist() == list(range(-3, 6))
    assert df["closed"].tolist() == [True] * 8 + [False]
    assert ringtool.synth_consistent(df.iloc[-1:]).all()


def test_gap_at_the_seam_is_an_error(shm_dir, ring5):
    with pytest.raises(mdfeed.SpliceError, match="gap at the seam") as err:
        mdfeed.get_price("BTCUSDT", count=12, shm_dir=shm_dir,
                         fallback=Recorder(history(range(-20, -2))))  # lacks bars -2 and -1
    seam = pd.Timestamp(BASE, unit="ms", tz="UTC").isoformat()
    assert seam in str(err.value)


def test_fallback_not_called_when_the_ring_has_enough(shm_dir, ring5):
    fb = Recorder(history(range(-5, 0)))
    df = mdfeed.get_price("BTCUSDT", count=5, shm_dir=shm_dir, fallback=fb)
    assert fb.calls == [] and _bar_numbers(df).tolist() == list(range(5))


def test_empty_history_leaves_the_ring_bars(shm_dir, ring5):
    df = mdfeed.get_price("BTCUSDT", count=12, shm_dir=shm_dir,
                          fallback=Recorder(history([])))
    assert _bar_numbers(df).tolist() == list(range(5))


def test_unsorted_naive_duplicated_history_is_normalised(shm_dir, ring5):
    frame = history([-3, -1, -2, -2, -4], tz=None)  # naive index = UTC; -2 given twice
    frame.iloc[3, frame.columns.get_loc("open")] = 4242.0  # the later duplicate wins
    df = mdfeed.get_price("BTCUSDT", count=9, shm_dir=shm_dir, fallback=Recorder(frame))
    assert _bar_numbers(df).tolist() == list(range(-4, 5))
    assert df["open"].iloc[2] == 4242.0


def test_get_bars_with_fallback_keeps_the_bar_dtype(shm_dir, ring5):
    bars = mdfeed.get_bars("BTCUSDT", count=7, shm_dir=shm_dir,
                           fallback=Recorder(history(range(-10, 0))))
    assert bars.dtype == mdfeed.BAR_DTYPE and not bars.flags.writeable and len(bars) == 7
    old, ring = bars[:2], bars[2:]
    assert (old["flags"] == 3).all()  # closed | backfilled
    assert (old["close_time_ms"] == old["open_time_ms"] + MINUTE - 1).all()
    assert np.isnan(old["taker_buy_volume"]).all()
    assert ringtool.synth_consistent(ring).all() and (ring["flags"] == 1).all()


def test_backtest_without_a_ring_uses_the_fallback_only(shm_dir):
    closed = np.ones(51, bool)
    closed[-1] = False  # the history's own forming bar
    frame = history(range(-50, 1), closed=closed)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ring, so nothing can be stale
        df = mdfeed.get_price("BTCUSDT", count=20, shm_dir=shm_dir, fallback=Recorder(frame))
        with_forming = mdfeed.get_price("BTCUSDT", count=20, include_forming=True,
                                        shm_dir=shm_dir, fallback=Recorder(frame))
    expected = frame.astype({"trades": "Int64"})  # get_price's trades are always Int64
    pd.testing.assert_frame_equal(df, expected.iloc[-21:-1])
    pd.testing.assert_frame_equal(with_forming, expected.iloc[-21:])


def test_no_ring_and_no_fallback_is_not_found(shm_dir):
    with pytest.raises(mdfeed.NotFound, match=r"binance/BTCUSDT\.1m\.ring.*fallback=") as err:
        mdfeed.get_price("BTCUSDT", shm_dir=shm_dir)
    assert isinstance(err.value, mdfeed.Error)
    with pytest.raises(mdfeed.NotFound):
        mdfeed.get_bars("BTCUSDT", shm_dir=shm_dir / "no-such-dir")


@pytest.mark.parametrize("returned,message", [
    ([1, 2, 3], "fallback returned list"),
    (history(range(-3, 0)).drop(columns=["trades"]), r"lacks columns \['trades'\]"),
    (history(range(-3, 0)).reset_index(drop=True), "index must be the bar open time"),
])
def test_malformed_fallback_result_is_an_error(shm_dir, ring5, returned, message):
    with pytest.raises(mdfeed.SpliceError, match=message):
        mdfeed.get_price("BTCUSDT", count=10, shm_dir=shm_dir, fallback=lambda *a: returned)


def _months(first: str, n: int) -> pd.DataFrame:
    index = pd.date_range(first, periods=n, freq="MS", tz="UTC", name="open_time")
    frame = history(range(-n, 0))
    return frame.set_axis(index, axis=0)


@pytest.mark.parametrize("first,ok", [("2023-10-01", True), ("2023-09-01", False)])
def test_calendar_month_seam(shm_dir, first, ok):
    # The tool's monthly ring starts on 2023-12-01: Oct+Nov abut it, Sep+Oct leave a gap.
    ringtool.write(shm_dir, closed=2, interval="1M", values="tricky")
    fb = Recorder(_months(first, 2))
    with pytest.warns(mdfeed.StaleWarning):
        if not ok:
            with pytest.raises(mdfeed.SpliceError, match="2023-11-01"):
                mdfeed.get_price("BTCUSDT", 4, "1M", shm_dir=shm_dir, fallback=fb)
            return
        df = mdfeed.get_price("BTCUSDT", 4, "1M", shm_dir=shm_dir, fallback=fb)
    assert [t.month for t in df.index] == [10, 11, 12, 1]
