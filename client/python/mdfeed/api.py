"""get_bars / get_price: the strategy-facing reads over the rings, with a history fallback.

Flow of one call: check the arguments, find the (cached) mapping of the ring, warn or raise if
its writer is dead, read the last `count` closed bars (plus the forming one if asked), and if
the ring holds fewer than `count`, splice older bars from `fallback` in front of them.
"""

from __future__ import annotations

import numbers
import os
import warnings
from typing import Callable, Optional

import numpy as np
import pandas as pd

from . import layout as L
from .errors import Error, InvalidArgument, NotFound, SpliceError, Stale, StaleWarning
from .names import (check_feed, check_frequency, next_open_ms, normalize_symbol,
                    resolve_shm_dir, ring_path)
from .ring import ALIVE_MAX_AGE_S, Ring

COLUMNS = ("open", "high", "low", "close", "volume", "quote_volume", "trades", "closed")
INDEX_NAME = "open_time"
_FLOAT_COLUMNS = COLUMNS[:6]

Fallback = Callable[[str, int, str], pd.DataFrame]

# One mapping per ring path for the life of the process: opening and validating a ring costs
# far more than a read. A ring replaced by the daemon (new inode) is re-mapped on next use; the
# old mapping lives on for as long as an array returned earlier still views it. Threads may
# share these caches: a race at worst maps the same file twice.
_rings: dict[str, Ring] = {}
# Validated names per (feed, symbol, frequency) as passed; bounded against unbounded inputs.
_names: dict[tuple, tuple[str, str, str]] = {}
_NAMES_MAX = 4096


def get_bars(symbol: str, count: int = 20, frequency: str = "1m", feed: str = "binance",
             include_forming: bool = False, shm_dir: Optional[str] = None,
             fallback: Optional[Fallback] = None, strict: bool = False) -> np.ndarray:
    """The last `count` closed bars (oldest first) as a read-only BAR_DTYPE array.

    Zero copy: when only ring bars are needed, the result is a numpy view on the mapping. It is
    valid at return and stays valid until the writer has closed about capacity - count more
    bars (days for 1m bars in a 4096-slot ring; Ring.latest(n).valid() checks it). A
    validated read-only copy is returned instead when a
    copy cannot be avoided: include_forming (the forming bar lives in the header), a window
    that wraps around the end of the ring, or bars spliced from `fallback`.

    Unknown fields: the bars are the ring's bytes, so nothing is masked. Doubles a venue does
    not send (taker_buy_volume and taker_buy_quote_volume on OKX and Bybit) are NaN. A trade
    count the venue does not send is stored as 0 with BAR_NO_TRADES set in `flags`: never read
    `trades` without checking mdfeed.trades_known(bars) (get_price does this for you, giving
    pd.NA).

    Arguments are those of get_price.
    """
    return _collect(symbol, count, frequency, feed, include_forming, shm_dir, fallback, strict)


def get_price(symbol: str, count: int = 20, frequency: str = "1m", feed: str = "binance",
              include_forming: bool = False, shm_dir: Optional[str] = None,
              fallback: Optional[Fallback] = None, strict: bool = False) -> pd.DataFrame:
    """The last `count` closed bars of `symbol` as a DataFrame.

    Index: bar open time (UTC). Columns: open, high, low, close, volume, quote_volume (float64),
    trades (pandas nullable Int64, always, even when every count is known: the dtype does not
    depend on the venue or the rows), closed (bool). Fields a venue does not send are unknown,
    never zero: NaN in the float columns, pd.NA in trades (OKX and Bybit send no trade count).
    With include_forming=True the bar still forming, if any, is appended as one more
    row with closed=False (as `mdfeed-ctl bars -n N` prints N closed bars plus the forming one).

    frequency: a Binance interval ("1s", "1m", "3m", "5m", ..., "1d", "1w", "1M").
    shm_dir: the rings' directory; default $MDFEED_SHM_DIR, then /dev/shm/mdfeed.
    fallback: fallback(symbol, count, frequency) -> DataFrame shaped like this result (its
        trades may be Int64 with pd.NA, float with NaN, or plain int64); called when the ring
        holds fewer than `count` closed bars (its older rows are spliced in front of the
        ring's, the ring winning where both have a bar) or when there is no ring at all
        (backtests: the result then comes from it entirely).
    strict: a dead writer raises mdfeed.Stale instead of warning with mdfeed.StaleWarning.

    Raises NotFound (no ring, no fallback), InvalidFrequency / InvalidArgument (also
    ValueError), IncompatibleLayout, Stale, SpliceError (fallback cannot join the ring).
    Fewer than `count` rows come back only if neither the ring nor the fallback has more.
    """
    # A DataFrame is a copy, so take the ring's copy-then-validate path: building the frame
    # from a zero-copy view would copy after the check, and a writer lapping the ring in
    # between could hand pandas a torn bar.
    return bars_to_frame(
        _collect(symbol, count, frequency, feed, include_forming, shm_dir, fallback, strict,
                 validated_copy=True))


def open_ring(symbol: str, frequency: str = "1m", feed: str = "binance",
              shm_dir: Optional[str] = None) -> Ring:
    """A new Ring for lower-level use (latest(n) views with valid(), forming(), liveness)."""
    feed, symbol, frequency = _checked_names(feed, symbol, frequency)
    return Ring(ring_path(resolve_shm_dir(shm_dir), feed, symbol, frequency),
                expect=(feed, symbol, frequency))


def bars_to_frame(bars: np.ndarray) -> pd.DataFrame:
    """BAR_DTYPE array -> the get_price DataFrame (copies the values, bit for bit; NaN stays
    NaN). trades is Int64, pd.NA where BAR_NO_TRADES is set."""
    index = pd.DatetimeIndex(bars["open_time_ms"].astype("datetime64[ms]"), tz="UTC",
                             name=INDEX_NAME)
    columns = {c: bars[c] for c in _FLOAT_COLUMNS}
    columns["trades"] = pd.arrays.IntegerArray(bars["trades"].astype(np.int64),
                                               ~trades_known(bars))
    columns["closed"] = (bars["flags"] & L.BAR_CLOSED) != 0
    return pd.DataFrame(columns, index=index)


def trades_known(bars: np.ndarray) -> np.ndarray:
    """Per bar of a BAR_DTYPE array (e.g. from get_bars): True where `trades` is a real count,
    False where the venue does not send one (BAR_NO_TRADES; the stored value is then meaningless,
    normally 0). C++: Bar::trades_known().

        bars = mdfeed.get_bars("BTC-USDT", 20, feed="okx")
        counts = np.where(mdfeed.trades_known(bars), bars["trades"], 0)  # or mask them
    """
    return (np.asarray(bars["flags"]) & L.BAR_NO_TRADES) == 0


# --- one call ---------------------------------------------------------------------------------


def _collect(symbol, count, frequency, feed, include_forming, shm_dir, fallback, strict,
             validated_copy=False):
    """The bars of one get_bars/get_price call; see get_price for the semantics.
    validated_copy: return a copy validated after it was taken instead of a zero-copy view."""
    feed, symbol, frequency = _checked_names(feed, symbol, frequency)
    count = _check_count(count)
    if fallback is not None and not callable(fallback):
        raise InvalidArgument(f"mdfeed: fallback must be callable, got {fallback!r}")
    path = ring_path(resolve_shm_dir(shm_dir), feed, symbol, frequency)
    ring = _cached_ring(path, (feed, symbol, frequency))
    if ring is None:
        if fallback is None:
            raise NotFound(f"mdfeed: ring not found: {path} (is the daemon running with this "
                           f"shm dir, feed, symbol and interval? pass fallback= to read "
                           f"history instead)")
        return _from_fallback_only(fallback, symbol, count, frequency, include_forming)
    _check_alive(ring, strict)
    if include_forming or validated_copy:
        bars = ring.snapshot(count, include_forming=include_forming)
        closed = _closed_count(bars)
    else:
        bars = ring.latest(count).bars
        closed = len(bars)
    if closed < count and fallback is not None:
        history = _frame_to_bars(_call_fallback(fallback, symbol, count, frequency), frequency)
        bars = _splice(history, bars, count - closed, frequency, path)
    return bars


def _checked_names(feed, symbol, frequency) -> tuple[str, str, str]:
    """(feed, SYMBOL, frequency), validated; memoised because strategies poll the same few."""
    key = (feed, symbol, frequency)
    try:
        names = _names.get(key)
    except TypeError:  # unhashable: certainly invalid, the checks below say why
        names = None
    if names is None:
        names = check_feed(feed), normalize_symbol(symbol), check_frequency(frequency)
        if len(_names) < _NAMES_MAX:
            _names[key] = names
    return names


def _check_count(count) -> int:
    if type(count) is int and count > 0:  # the common case, without the ABC check below
        return count
    if isinstance(count, bool) or not isinstance(count, numbers.Integral):
        raise InvalidArgument(f"mdfeed: count must be a positive integer, got {count!r}")
    if count <= 0:
        raise InvalidArgument(f"mdfeed: count must be >= 1, got {count}")
    return int(count)


def _cached_ring(path: str, expect: tuple[str, str, str]) -> Optional[Ring]:
    """The mapping of `path`, re-opened if the file was replaced; None if there is no file."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        _rings.pop(path, None)  # removed: behave exactly like a process that never saw it
        return None
    except OSError as e:  # e.g. EACCES on the directory: not in the mdfeed group
        raise Error(f"mdfeed: cannot stat {path}: {e.strerror}") from None
    ring = _rings.get(path)
    if ring is None or ring.ident != (st.st_dev, st.st_ino):
        try:
            ring = Ring(path, expect)
        except NotFound:  # removed between stat and open
            _rings.pop(path, None)
            return None
        _rings[path] = ring
    return ring


def _check_alive(ring: Ring, strict: bool) -> None:
    """Never serve a dead writer's bars silently: warn, or raise with strict."""
    if ring.writer_alive():
        return
    state = L.STATE_NAMES.get(ring.writer_state(), "unknown")
    age_s = ring.heartbeat_age_s()
    if strict:
        raise Stale(f"mdfeed: {ring.path}: writer is not alive (state {state}, last heartbeat "
                    f"{age_s:.1f} s ago): refusing possibly old bars (strict=True)")
    # The warning text stays the same from call to call (no age in it), so Python's default
    # filter reports it once per call site instead of flooding a strategy's polling loop.
    warnings.warn(f"mdfeed: {ring.path}: writer is not alive (state {state}, heartbeat older "
                  f"than {ALIVE_MAX_AGE_S} s): these bars may be old", StaleWarning,
                  stacklevel=4)  # user code -> get_price -> _collect -> here


def _closed_count(bars: np.ndarray) -> int:
    """Closed rows of a ring read: all of them but a trailing forming bar."""
    if len(bars) and not bars["flags"][-1] & L.BAR_CLOSED:
        return len(bars) - 1
    return len(bars)


def _readonly(bars: np.ndarray) -> np.ndarray:
    bars.flags.writeable = False
    return bars


# --- fallback ---------------------------------------------------------------------------------


def _call_fallback(fallback: Fallback, symbol: str, count: int, frequency: str) -> pd.DataFrame:
    frame = fallback(symbol, count, frequency)
    if not isinstance(frame, pd.DataFrame):
        raise SpliceError(f"mdfeed: fallback returned {type(frame).__name__}, expected a "
                          f"pandas DataFrame shaped like get_price's result")
    return frame


def _from_fallback_only(fallback, symbol, count, frequency, include_forming) -> np.ndarray:
    """No ring (backtest): the last `count` closed fallback bars, plus its forming bar if
    asked and it follows them."""
    history = _frame_to_bars(_call_fallback(fallback, symbol, count, frequency), frequency)
    is_closed = (history["flags"] & L.BAR_CLOSED) != 0
    bars = history[is_closed][-count:]
    last = history[-1:]
    if include_forming and len(last) and not is_closed[-1] and (
            not len(bars) or last["open_time_ms"][0] > bars["open_time_ms"][-1]):
        bars = L.concat_bars((bars, last))
    return _readonly(bars)


def _splice(history: np.ndarray, ring_bars: np.ndarray, need: int, frequency: str,
            path: str) -> np.ndarray:
    """Puts up to `need` closed history bars older than the ring's first bar in front of the
    ring's bars. The ring wins on overlap; a gap at the seam is an error, never hidden."""
    closed = history[(history["flags"] & L.BAR_CLOSED) != 0]
    if not len(ring_bars):  # ring exists but has nothing yet: history alone
        return _readonly(closed[-need:])
    seam_ms = int(ring_bars["open_time_ms"][0])
    opens = closed["open_time_ms"]
    older = closed[opens < seam_ms]
    if not len(older):
        return ring_bars  # the history has nothing older either
    last_ms = int(older["open_time_ms"][-1])
    # Either the history itself has the ring's first bar (it is continuous across the seam by
    # its own account, e.g. around a maintenance gap), or its last older bar abuts the ring.
    if not (opens == seam_ms).any() and next_open_ms(frequency, last_ms) != seam_ms:
        raise SpliceError(
            f"mdfeed: {path}: fallback history ends at {_iso(last_ms)} but the ring starts at "
            f"{_iso(seam_ms)}; the bar opening at {_iso(next_open_ms(frequency, last_ms))} is "
            f"in neither (gap at the seam)")
    return _readonly(L.concat_bars((older[-need:], ring_bars)))


def _frame_to_bars(frame: pd.DataFrame, frequency: str) -> np.ndarray:
    """A fallback DataFrame -> BAR_DTYPE, sorted by open time, one row per open time (the last
    one given wins). Fields a DataFrame does not carry: close time is derived from the
    interval, taker-buy volumes are NaN, flags get BAR_BACKFILLED. A missing trade count
    (pd.NA, NaN, None) is stored as 0 with BAR_NO_TRADES, as the daemon stores it."""
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise SpliceError(f"mdfeed: fallback frame lacks columns {missing} (needs "
                          f"{list(COLUMNS)})")
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise SpliceError(f"mdfeed: fallback frame index must be the bar open time "
                          f"(DatetimeIndex, UTC), got {type(frame.index).__name__}")
    index = frame.index.tz_localize("UTC") if frame.index.tz is None \
        else frame.index.tz_convert("UTC")
    frame = frame.set_axis(index, axis=0).sort_index(kind="stable")
    frame = frame[~frame.index.duplicated(keep="last")]
    bars = np.zeros(len(frame), L.BAR_DTYPE)
    open_ms = frame.index.asi8 // 1_000_000
    bars["open_time_ms"] = open_ms
    bars["close_time_ms"] = _close_times_ms(frequency, open_ms)
    try:
        for c in _FLOAT_COLUMNS:
            bars[c] = frame[c].to_numpy(np.float64)
        trades = frame["trades"]
        no_trades = trades.isna().to_numpy(bool)
        bars["trades"] = trades.mask(no_trades, 0).to_numpy(np.int64)
        closed = frame["closed"].to_numpy(bool)
    except (TypeError, ValueError) as e:
        raise SpliceError(f"mdfeed: fallback frame has values of the wrong type: {e}") from None
    bars["taker_buy_volume"] = np.nan
    bars["taker_buy_quote_volume"] = np.nan
    bars["flags"] = (np.where(closed, L.BAR_CLOSED, 0) | np.where(no_trades, L.BAR_NO_TRADES, 0)
                     | L.BAR_BACKFILLED)
    return bars


def _close_times_ms(frequency: str, open_ms: np.ndarray) -> np.ndarray:
    if frequency != "1M":
        return open_ms + (next_open_ms(frequency, 0) - 1)
    return np.array([next_open_ms(frequency, int(t)) - 1 for t in open_ms], dtype=np.int64)


def _iso(ms: int) -> str:
    return pd.Timestamp(ms, unit="ms", tz="UTC").isoformat()
