"""The ring file layout as numpy dtypes: the Python mirror of shm/include/mdfeed/layout.hpp.

The dtypes are the single source of truth on this side: the layout hash is computed FROM them
(field names, types and offsets), so a dtype that drifted from the C++ structs produces a
different hash and every ring file is refused, rather than being silently misread.
"""

from __future__ import annotations

import numpy as np

MAGIC = 0x00524445_4546444D  # "MDFEEDR\0" read as a little-endian u64
VERSION_MAJOR = 1
VERSION_MINOR = 0
HEADER_SIZE = 1024
SLOT_SIZE = 128
NO_INDEX = 0xFFFF_FFFF_FFFF_FFFF  # Slot.index of an empty or repaired slot
MAX_CAPACITY = 1 << 24  # same sanity bound as the C++ reader

# Bar.flags bits.
BAR_CLOSED = 1 << 0  # final (x:true or closed by REST)
BAR_BACKFILLED = 1 << 1  # came from REST (or a fallback), not the stream
# The venue does not count trades (OKX, Bybit): `trades` is unknown, not zero (C++:
# kBarNoTrades, Bar::trades_known()). Doubles a venue does not send are NaN and carry no flag.
BAR_NO_TRADES = 1 << 2

# WriterState values.
STATE_INIT, STATE_LIVE, STATE_STOPPED, STATE_RETIRED = 0, 1, 2, 3
STATE_NAMES = {STATE_INIT: "init", STATE_LIVE: "live", STATE_STOPPED: "stopped",
               STATE_RETIRED: "retired"}


def _struct(fields: list[tuple[str, str, int]], itemsize: int) -> np.dtype:
    """A little-endian structured dtype with explicit offsets (gaps = reserved bytes)."""
    return np.dtype({"names": [f[0] for f in fields], "formats": [f[1] for f in fields],
                     "offsets": [f[2] for f in fields], "itemsize": itemsize})


# mdfeed::Bar, as it sits inside a Slot (offsets are slot-relative: the bar starts at 16).
_BAR_FIELDS = [
    ("open_time_ms", "<i8", 16), ("close_time_ms", "<i8", 24),
    ("open", "<f8", 32), ("high", "<f8", 40), ("low", "<f8", 48), ("close", "<f8", 56),
    ("volume", "<f8", 64), ("quote_volume", "<f8", 72),
    ("taker_buy_volume", "<f8", 80), ("taker_buy_quote_volume", "<f8", 88),
    ("trades", "<u8", 96), ("flags", "<u4", 104),
]

# mdfeed::Slot: seqlock word, absolute bar index, the bar (with its reserved word).
SLOT_DTYPE = _struct([("seq", "<u8", 0), ("index", "<u8", 8)] + _BAR_FIELDS
                     + [("reserved", "<u4", 108)], SLOT_SIZE)

# What get_bars returns: the bar fields of a slot, in place. Same itemsize as a slot, so an
# array of it can view the ring's slots without copying; seq/index/reserved are left out.
BAR_DTYPE = _struct(_BAR_FIELDS, SLOT_SIZE)

# mdfeed::RingHeader. The reserved areas are gaps; "forming" is a whole Slot.
HEADER_DTYPE = _struct([
    ("magic", "<u8", 0), ("version", "<u4", 8), ("header_size", "<u4", 12),
    ("slot_size", "<u4", 16), ("capacity", "<u4", 20), ("layout_hash", "<u8", 24),
    ("interval_ms", "<i8", 32), ("created_ms", "<i8", 40), ("feed", "S32", 48),
    ("symbol", "S32", 80), ("interval", "S16", 112), ("writer_instance", "<u8", 128),
    ("writer_pid", "<u4", 136), ("writer_state", "<u4", 140), ("closed_count", "<u8", 256),
    ("heartbeat_ns", "<u8", 384), ("update_count", "<u4", 512), ("forming", SLOT_DTYPE, 640),
], HEADER_SIZE)


def offset_of(field: str) -> int:
    """Byte offset of a header field in the file."""
    return HEADER_DTYPE.fields[field][1]


def _type_code(dt: np.dtype) -> str:
    """The C++ spec's type names: u64, i64, f64, u32, c32 (char[32]) and slot."""
    if dt == SLOT_DTYPE:
        return "slot"
    if dt.kind == "S":
        return f"c{dt.itemsize}"
    if dt.kind in "uif" and dt.byteorder in "<=|":
        return f"{dt.kind}{dt.itemsize * 8}"
    raise TypeError(f"no layout-spec type for dtype {dt}")


def _field_list(dt: np.dtype) -> str:
    """name:type@offset for every field, in offset order."""
    items = sorted(dt.fields.items(), key=lambda kv: kv[1][1])
    return ",".join(f"{name}:{_type_code(f[0])}@{f[1]}" for name, f in items)


def layout_spec() -> str:
    """The field list the layout hash covers, built from the dtypes (C++: kLayoutSpec)."""
    return (f"header:{_field_list(HEADER_DTYPE)};slot:{_field_list(SLOT_DTYPE)};"
            f"size:{SLOT_DTYPE.itemsize}")


def fnv1a64(data: bytes) -> int:
    """64-bit FNV-1a, as mdfeed::fnv1a64."""
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFF_FFFF_FFFF_FFFF
    return h


LAYOUT_SPEC = layout_spec()
LAYOUT_HASH = fnv1a64(LAYOUT_SPEC.encode("ascii"))


def concat_bars(parts) -> np.ndarray:
    """Concatenates BAR_DTYPE arrays keeping BAR_DTYPE (np.concatenate would return a packed
    dtype without the slot padding, so results would differ in dtype from one call to the next)."""
    out = np.empty(sum(len(p) for p in parts), BAR_DTYPE)
    at = 0
    for p in parts:
        out[at:at + len(p)] = p
        at += len(p)
    return out


def ring_file_size(capacity: int) -> int:
    return HEADER_SIZE + capacity * SLOT_SIZE


# The same pins as the C++ static_asserts: a dtype edit that moves a field fails on import.
assert SLOT_DTYPE.itemsize == SLOT_SIZE and HEADER_DTYPE.itemsize == HEADER_SIZE
assert SLOT_DTYPE.fields["open_time_ms"][1] == 16 and SLOT_DTYPE.fields["flags"][1] == 104
assert offset_of("closed_count") == 256 and offset_of("heartbeat_ns") == 384
assert offset_of("update_count") == 512 and offset_of("forming") == 640
