"""One ring file mapped read-only, with the seqlock read protocol (mirrors mdfeed/reader.hpp).

Reads in Python are plain loads done by numpy/struct (CPython has no atomics or fences). That is
enough on x86-64, whose TSO memory model keeps loads in program order, so "sequence, fields,
sequence again" means what the protocol needs. On weakly ordered CPUs the checks are best effort.
"""

from __future__ import annotations

import errno
import mmap
import os
import struct
import time

import numpy as np

from . import layout as L
from . import names as N
from .errors import Error, IncompatibleLayout, Lapped, NotFound

# A live writer holds a slot odd for tens of nanoseconds; a bounded spin also survives a writer
# that died mid-write (that slot stays odd until the next writer repairs it).
_SPIN_LIMIT = 10_000
# Whole-window retries when the writer laps us. Each attempt copies at most capacity-1 slots,
# far faster than a writer publishing real market data can move capacity bars.
_LAP_RETRIES = 100
# Same threshold as the C++ Ring::writer_alive default.
ALIVE_MAX_AGE_S = 1.5

_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")
_OFF_CLOSED = L.offset_of("closed_count")
_OFF_HEARTBEAT = L.offset_of("heartbeat_ns")
_OFF_UPDATE = L.offset_of("update_count")
_OFF_STATE = L.offset_of("writer_state")
_OFF_INSTANCE = L.offset_of("writer_instance")
_OFF_PID = L.offset_of("writer_pid")
_OFF_FORMING = L.offset_of("forming")
_SLOT_INDEX_OFFSET = L.SLOT_DTYPE.fields["index"][1]
_WORDS_PER_SLOT = L.SLOT_SIZE // 8  # slot viewed as u64 words: [0] = seq, [1] = index
_PARITY = bytes(b & 1 for b in range(256))  # bytes.translate table: byte -> its lowest bit
_ODD = b"\x01"


class BarView:
    """Consecutive closed bars, oldest first (C++: BarView).

    `bars` is a read-only BAR_DTYPE array. When `zero_copy` is true it is a view on the mapping
    and stays meaningful only while valid() is true: check it AFTER using the bars. When the
    window straddles the end of the ring no single numpy view can express it, so `bars` is a
    validated copy instead (zero_copy false) and valid() is always true.
    """

    __slots__ = ("bars", "first_index", "zero_copy", "_ring")

    def __init__(self, bars: np.ndarray, first_index: int, zero_copy: bool, ring: "Ring"):
        self.bars = bars
        self.first_index = first_index
        self.zero_copy = zero_copy
        self._ring = ring

    def __len__(self) -> int:
        return len(self.bars)

    def valid(self) -> bool:
        """True while the writer cannot have started overwriting any bar of this view."""
        if not self.zero_copy:
            return True
        return self._ring.closed_count() < self.first_index + self._ring.capacity


class Ring:
    """A ring file mapped with mmap ACCESS_READ: this process can never write shared memory."""

    def __init__(self, path: str, expect: tuple[str, str, str] | None = None):
        """Maps and validates `path`. `expect` = (feed, symbol, interval) the header must name."""
        self.path = path
        self._mm, st = _map_read_only(path)
        self.ident = (st.st_dev, st.st_ino)  # (dev, inode) of the file actually mapped
        hdr = np.frombuffer(self._mm, L.HEADER_DTYPE, count=1)[0]
        self.capacity = _validate_header(hdr, len(self._mm), path)
        self.interval_ms = int(hdr["interval_ms"])
        self.feed = _name(hdr["feed"])
        self.symbol = _name(hdr["symbol"])
        self.interval = _name(hdr["interval"])
        if expect is not None and expect != (self.feed, self.symbol, self.interval):
            raise IncompatibleLayout(
                f"mdfeed: {path}: header names {self.feed}/{self.symbol}/{self.interval}, "
                f"expected {'/'.join(expect)} (file copied or renamed?)")
        self._mask = self.capacity - 1
        # Two views of the same slot bytes: what callers get, and the seq/index words we check.
        # np.ndarray(buffer=mmap) keeps the mmap itself as .base (frombuffer would interpose a
        # memoryview), so a view's base chain ends at the mapping. Read-only: ACCESS_READ.
        self._bars = np.ndarray((self.capacity,), L.BAR_DTYPE, buffer=self._mm,
                                offset=L.HEADER_SIZE)
        self._words = np.ndarray((self.capacity, _WORDS_PER_SLOT), "<u8", buffer=self._mm,
                                 offset=L.HEADER_SIZE)
        self.retries = 0  # reads retried because the writer was busy or lapped (diagnostics)
        # The update count wait_any last reported this ring at (mdfeed.wait_any).
        self._watch_seen = self.update_count()

    # --- hot header fields --------------------------------------------------------------------

    def closed_count(self) -> int:
        """Closed bars ever published to this ring."""
        return _U64.unpack_from(self._mm, _OFF_CLOSED)[0]

    def update_count(self) -> int:
        """Bumps on every publish, closed or forming."""
        return _U32.unpack_from(self._mm, _OFF_UPDATE)[0]

    def writer_state(self) -> int:
        return _U32.unpack_from(self._mm, _OFF_STATE)[0]

    def writer_instance(self) -> int:
        return _U64.unpack_from(self._mm, _OFF_INSTANCE)[0]

    def writer_pid(self) -> int:
        return _U32.unpack_from(self._mm, _OFF_PID)[0]

    def heartbeat_age_s(self) -> float:
        """Seconds since the writer's last heartbeat (CLOCK_MONOTONIC, same clock as C++)."""
        beat = _U64.unpack_from(self._mm, _OFF_HEARTBEAT)[0]
        if beat == 0:
            return float("inf")
        return max(0, time.monotonic_ns() - beat) / 1e9

    def writer_alive(self, max_age_s: float = ALIVE_MAX_AGE_S) -> bool:
        """The writer says it is live and its heartbeat is fresh."""
        return self.writer_state() == L.STATE_LIVE and self.heartbeat_age_s() <= max_age_s

    def replaced(self) -> bool:
        """True if the path now names another file (the daemon rename()d a new ring over it)."""
        try:
            st = os.stat(self.path)
        except OSError:
            return False  # gone: what we have stays mapped and valid
        return (st.st_dev, st.st_ino) != self.ident

    # --- reads --------------------------------------------------------------------------------

    def latest(self, n: int) -> BarView:
        """The last n closed bars (fewer if fewer exist, at most capacity-1), zero copy.

        The view is validated after it is taken: every slot holds the expected index with an
        even sequence, and the writer has not lapped the window meanwhile; otherwise retried.
        """
        for _ in range(_LAP_RETRIES):
            closed = self.closed_count()
            first, k = self._window(closed, n)
            pos = first & self._mask
            if pos + k <= self.capacity:
                bars, zero_copy = self._bars[pos:pos + k], True
            else:
                bars, zero_copy = self._bars[(np.arange(first, first + k) & self._mask)], False
            if self._window_intact(first, k):
                if not zero_copy:
                    bars.flags.writeable = False
                return BarView(bars, first, zero_copy, self)
            self.retries += 1
        raise Lapped(f"mdfeed: {self.path}: no consistent read of {n} bars in "
                     f"{_LAP_RETRIES} attempts (the writer lapped each, or a slot stays "
                     f"mid-write)")

    def snapshot(self, n: int, include_forming: bool) -> np.ndarray:
        """A validated, read-only copy of the last n closed bars plus, optionally, the forming
        bar right after them. The forming bar is read between two equal reads of the closed
        count, and is left out unless it opens exactly where the last closed bar ends: while the
        daemon fills a gap over REST the stream's forming bar is already ahead of the hole, and
        the result must have no gap and no repeat."""
        for _ in range(_LAP_RETRIES):
            closed = self.closed_count()
            forming = None
            if include_forming:
                forming = self._read_forming()
                if self.closed_count() != closed:
                    self.retries += 1  # a bar closed meanwhile: the two might not join
                    continue
                if forming is not None and forming[1] != closed:
                    forming = None  # the slot still holds a bar that has closed since
            first, k = self._window(closed, n)
            bars = self._bars[(np.arange(first, first + k) & self._mask)]  # copy, then check
            if not self._window_intact(first, k):
                self.retries += 1
                continue
            if forming is not None and k > 0:
                want = N.next_open_ms(self.interval, int(bars["open_time_ms"][-1]))
                if int(forming[0]["open_time_ms"][0]) != want:
                    forming = None  # ahead of a gap still being filled: not adjacent yet
            if forming is not None:
                bars = L.concat_bars((bars, forming[0]))
            bars.flags.writeable = False
            return bars
        raise Lapped(f"mdfeed: {self.path}: no consistent read of {n} bars in "
                     f"{_LAP_RETRIES} attempts (the writer lapped each, or a slot stays "
                     f"mid-write)")

    def forming(self) -> np.ndarray | None:
        """The bar still forming, as a 1-element BAR_DTYPE copy, or None (C++: forming())."""
        got = self._read_forming()
        if got is None or got[1] < self.closed_count():
            return None  # the writer closed it and has not published a successor yet
        return got[0]

    # --- internals ----------------------------------------------------------------------------

    def _window(self, closed: int, n: int) -> tuple[int, int]:
        """(first absolute index, count) of the last n closed bars a reader may use. One slot
        is always held back: the writer may be mid-write in slot closed % capacity."""
        k = min(n, self.capacity - 1, closed)
        return closed - k, k

    def _window_intact(self, first: int, k: int) -> bool:
        """Seq/index checks of slots [first, first+k), then the lap check. Under the protocol a
        counted closed bar is stable until lapped, so the lap check is what makes a view valid;
        the per-slot checks also catch a slot that was repaired or never written."""
        if k == 0:
            return True
        pos = first & self._mask
        if pos + k <= self.capacity:
            words = self._words[pos:pos + k]
        else:
            words = np.concatenate((self._words[pos:], self._words[:pos + k - self.capacity]))
        # Bytes operations, not ufuncs: for ~20 words they cost a fraction of numpy's per-call
        # overhead. Parity: the low byte of each little-endian seq, mapped to 0/1.
        if _ODD in words[:, 0].tobytes()[::8].translate(_PARITY):
            return False  # a slot is being written: it cannot be one of ours unless lapped
        if words[:, 1].tobytes() != np.arange(first, first + k, dtype="<u8").tobytes():
            return False
        return self.closed_count() < first + self.capacity

    def _read_forming(self) -> tuple[np.ndarray, int] | None:
        """Seqlock read of the forming slot: (read-only bar copy, index it will close at), or
        None if the slot is empty. A slot caught mid-write is retried, never returned. The
        copy is one bytes slice (a memcpy) to keep the window a writer can hit small."""
        for _ in range(_SPIN_LIMIT):
            s1 = self._forming_seq()
            if s1 & 1:
                continue
            raw = self._mm[_OFF_FORMING:_OFF_FORMING + L.SLOT_SIZE]
            if self._forming_seq() != s1:
                continue
            index = _U64.unpack_from(raw, _SLOT_INDEX_OFFSET)[0]
            return None if index == L.NO_INDEX else (np.frombuffer(raw, L.BAR_DTYPE), index)
        return None  # a writer that died mid-write: no forming bar rather than a torn one

    def _forming_seq(self) -> int:
        return _U64.unpack_from(self._mm, _OFF_FORMING)[0]


def _map_read_only(path: str) -> tuple[mmap.mmap, os.stat_result]:
    """Opens and maps the whole file read-only. Its size was fixed before it was published and
    it is never truncated, so every validated page stays backed (a reader never gets SIGBUS)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise NotFound(f"mdfeed: ring not found: {path} (is the daemon running with this shm "
                       f"dir, feed, symbol and interval?)") from None
    except PermissionError as e:
        raise Error(f"mdfeed: cannot open {path}: {e.strerror} (is this user in the mdfeed "
                    f"group?)") from None
    except OSError as e:
        raise Error(f"mdfeed: cannot open {path}: {e.strerror}") from None
    try:
        st = os.fstat(fd)
        if st.st_size < L.HEADER_SIZE:
            raise IncompatibleLayout(f"mdfeed: {path}: file is {st.st_size} bytes, smaller "
                                     f"than the {L.HEADER_SIZE}-byte header")
        try:
            mm = mmap.mmap(fd, st.st_size, access=mmap.ACCESS_READ)
        except OSError as e:
            raise Error(f"mdfeed: cannot map {path}: {os.strerror(e.errno or errno.EIO)}") from None
    finally:
        os.close(fd)  # the mapping keeps the file (and, if replaced, its old inode) alive
    return mm, st


def _validate_header(hdr: np.void, file_size: int, path: str) -> int:
    """Checks the header like the C++ reader; returns the capacity. Only fields checked here
    are trusted, so a foreign file is an IncompatibleLayout, never an out-of-bounds read."""
    def bad(why: str) -> IncompatibleLayout:
        return IncompatibleLayout(f"mdfeed: {path}: {why}")

    if int(hdr["magic"]) != L.MAGIC:
        raise bad("not an mdfeed ring (bad magic)")
    version = int(hdr["version"])
    if version == 0:
        raise bad("ring is not initialised (version not yet written)")
    if version >> 16 != L.VERSION_MAJOR:
        raise bad(f"layout version {version >> 16}.{version & 0xFFFF} is incompatible with "
                  f"this reader's version {L.VERSION_MAJOR}.{L.VERSION_MINOR}")
    if int(hdr["layout_hash"]) != L.LAYOUT_HASH:
        raise bad(f"layout hash mismatch (file {int(hdr['layout_hash']):#018x}, reader "
                  f"{L.LAYOUT_HASH:#018x}): the file was written with a different field list")
    if int(hdr["header_size"]) != L.HEADER_SIZE or int(hdr["slot_size"]) != L.SLOT_SIZE:
        raise bad(f"unexpected header/slot size {int(hdr['header_size'])}/"
                  f"{int(hdr['slot_size'])}")
    capacity = int(hdr["capacity"])
    if capacity <= 0 or capacity & (capacity - 1) or capacity > L.MAX_CAPACITY:
        raise bad(f"capacity {capacity} is not a power of two <= 2^24")
    if file_size < L.ring_file_size(capacity):
        raise bad(f"file is {file_size} bytes, expected {L.ring_file_size(capacity)} "
                  f"(truncated?)")
    return capacity


def _name(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("ascii", "replace")
