"""Exceptions and warnings of the mdfeed Python reader (mirrors mdfeed/error.hpp)."""


class Error(Exception):
    """Base of every mdfeed error (C++: mdfeed::Error)."""


class NotFound(Error):
    """No ring for this feed/symbol/interval, and no fallback to stand in for it."""


class IncompatibleLayout(Error):
    """The ring file is not one this reader understands (magic, version, hash or sizes)."""


class Stale(Error):
    """The ring's writer is dead (state not live, or heartbeat too old); raised with strict=True."""


class InvalidArgument(Error, ValueError):
    """A bad argument (count, name). Also a ValueError, so generic callers can catch that."""


class InvalidFrequency(InvalidArgument):
    """An interval that is not one of Binance's; the message lists the valid ones."""


class SpliceError(Error):
    """Fallback history cannot be joined to the ring without a gap or a malformed frame."""


class Lapped(Error):
    """No consistent read after bounded retries: the writer overwrote the bars being read each
    time, or a slot in the window stays mid-write (never returned half-written)."""


class StaleWarning(UserWarning):
    """Data comes from a ring whose writer is dead: it may be old. strict=True raises Stale."""
