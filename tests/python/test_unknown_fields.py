"""Fields a venue does not send (OKX, Bybit: trade count, taker-buy volumes) are unknown, never
zero: NaN doubles, BAR_NO_TRADES in the ring, pd.NA in get_price's Int64 trades column, and the
fallback splice carries unknown counts both ways."""

import warnings

import numpy as np
import pandas as pd
import pytest

import mdfeed
import ringtool

BASE, MINUTE = ringtool.BASE_OPEN_MS, ringtool.MINUTE_MS
_FLOATS = ("open", "high", "low", "close", "volume", "quote_volume")


def _bits(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64).view(np.uint64)


@pytest.fixture
def okx_ring(shm_dir):
    """A live OKX-style ring: 10 closed bars and a forming one, all without trade counts and
    taker-buy volumes."""
    with ringtool.Running(shm_dir, feed="okx", symbol="BTC-USDT-SWAP", closed=10, forming=True,
                          unknown_fields="all", hold=True) as tool:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # live writer: no StaleWarning
            yield tool.written


@pytest.fixture
def mixed_ring(shm_dir):
    """Tricky values (trade counts above 2^53); odd-numbered bars without trade counts."""
    with ringtool.Running(shm_dir, closed=12, forming=True, values="tricky",
                          unknown_fields="odd", hold=True) as tool:
        yield tool.written


def test_flag_value_matches_the_cpp_writer(mixed_ring):
    flags = mixed_ring.closed["flags"]
    assert mdfeed.BAR_NO_TRADES == 4
    # The C++ writer set kBarNoTrades on exactly the odd bars: same bit as BAR_NO_TRADES.
    assert ((flags & mdfeed.BAR_NO_TRADES) != 0).tolist() == [i % 2 == 1 for i in range(12)]
    assert (flags & ~np.uint32(mdfeed.BAR_CLOSED | mdfeed.BAR_BACKFILLED
                               | mdfeed.BAR_NO_TRADES) == 0).all()


def test_get_price_unknown_trades_are_na_and_missing_doubles_nan(shm_dir, okx_ring):
    df = mdfeed.get_price("BTC-USDT-SWAP", count=5, feed="okx", include_forming=True,
                          shm_dir=shm_dir)
    want = np.concatenate((okx_ring.closed[-5:], okx_ring.forming))
    assert len(df) == 6 and df["trades"].dtype == pd.Int64Dtype()
    assert df["trades"].isna().all() and all(t is pd.NA for t in df["trades"])
    for c in _FLOATS:  # the doubles OKX does send: bit for bit
        assert df[c].dtype == np.float64
        assert np.array_equal(_bits(df[c].to_numpy()), _bits(want[c])), c
    assert df["closed"].tolist() == [True] * 5 + [False]


def test_get_bars_keeps_the_ring_bytes_and_trades_known_says_which(shm_dir, okx_ring):
    bars = mdfeed.get_bars("BTC-USDT-SWAP", count=5, feed="okx", shm_dir=shm_dir)
    assert np.isnan(bars["taker_buy_volume"]).all()
    assert np.isnan(bars["taker_buy_quote_volume"]).all()
    assert (bars["trades"] == 0).all()  # stored as 0: meaningless without the flag
    known = mdfeed.trades_known(bars)
    assert known.dtype == bool and known.shape == (5,) and not known.any()
    with_forming = mdfeed.get_bars("BTC-USDT-SWAP", count=5, feed="okx", include_forming=True,
                                   shm_dir=shm_dir)
    assert not mdfeed.trades_known(with_forming).any()


def test_mixed_rows_binance_counts_stay_exact(shm_dir, mixed_ring):
    df = mdfeed.get_price("BTCUSDT", count=12, shm_dir=shm_dir)
    want = mixed_ring.closed
    odd = np.arange(12) % 2 == 1
    assert df["trades"].dtype == pd.Int64Dtype()
    assert df["trades"].isna().to_numpy().tolist() == odd.tolist()
    # Known counts above 2^53 survive exactly (no trip through float64).
    assert [int(t) for t in df["trades"][~odd]] == [(1 << 53) + i for i in range(0, 12, 2)]
    assert df["trades"].iloc[0] == 1 << 53
    assert np.isnan(want["taker_buy_volume"][odd]).all()
    bars = mdfeed.get_bars("BTCUSDT", count=12, shm_dir=shm_dir)
    assert mdfeed.trades_known(bars).tolist() == (~odd).tolist()
    assert (bars["taker_buy_quote_volume"][~odd] == 0.0).all()  # tricky: -0.0, not NaN


def test_binance_ring_has_int64_dtype_and_no_na(shm_dir):
    written = ringtool.write(shm_dir, closed=6, values="tricky")
    with pytest.warns(mdfeed.StaleWarning):
        df = mdfeed.get_price("BTCUSDT", count=6, shm_dir=shm_dir)
    assert df["trades"].dtype == pd.Int64Dtype() and not df["trades"].isna().any()
    assert df["trades"].to_numpy(np.int64).tolist() == written.closed["trades"].tolist()


# --- the fallback splice with unknown counts ---------------------------------------------------


def _history(indices, trades) -> pd.DataFrame:
    i = np.asarray(list(indices), dtype=np.int64)
    index = pd.DatetimeIndex((BASE + i * MINUTE).astype("datetime64[ms]"), tz="UTC",
                             name="open_time")
    return pd.DataFrame({
        "open": 1000.0 + i, "high": 1001.5 + i, "low": 999.0 + i, "close": 1000.5 + i,
        "volume": 0.1 * (i + 100), "quote_volume": 7.0 * (i + 100), "trades": trades,
        "closed": np.ones(len(i), bool)}, index=index)


@pytest.mark.parametrize("trades", [
    pd.array([pd.NA, 7, pd.NA, 9], dtype="Int64"),  # what get_price itself returns
    np.array([np.nan, 7.0, np.nan, 9.0]),            # a float column with NaN
    pd.array([None, 7, None, 9], dtype=object),      # object column with None
])
def test_fallback_with_unknown_counts_splices_in_front_of_an_okx_ring(shm_dir, okx_ring,
                                                                      trades):
    fb = _history(range(-4, 0), trades)
    df = mdfeed.get_price("BTC-USDT-SWAP", count=14, feed="okx", shm_dir=shm_dir,
                          fallback=lambda *a: fb)
    assert len(df) == 14 and df["trades"].dtype == pd.Int64Dtype()
    assert df["trades"].iloc[:4].tolist() == [pd.NA, 7, pd.NA, 9]
    assert df["trades"].iloc[4:].isna().all()  # the ring's OKX bars
    assert df["close"].iloc[:4].tolist() == [996.5, 997.5, 998.5, 999.5]

    bars = mdfeed.get_bars("BTC-USDT-SWAP", count=14, feed="okx", shm_dir=shm_dir,
                           fallback=lambda *a: fb)
    old = bars[:4]
    assert old["flags"].tolist() == [
        mdfeed.BAR_CLOSED | mdfeed.BAR_BACKFILLED | (mdfeed.BAR_NO_TRADES if t is None else 0)
        for t in (None, 7, None, 9)]
    assert old["trades"].tolist() == [0, 7, 0, 9]
    assert mdfeed.trades_known(bars).tolist() == [False, True, False, True] + [False] * 10


def test_get_price_result_round_trips_as_a_fallback(shm_dir, mixed_ring):
    """A frame get_price returned (Int64 with pd.NA) is a valid fallback result, unchanged."""
    frame = mdfeed.get_price("BTCUSDT", count=12, shm_dir=shm_dir)
    other = shm_dir / "backtest"
    other.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = mdfeed.get_price("BTCUSDT", count=12, shm_dir=other, fallback=lambda *a: frame)
    pd.testing.assert_frame_equal(df, frame)
