"""wait_any: block once until any of many rings changes (mirrors mdfeed/watcher.hpp).

The daemon bumps one futex word per shm directory, the doorbell (<shm dir>/mdfeed.doorbell,
layout in shm/include/mdfeed/doorbell_layout.hpp), once per service pass in which it published
to any ring. wait_any reads the bell, checks the rings' update counts, and FUTEX_WAITs on the
value it read, so no update is lost and an idle wait costs no CPU. The doorbell is mapped
read-only like the rings; FUTEX_WAIT needs no write access. The wait releases the GIL.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import platform
import struct
import threading
import time
from typing import Iterable, Optional

import numpy as np

from .errors import InvalidArgument
from .ring import Ring

DOORBELL_FILE = "mdfeed.doorbell"
DOORBELL_MAGIC = 0x00424445_4546444D  # "MDFEEDB\0" read as a little-endian u64
DOORBELL_VERSION_MAJOR = 1
DOORBELL_FILE_SIZE = 4096
_OFF_VERSION, _OFF_SIZE, _OFF_BELL = 8, 12, 128

# Without a usable doorbell (no daemon yet, or one older than the doorbell) the rings are
# checked this often instead (C++: Watcher::Options::poll_interval).
POLL_INTERVAL_S = 0.010
# A wait blocked on the bell still re-checks the rings this often and looks whether the doorbell
# file appeared or was replaced: the bound on noticing a change no bell announced (a writer
# other than the daemon). Never the normal wake-up path (C++: recheck_interval).
RECHECK_INTERVAL_S = 1.0

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_FUTEX_WAIT = 0
# SYS_futex by machine: x86-64 202; arm64 and riscv64 (generic table) 98; i386/arm 240.
_SYS_FUTEX = {"x86_64": 202, "amd64": 202, "aarch64": 98, "arm64": 98, "riscv64": 98,
              "i386": 240, "i686": 240, "armv7l": 240, "armv6l": 240}.get(platform.machine())


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


_libc = ctypes.CDLL(None, use_errno=True)  # CDLL calls release the GIL
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long


class _Doorbell:
    """One shm directory's doorbell, mapped read-only. `mapped` is None when there is none, else
    (mmap, address of the bell word): one attribute, so a reader never pairs a new mapping with
    an old address."""

    def __init__(self, shm_dir: str):
        self.path = os.path.join(shm_dir, DOORBELL_FILE)
        self.mapped: Optional[tuple[mmap.mmap, int]] = None
        self.ident: Optional[tuple[int, int]] = None
        self.next_probe = 0.0
        self.lock = threading.Lock()
        self.probe()

    def probe(self) -> bool:
        """Maps the doorbell if none is mapped or the file was replaced; True if it changed."""
        with self.lock:
            self.next_probe = time.monotonic() + RECHECK_INTERVAL_S
            try:
                st = os.stat(self.path)
            except OSError:
                return False  # none (yet), or gone: keep what we have
            if self.mapped is not None and (st.st_dev, st.st_ino) == self.ident:
                return False
            try:
                fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                return False
            try:
                st = os.fstat(fd)
                if st.st_size < DOORBELL_FILE_SIZE:
                    return False
                mm = mmap.mmap(fd, st.st_size, access=mmap.ACCESS_READ)
            except OSError:
                return False
            finally:
                os.close(fd)
            version = _U32.unpack_from(mm, _OFF_VERSION)[0]
            if (_U64.unpack_from(mm, 0)[0] != DOORBELL_MAGIC
                    or version >> 16 != DOORBELL_VERSION_MAJOR
                    or not 256 <= _U32.unpack_from(mm, _OFF_SIZE)[0] <= st.st_size):
                mm.close()
                return False  # a newer daemon's format, or half-made: poll
            # The word's address, for the futex: ctypes.from_buffer needs a writable buffer, a
            # read-only mmap is not one; numpy gives the address of a read-only view.
            view = np.frombuffer(mm, dtype="<u4", count=1, offset=_OFF_BELL)
            addr = view.ctypes.data
            del view  # an exported buffer would keep mm from ever closing
            # The old mapping (if any) is left to the garbage collector: another thread may be
            # blocked on it right now, and holds a reference to it.
            self.mapped, self.ident = (mm, addr), (st.st_dev, st.st_ino)
            return True


def _bell_value(mapped: tuple[mmap.mmap, int]) -> int:
    return _U32.unpack_from(mapped[0], _OFF_BELL)[0]


def _futex_wait(mapped: tuple[mmap.mmap, int], seen: int, timeout_s: float) -> None:
    """FUTEX_WAIT while the bell still equals `seen`, at most timeout_s. Returns early on a
    wake, a signal or a bell that already moved (EAGAIN); the caller re-checks and loops.
    `mapped` is held for the duration, so the mapping cannot go away under the kernel."""
    if _SYS_FUTEX is None:  # a machine whose syscall number we do not know: poll
        time.sleep(min(timeout_s, POLL_INTERVAL_S))
        return
    secs = int(timeout_s)
    ts = _Timespec(secs, int((timeout_s - secs) * 1e9))
    _syscall(ctypes.c_long(_SYS_FUTEX), ctypes.c_void_p(mapped[1]), ctypes.c_int(_FUTEX_WAIT),
             ctypes.c_uint32(seen), ctypes.byref(ts), None, ctypes.c_int(0))


_bells: dict[str, _Doorbell] = {}
_bells_lock = threading.Lock()


def _shm_dir_of(ring_path: str) -> str:
    """<dir> of <dir>/<feed>/<SYMBOL>.<interval>.ring."""
    return os.path.dirname(os.path.dirname(os.path.abspath(ring_path)))


def _doorbell(shm_dir: str) -> _Doorbell:
    with _bells_lock:
        bell = _bells.get(shm_dir)
        if bell is None:
            bell = _bells[shm_dir] = _Doorbell(shm_dir)
        return bell


def has_doorbell(shm_dir: str) -> bool:
    """True if wait_any over rings of shm_dir blocks on a doorbell (else it polls)."""
    bell = _doorbell(os.path.abspath(shm_dir))
    if bell.mapped is None:
        bell.probe()
    return bell.mapped is not None


def wait_any(rings: Iterable[Ring], timeout: Optional[float] = None) -> list[Ring]:
    """Blocks until at least one of `rings` has a new update count, or `timeout` seconds pass
    (None: no limit). Returns those rings, in the order given (empty on timeout).

    Each Ring remembers the update count it was last reported at (initially its count when it
    was opened), so a change made before the call, or between two calls, is returned at once and
    none is ever lost. The rings must all be in one shm directory (one doorbell).

        rings = [mdfeed.open_ring(s) for s in ("BTCUSDT", "ETHUSDT", "SOLUSDT")]
        while True:
            for ring in mdfeed.wait_any(rings, timeout=1.0):
                print(ring.symbol, ring.forming())
    """
    rings = list(rings)
    if not rings:
        raise InvalidArgument("mdfeed: wait_any needs at least one ring")
    for r in rings:
        if not isinstance(r, Ring):
            raise InvalidArgument(f"mdfeed: wait_any takes mdfeed.Ring objects, not {type(r)!r}")
    shm_dir = _shm_dir_of(rings[0].path)
    for r in rings[1:]:
        if _shm_dir_of(r.path) != shm_dir:
            raise InvalidArgument(f"mdfeed: wait_any: {r.path} is not in {shm_dir} (one wait "
                                  f"follows one shm directory's doorbell)")
    bell = _doorbell(shm_dir)
    deadline = None if timeout is None else time.monotonic() + max(0.0, float(timeout))
    while True:
        mapped = bell.mapped
        # The bell first: a publish not yet visible in the counts has not bumped it yet.
        seen = None if mapped is None else _bell_value(mapped)
        changed = []
        for r in rings:
            u = r.update_count()
            if u != r._watch_seen:
                r._watch_seen = u
                changed.append(r)
        if changed:
            return changed
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            return []
        if now >= bell.next_probe and bell.probe():
            continue  # a new bell: read it before sleeping on it
        left = bell.next_probe - now
        if deadline is not None:
            left = min(left, deadline - now)
        left = max(left, 0.0)
        if mapped is None:
            time.sleep(min(left, POLL_INTERVAL_S))
        else:
            _futex_wait(mapped, seen, left)
