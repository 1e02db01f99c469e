"""mdfeed: read the mdfeed daemon's shared-memory OHLCV rings from Python, zero copy.

    import mdfeed
    df = mdfeed.get_price("BTCUSDT", count=20, frequency="1m")      # pandas DataFrame
    bars = mdfeed.get_bars("BTCUSDT", count=20)                       # numpy view on the ring
    changed = mdfeed.wait_any(rings, timeout=1.0)   # the rings that moved (one futex, no polling)

Fields a venue does not send are unknown, never zero: NaN doubles, and in get_price pd.NA in
the Int64 `trades` column; in get_bars arrays check mdfeed.trades_known(bars).

Needs only numpy and pandas. The rings are mapped read-only; see docs/design.md ("Shared-memory
protocol", "Contracts / Python") for the layout and the guarantees.
"""

from .api import (COLUMNS, INDEX_NAME, bars_to_frame, get_bars, get_price, open_ring,
                  trades_known)
from .errors import (Error, IncompatibleLayout, InvalidArgument, InvalidFrequency, Lapped,
                     NotFound, SpliceError, Stale, StaleWarning)
from .layout import (BAR_BACKFILLED, BAR_CLOSED, BAR_DTYPE, BAR_NO_TRADES, LAYOUT_HASH,
                     LAYOUT_SPEC, SLOT_DTYPE)
from .names import INTERVALS
from .ring import BarView, Ring
from .watch import has_doorbell, wait_any

__version__ = "0.1.0"

__all__ = [
    "get_price", "get_bars", "open_ring", "bars_to_frame", "trades_known", "Ring", "BarView",
    "wait_any", "has_doorbell",
    "Error", "NotFound", "IncompatibleLayout", "Stale", "StaleWarning", "InvalidArgument",
    "InvalidFrequency", "SpliceError", "Lapped",
    "BAR_DTYPE", "SLOT_DTYPE", "LAYOUT_HASH", "LAYOUT_SPEC", "INTERVALS", "COLUMNS", "INDEX_NAME",
    "BAR_CLOSED", "BAR_BACKFILLED", "BAR_NO_TRADES",
]
