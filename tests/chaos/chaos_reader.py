#!/usr/bin/python3
"""chaos_reader.py: the Python side of the chaos tests. A strategy-like loop over get_bars and
get_price (strict=True while the writer is alive) that must survive daemon crashes, restarts
and a full shm filesystem without crashing, and never see a torn, changed, duplicated or
missing closed bar.

It checks invariants only (closed flags, contiguous open times, a closed bar never changes
between reads, get_price agrees with get_bars); ground truth is the C++ side's job: at exit it
writes every distinct closed bar it saw to --dump (exact float.hex values), and the test
compares each with fake::truth_bar.

    /usr/bin/python3 chaos_reader.py --shm DIR --ring SYMBOL:INTERVAL [...] --dump FILE
        [--max-seconds S] [--poll-ms MS]

stdout: the same event lines as chaos_reader.cpp (ready, alive, dead, progress, loopgap,
violation, summary). Exit status 0 when no violation was seen, 1 otherwise.
"""

import argparse
import ctypes
import signal
import sys
import time
import warnings

import mdfeed

COUNT = 64          # bars per read: far more than can close between two polls
PRICE_EVERY = 10    # a get_price cross-check every N loops (pandas is the slow part)
FORMING_GAP_IS_VIOLATION = True  # get_price(include_forming) leaves out a forming bar past a hole
FIELDS = ("close_time_ms", "open", "high", "low", "close", "volume", "quote_volume",
          "taker_buy_volume", "taker_buy_quote_volume", "trades")

stop = False


def on_term(_sig, _frame):
    global stop
    stop = True


def emit(line):
    print(line, flush=True)


class Follow:
    def __init__(self, spec, shm, totals):
        self.symbol, self.interval = spec.split(":", 1)
        self.name = spec
        self.shm = shm
        self.t = totals
        self.step_ms = mdfeed.names.next_open_ms(self.interval, 0)
        self.seen = {}          # open_ms -> tuple of FIELDS (as first read)
        self.alive = None
        self.instance = None
        self.printed = 0
        self.ring = mdfeed.open_ring(self.symbol, self.interval, shm_dir=shm)

    def violation(self, what):
        self.t["violations"] += 1
        emit(f"violation {self.name} {what}")

    def poll_liveness(self):
        if self.ring.replaced():
            self.t["replaced"] += 1
            self.ring = mdfeed.open_ring(self.symbol, self.interval, shm_dir=self.shm)
        alive = self.ring.writer_alive()
        inst = self.ring.writer_instance()
        if alive != self.alive or (alive and inst != self.instance):
            if alive:
                emit(f"alive {self.name} {time.monotonic_ns()} {inst}")
            else:
                age = self.ring.heartbeat_age_s()
                emit(f"dead {self.name} {time.monotonic_ns()} "
                     f"{-1 if age == float('inf') else int(age * 1000)}")
            self.alive, self.instance = alive, inst
        return alive

    def record(self, bars):
        """Checks one read (oldest first) and remembers its bars."""
        opens = bars["open_time_ms"].tolist()
        flags = bars["flags"].tolist()
        cols = [bars[f].tolist() for f in FIELDS]
        for i, open_ms in enumerate(opens):
            if not flags[i] & mdfeed.layout.BAR_CLOSED:
                self.violation(f"bar {open_ms} returned as closed lacks the closed flag")
            if i and open_ms != opens[i - 1] + self.step_ms:
                self.t["gaps"] += 1
                self.violation(f"bars {opens[i - 1]} and {open_ms} are not contiguous")
            values = tuple(c[i] for c in cols)
            old = self.seen.get(open_ms)
            if old is None:
                self.seen[open_ms] = values
            elif old != values:
                self.t["torn"] += 1
                self.violation(f"closed bar {open_ms} read differently twice: {old} vs {values}")
            self.t["bars_read"] += 1

    def poll(self, loop):
        alive = self.poll_liveness()
        bars = None
        if alive:
            try:
                bars = mdfeed.get_bars(self.symbol, COUNT, self.interval, shm_dir=self.shm,
                                       strict=True)
            except mdfeed.Stale:
                # The writer died between the liveness check and the read: strict did its job.
                self.t["stale_raised"] += 1
        if bars is None:
            # A dead writer's bars stay readable (a strategy may choose to use them).
            self.t["reads_while_dead"] += 1
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", mdfeed.StaleWarning)
                bars = mdfeed.get_bars(self.symbol, COUNT, self.interval, shm_dir=self.shm)
        # get_bars returns a zero-copy view: in this 64-slot ring a writer catching up after a
        # restart can lap it between get_bars' validation and our copy, exactly as the contract
        # says. So what we judge comes from a view we check AFTER copying (the C++ pattern).
        view = self.ring.latest(COUNT)
        snapshot = view.bars.copy()
        if view.valid():
            self.record(snapshot)
        else:
            self.t["lapped"] += 1
        if loop % PRICE_EVERY == 0:
            self.cross_check_price()
        if len(bars):
            newest = int(bars["open_time_ms"][-1])
            if newest != self.printed:
                self.printed = newest
                emit(f"progress {self.name} {newest}")

    def cross_check_price(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", mdfeed.StaleWarning)
            df = mdfeed.get_price(self.symbol, 8, self.interval, shm_dir=self.shm,
                                  include_forming=True)
        self.t["price_reads"] += 1
        closed = df[df["closed"]]
        opens = (closed.index.asi8 // 1_000_000).tolist()
        for k, open_ms in enumerate(opens):
            old = self.seen.get(open_ms)
            if old is None:
                continue
            row = closed.iloc[k]
            got = (row["open"], row["high"], row["low"], row["close"], row["volume"],
                   row["quote_volume"], int(row["trades"]))
            want = old[1:7] + (old[9],)
            if got != want:
                self.t["torn"] += 1
                self.violation(f"get_price bar {open_ms} differs from get_bars: {got} vs {want}")
        forming = df[~df["closed"]]
        if len(forming) > 1:
            self.violation(f"{len(forming)} forming rows: {df.index.tolist()}")
        elif len(forming) and len(opens) and \
                forming.index.asi8[0] // 1_000_000 != opens[-1] + self.step_ms:
            # Known daemon bug (see the chaos report): while a gap is being filled over REST
            # the forming slot already shows a later bar, with the index of the next closed
            # bar, so include_forming appends it after a hole. Counted, and a violation only
            # once FORMING_GAP_IS_VIOLATION is switched on with the fix.
            self.t["forming_gap"] += 1
            if FORMING_GAP_IS_VIOLATION:
                self.violation(f"forming row does not follow the closed bars: "
                               f"{opens[-1]} then {forming.index.asi8[0] // 1_000_000}")
        if len(opens) > 1 and any(b - a != self.step_ms for a, b in zip(opens, opens[1:])):
            self.t["gaps"] += 1
            self.violation(f"get_price rows not contiguous: {opens}")

    def dump(self, out):
        for open_ms in sorted(self.seen):
            v = self.seen[open_ms]
            floats = " ".join(float(x).hex() for x in v[1:9])
            out.write(f"{self.symbol} {self.interval} {open_ms} {v[0]} {floats} {v[9]}\n")
        opens = sorted(self.seen)
        missing = sum((b - a) // self.step_ms - 1 for a, b in zip(opens, opens[1:]))
        if missing:  # the union of all reads must be one unbroken run
            self.t["gaps"] += 1
            self.violation(f"{missing} bars never seen between {opens[0]} and {opens[-1]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shm", required=True)
    ap.add_argument("--ring", action="append", required=True)
    ap.add_argument("--dump", required=True)
    ap.add_argument("--max-seconds", type=float, default=300)
    ap.add_argument("--poll-ms", type=float, default=20)
    a = ap.parse_args()
    try:  # never outlive the test (PR_SET_PDEATHSIG = 1)
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    totals = dict(loops=0, bars_read=0, price_reads=0, torn=0, gaps=0, violations=0,
                  stale_raised=0, reads_while_dead=0, replaced=0, errors=0, forming_gap=0, lapped=0)
    rings = [Follow(spec, a.shm, totals) for spec in a.ring]
    emit("ready")
    end = time.monotonic() + a.max_seconds
    last_ns = time.monotonic_ns()
    while not stop and time.monotonic() < end:
        totals["loops"] += 1
        # This process's own pauses (CPU starvation), to tell them from a stalled writer.
        now_ns = time.monotonic_ns()
        if now_ns - last_ns > 250_000_000:
            emit(f"loopgap - {last_ns} {(now_ns - last_ns) // 1_000_000}")
        last_ns = now_ns
        for r in rings:
            try:
                r.poll(totals["loops"])
            except mdfeed.Error as e:  # Lapped or anything else the API raises
                totals["errors"] += 1
                r.violation(f"reader error: {type(e).__name__}: {e}")
        time.sleep(a.poll_ms / 1000)
    with open(a.dump, "w") as out:
        for r in rings:
            r.dump(out)
    emit("summary " + " ".join(f"{k}={v}" for k, v in totals.items()) +
         f" distinct_bars={sum(len(r.seen) for r in rings)}")
    return 0 if totals["violations"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
