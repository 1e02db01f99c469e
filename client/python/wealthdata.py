"""Compatibility module: strategies written for `from wealthdata import get_price` run unchanged,
reading the mdfeed rings (same signature and DataFrame as mdfeed.get_price)."""

from mdfeed import get_bars, get_price

__all__ = ["get_price", "get_bars"]
