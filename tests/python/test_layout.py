"""The Python dtypes agree with the C++ layout, and incompatible files are refused clearly."""

import shutil

import numpy as np
import pytest

import mdfeed
from mdfeed import layout
import ringtool


def test_spec_and_hash_built_from_dtypes_equal_cpp():
    spec, hash_ = ringtool.layout_from_cpp()
    assert mdfeed.LAYOUT_SPEC == spec
    assert mdfeed.LAYOUT_HASH == hash_


def test_fnv1a64_reference_vectors():
    # Published FNV-1a 64 test vectors: the hash function itself, independent of the layout.
    assert layout.fnv1a64(b"") == 0xCBF29CE484222325
    assert layout.fnv1a64(b"a") == 0xAF63DC4C8601EC8C
    assert layout.fnv1a64(b"foobar") == 0x85944171F73967E8


def test_a_moved_field_changes_the_hash():
    # The hash really covers the offsets: shifting one field gives another spec and hash.
    moved = dict(layout.SLOT_DTYPE.fields)
    names = list(moved)
    offsets = [moved[n][1] + (8 if n == "trades" else 0) for n in names]
    other = np.dtype({"names": names, "formats": [moved[n][0] for n in names],
                      "offsets": offsets, "itemsize": 128})
    assert layout._field_list(other) != layout._field_list(layout.SLOT_DTYPE)


def test_header_written_by_cpp_reads_back(shm_dir):
    w = ringtool.write(shm_dir, closed=3, capacity=32, values="tricky", interval="5m")
    ring = mdfeed.open_ring("BTCUSDT", "5m", shm_dir=shm_dir)
    assert (ring.capacity, ring.interval_ms) == (32, 300_000)
    assert (ring.feed, ring.symbol, ring.interval) == ("binance", "BTCUSDT", "5m")
    assert ring.closed_count() == 3
    assert ring.path == w.path == f"{shm_dir}/binance/BTCUSDT.5m.ring"
    assert ring.writer_state() == layout.STATE_STOPPED


def _patched_copy(shm_dir, tmp_path, offset, data):
    """A copy of a real ring with bytes replaced, in a fresh shm dir with the same layout."""
    ringtool.write(shm_dir, closed=5)
    other = tmp_path / "patched"
    shutil.copytree(shm_dir, other)
    path = other / "binance" / "BTCUSDT.1m.ring"
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)
    return other


@pytest.mark.parametrize("offset,data,reason", [
    (24, (layout.LAYOUT_HASH ^ 1).to_bytes(8, "little"), "layout hash mismatch"),
    (8, ((2 << 16) | 0).to_bytes(4, "little"), "layout version 2.0 is incompatible"),
    (0, b"NOTARING", "bad magic"),
    (20, (48).to_bytes(4, "little"), "not a power of two"),
    (20, (1 << 20).to_bytes(4, "little"), "truncated"),
    (8, (0).to_bytes(4, "little"), "not initialised"),
])
def test_incompatible_file_refused(shm_dir, tmp_path, offset, data, reason):
    other = _patched_copy(shm_dir, tmp_path, offset, data)
    with pytest.raises(mdfeed.IncompatibleLayout, match=reason) as err:
        mdfeed.get_price("BTCUSDT", shm_dir=other)
    assert "BTCUSDT.1m.ring" in str(err.value)  # the message names the file
    assert isinstance(err.value, mdfeed.Error)


def test_hash_mismatch_names_both_hashes(shm_dir, tmp_path):
    other = _patched_copy(shm_dir, tmp_path, 24, (12345).to_bytes(8, "little"))
    with pytest.raises(mdfeed.IncompatibleLayout) as err:
        mdfeed.get_bars("BTCUSDT", shm_dir=other)
    assert f"{12345:#018x}" in str(err.value) and f"{mdfeed.LAYOUT_HASH:#018x}" in str(err.value)


def test_file_smaller_than_header_refused(shm_dir):
    (shm_dir / "binance").mkdir()
    (shm_dir / "binance" / "BTCUSDT.1m.ring").write_bytes(b"\0" * 100)
    with pytest.raises(mdfeed.IncompatibleLayout, match="smaller than the 1024-byte header"):
        mdfeed.get_price("BTCUSDT", shm_dir=shm_dir)


def test_file_under_another_name_refused(shm_dir, tmp_path):
    ringtool.write(shm_dir, closed=2, symbol="ETHUSDT")
    src = shm_dir / "binance" / "ETHUSDT.1m.ring"
    shutil.copy(src, shm_dir / "binance" / "BTCUSDT.1m.ring")
    with pytest.raises(mdfeed.IncompatibleLayout, match="header names binance/ETHUSDT/1m"):
        mdfeed.get_price("BTCUSDT", shm_dir=shm_dir)


def _slot_offset(index: int, capacity: int = 64) -> int:
    return layout.HEADER_SIZE + (index % capacity) * layout.SLOT_SIZE


@pytest.mark.parametrize("what", ["odd seq", "wrong index"])
def test_slot_mid_write_is_never_returned(shm_dir, tmp_path, what):
    # Bar 3 of 5 looks mid-write (odd seq) or holds another bar (index): every read of a window
    # containing it is retried, then refused; a window without it still reads.
    off = _slot_offset(3) + (0 if what == "odd seq" else 8)
    value = 7 if what == "odd seq" else 3 + 64
    other = _patched_copy(shm_dir, tmp_path, off, value.to_bytes(8, "little"))
    for read in (mdfeed.get_bars, mdfeed.get_price):
        with pytest.warns(mdfeed.StaleWarning), pytest.raises(mdfeed.Lapped, match="mid-write"):
            read("BTCUSDT", 3, shm_dir=other)
    with pytest.warns(mdfeed.StaleWarning):
        assert len(mdfeed.get_bars("BTCUSDT", 1, shm_dir=other)) == 1  # bar 4 only


def test_forming_slot_mid_write_is_not_returned(shm_dir, tmp_path):
    ringtool.write(shm_dir, closed=5, forming=True)
    other = tmp_path / "patched"
    shutil.copytree(shm_dir, other)
    with open(other / "binance" / "BTCUSDT.1m.ring", "r+b") as f:
        f.seek(layout.offset_of("forming"))
        f.write((9).to_bytes(8, "little"))  # odd: the writer died while updating it
    with pytest.warns(mdfeed.StaleWarning):
        df = mdfeed.get_price("BTCUSDT", 5, include_forming=True, shm_dir=other)
    assert len(df) == 5 and df["closed"].all()
    assert mdfeed.open_ring("BTCUSDT", shm_dir=other).forming() is None
