"""Ring naming (mirrors shm/include/mdfeed/names.hpp): intervals, name checks, ring paths."""

from __future__ import annotations

import calendar
import os
import re
import time

from .errors import InvalidArgument, InvalidFrequency

DEFAULT_SHM_DIR = "/dev/shm/mdfeed"
RING_SUFFIX = ".ring"

# Binance's intervals, in order, with their nominal length. "1M" is a calendar month
# (31 days nominal; next_open_ms is exact). Case matters: "1m" is a minute, "1M" a month.
INTERVALS: dict[str, int] = {
    "1s": 1_000, "1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000,
    "30m": 1_800_000, "1h": 3_600_000, "2h": 7_200_000, "4h": 14_400_000, "6h": 21_600_000,
    "8h": 28_800_000, "12h": 43_200_000, "1d": 86_400_000, "3d": 259_200_000,
    "1w": 604_800_000, "1M": 2_678_400_000,
}

_FEED_RE = re.compile(r"[a-z0-9_-]{1,31}")
_SYMBOL_RE = re.compile(r"[A-Z0-9_-]{1,31}")


def check_frequency(frequency: str) -> str:
    """Returns frequency if it is a Binance interval; else InvalidFrequency listing them."""
    if isinstance(frequency, str) and frequency in INTERVALS:
        return frequency
    raise InvalidFrequency(f"mdfeed: unknown frequency {frequency!r} "
                           f"(valid: {' '.join(INTERVALS)})")


def check_feed(feed: str) -> str:
    if isinstance(feed, str) and _FEED_RE.fullmatch(feed):
        return feed
    raise InvalidArgument(f"mdfeed: invalid feed name {feed!r} (expected [a-z0-9_-], 1-31 chars)")


def normalize_symbol(symbol: str) -> str:
    """Upper-cases the symbol (rings are named BTCUSDT) and checks it cannot escape the dir."""
    if isinstance(symbol, str):
        upper = symbol.upper()
        if _SYMBOL_RE.fullmatch(upper):
            return upper
    raise InvalidArgument(f"mdfeed: invalid symbol {symbol!r} (expected [A-Z0-9_-], 1-31 chars)")


def resolve_shm_dir(explicit: str | os.PathLike | None = None) -> str:
    """Explicit dir, then $MDFEED_SHM_DIR, then /dev/shm/mdfeed (same order as C++ and CLI)."""
    if explicit:
        return os.fspath(explicit)
    return os.environ.get("MDFEED_SHM_DIR") or DEFAULT_SHM_DIR


def ring_path(shm_dir: str, feed: str, symbol: str, interval: str) -> str:
    return f"{shm_dir}/{feed}/{symbol}.{interval}{RING_SUFFIX}"


def next_open_ms(interval: str, open_ms: int) -> int:
    """Open time of the bar after the one opening at open_ms; exact for calendar months."""
    if interval != "1M":
        return open_ms + INTERVALS[interval]
    t = time.gmtime(open_ms // 1000)
    year, month = (t.tm_year + 1, 1) if t.tm_mon == 12 else (t.tm_year, t.tm_mon + 1)
    return calendar.timegm((year, month, 1, 0, 0, 0)) * 1000
