#!/usr/bin/python3
"""mdfeed-ctl integration scenarios: the real mdfeed-ctl binary against status segments and
rings written by the real writers (fake_daemon_state). One scenario per run (--case NAME), each
in its own temporary shm directory, so ctest can run them in parallel.

Standard library only (Debian's /usr/bin/python3)."""

import argparse
import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

BASE_OPEN_MS = 1_700_000_040_000  # tests/common/test_util.hpp kBaseOpenMs
MINUTE_MS = 60_000
CAPACITY = 64                     # fake_daemon_state kCapacity
INITIAL_CLOSED = 100              # fake_daemon_state kInitialClosed (> CAPACITY: wrapped)
CMD_TIMEOUT_S = 20

STATUS_KEYS = {"healthy", "state", "reasons", "daemon", "connections", "streams"}
DAEMON_KEYS = {"pid", "version", "instance_id", "config_path", "start_time_ms", "uptime_ms",
               "heartbeat_age_ms", "summary"}
CONN_KEYS = {"feed", "id", "state", "streams", "connected_since_ms", "reconnects", "messages",
             "last_error"}
STREAM_KEYS = {"feed", "symbol", "interval", "age_ms", "closed_bars", "gaps_filled", "state",
               "stale"}
BAR_KEYS = {"open_time", "close_time", "open", "high", "low", "close", "volume", "quote_volume",
            "trades", "closed"}


class Failure(Exception):
    pass


def expect(cond, what, detail=""):
    if not cond:
        raise Failure(what + (f"\n--- detail ---\n{detail}" if detail else ""))


class Env:
    def __init__(self, ctl, fake, tmp):
        self.ctl_path = ctl
        self.fake_path = fake
        self.tmp = tmp
        self.dir = os.path.join(tmp, "shm")
        os.mkdir(self.dir)

    def ctl(self, *args, env=None, shm=True):
        argv = [self.ctl_path] + (["--shm-dir", self.dir] if shm else []) + list(args)
        full_env = dict(os.environ)
        full_env.pop("MDFEED_SHM_DIR", None)
        full_env.update(env or {})
        r = subprocess.run(argv, capture_output=True, text=True, env=full_env,
                           timeout=CMD_TIMEOUT_S)
        # Nothing may escape main: no std::terminate, no sanitizer report, ever.
        expect("terminate called" not in r.stderr and "Sanitizer" not in r.stderr,
               f"{argv} crashed", r.stderr)
        return r

    def fake(self, mode, seconds=30, update_ms=100):
        return Fake(self.fake_path, self.dir, mode, seconds, update_ms)


class Fake:
    """fake_daemon_state as a context manager: started, waited for "ready", stopped at exit."""

    def __init__(self, path, shm_dir, mode, seconds, update_ms):
        self.argv = [path, "--dir", shm_dir, "--mode", mode, "--seconds", str(seconds),
                     "--update-ms", str(update_ms)]

    def __enter__(self):
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 15)
        line = self.proc.stdout.readline() if ready else ""
        expect(line.strip() == "ready", f"fake_daemon_state did not become ready: {line!r}",
               self.proc.stderr.read() if self.proc.poll() is not None else "")
        return self

    def wait_exit(self):
        return self.proc.wait(timeout=10)

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return False


def status_json(tenv, *extra, **kw):
    r = tenv.ctl("status", "--json", *extra, **kw)
    try:
        doc = json.loads(r.stdout)
    except json.JSONDecodeError as e:
        raise Failure(f"status --json is not JSON: {e}", r.stdout + r.stderr)
    expect(STATUS_KEYS <= doc.keys(), f"status JSON lacks {STATUS_KEYS - doc.keys()}", r.stdout)
    expect(isinstance(doc["healthy"], bool), "healthy must be a bool", r.stdout)
    return r, doc


def stream(doc, symbol):
    found = [s for s in doc["streams"] if s["symbol"] == symbol]
    expect(len(found) == 1, f"exactly one stream {symbol}", json.dumps(doc))
    return found[0]


# ------------------------------------------------------------------------------ scenarios

CASES = {}


def case(fn):
    CASES[fn.__name__.rstrip("_")] = fn  # list_ -> "list": keep the builtin's name free
    return fn


@case
def status_healthy(env):
    with env.fake("healthy") as f:
        r, doc = status_json(env)
        expect(r.returncode == 0, f"healthy exits 0, got {r.returncode}", r.stdout + r.stderr)
        expect(doc["healthy"] is True and doc["state"] == "healthy" and doc["reasons"] == [],
               "healthy verdict", r.stdout)
        expect(DAEMON_KEYS <= doc["daemon"].keys(), "daemon keys", r.stdout)
        expect(doc["daemon"]["pid"] == f.proc.pid, "daemon pid is the writer's", r.stdout)
        expect(doc["daemon"]["config_path"] == "/etc/mdfeed/mdfeed.yaml", "config path", r.stdout)
        expect(len(doc["connections"]) == 1 and CONN_KEYS <= doc["connections"][0].keys(),
               "one connection with its keys", r.stdout)
        expect(doc["connections"][0]["state"] == "connected", "connected", r.stdout)
        expect(len(doc["streams"]) == 2, "two streams", r.stdout)
        for s in doc["streams"]:
            expect(STREAM_KEYS <= s.keys(), f"stream keys {STREAM_KEYS - s.keys()}", r.stdout)
            expect(s["feed"] == "binance" and s["interval"] == "1m" and s["state"] == "live",
                   "stream identity and state", r.stdout)
            expect(s["closed_bars"] >= INITIAL_CLOSED and s["gaps_filled"] == 1, "counters",
                   r.stdout)
            expect(0 <= s["age_ms"] < 10_000 and s["stale"] is False, "fresh stream", r.stdout)
        h = env.ctl("status")
        expect(h.returncode == 0, "human status exits 0 too", h.stdout + h.stderr)
        for text in ("mdfeed is healthy", "# Daemon", "pid:%d" % f.proc.pid,
                     "# Connections (1)", "# Streams (2, 0 stale", "BTCUSDT", "ETHUSDT"):
            expect(text in h.stdout, f"human status shows {text!r}", h.stdout)
        expect("\x1b[" not in h.stdout, "no ANSI color when stdout is not a tty", h.stdout)


@case
def status_degraded(env):
    with env.fake("degraded"):
        r, doc = status_json(env)
        expect(r.returncode == 1, f"degraded exits 1, got {r.returncode}", r.stdout + r.stderr)
        expect(doc["healthy"] is False and doc["state"] == "degraded", "verdict", r.stdout)
        eth, btc = stream(doc, "ETHUSDT"), stream(doc, "BTCUSDT")
        expect(eth["stale"] is True and eth["age_ms"] >= 60_000, "ETHUSDT is stale", r.stdout)
        expect(btc["stale"] is False, "BTCUSDT is fresh", r.stdout)
        conn1 = [c for c in doc["connections"] if c["id"] == 1][0]
        expect(conn1["state"] == "backoff" and conn1["ok"] is False, "conn 1 in backoff", r.stdout)
        expect(conn1["last_error"] == "TLS: certificate verify failed", "last error", r.stdout)
        reasons = " | ".join(doc["reasons"])
        expect("ETHUSDT" in reasons and "stale" in reasons and "TLS" in reasons, "reasons",
               reasons)
        # A stale limit above the stream's age leaves only the connection as a reason.
        r2, doc2 = status_json(env, "--stale-after", "120")
        expect(r2.returncode == 1 and stream(doc2, "ETHUSDT")["stale"] is False,
               "--stale-after 120 makes ETHUSDT fresh", r2.stdout)
        expect(not any("ETHUSDT" in x for x in doc2["reasons"]), "no stream reason", r2.stdout)
        h = env.ctl("status")
        expect(h.returncode == 1 and "mdfeed is degraded" in h.stdout, "human degraded",
               h.stdout)


@case
def status_down_missing(env):
    r, doc = status_json(env)
    expect(r.returncode == 2, f"no status segment exits 2, got {r.returncode}", r.stdout)
    expect(doc["healthy"] is False and doc["state"] == "down" and doc["daemon"] is None,
           "down, no daemon object", r.stdout)
    expect(doc["streams"] == [] and doc["connections"] == [], "empty arrays", r.stdout)
    expect("no status segment" in doc["reasons"][0], "reason names the segment", r.stdout)

    missing = os.path.join(env.tmp, "nope")
    r = env.ctl("--shm-dir", missing, "status", shm=False)
    expect(r.returncode == 2 and missing in r.stdout and "No such file" in r.stdout,
           "missing shm dir: down, with the path", r.stdout + r.stderr)

    with open(os.path.join(env.dir, "mdfeed.status"), "wb") as fh:
        fh.write(b"\xab" * 8192)
    r, doc = status_json(env)
    expect(r.returncode == 2 and "bad magic" in doc["reasons"][0], "corrupt segment refused",
           r.stdout)


@case
def status_down_stopped(env):
    with env.fake("stopped") as f:
        expect(f.wait_exit() == 0, "fake exits cleanly")
        r, doc = status_json(env)
        expect(r.returncode == 2, f"stopped daemon exits 2, got {r.returncode}", r.stdout)
        expect(doc["daemon"]["segment_state"] == "stopped", "segment says stopped", r.stdout)
        expect("stopped" in doc["reasons"][0], "reason says stopped", r.stdout)


@case
def status_down_crashed(env):
    with env.fake("crashed") as f:
        expect(f.wait_exit() == -9, "fake was SIGKILLed")
        r, doc = status_json(env)
        expect(r.returncode == 2, f"dead pid exits 2, got {r.returncode}", r.stdout)
        expect("gone" in doc["reasons"][0], "reason says the pid is gone", r.stdout)


@case
def status_down_hung(env):
    with env.fake("hung"):
        # Beating stopped at "ready": a generous limit still sees it alive ...
        r, _ = status_json(env, "--heartbeat-timeout", "15")
        expect(r.returncode == 0, f"fresh heartbeat is healthy, got {r.returncode}", r.stdout)
        # ... and a short one calls it down once the beat is older than that.
        deadline = time.monotonic() + 10
        rc, doc = None, None
        while time.monotonic() < deadline:
            r, doc = status_json(env, "--heartbeat-timeout", "0.3")
            rc = r.returncode
            if rc == 2:
                break
            time.sleep(0.1)
        expect(rc == 2, f"stale heartbeat exits 2, got {rc}", json.dumps(doc))
        expect("heartbeat" in doc["reasons"][0], "reason names the heartbeat", json.dumps(doc))


def run_on_pty(argv, env):
    """Runs argv with stdout on a pseudo-terminal; returns (exit code, output)."""
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen(argv, stdout=slave, stderr=subprocess.DEVNULL, env=env)
    finally:
        os.close(slave)
    out = b""
    deadline = time.monotonic() + CMD_TIMEOUT_S
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1)
        if not ready:
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    return p.wait(timeout=CMD_TIMEOUT_S), out.decode()


@case
def status_color(env):
    with env.fake("degraded"):
        base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "MDFEED_SHM_DIR")}
        base["TERM"] = "xterm"
        argv = [env.ctl_path, "--shm-dir", env.dir, "status"]
        rc, out = run_on_pty(argv, base)
        expect(rc == 1, f"degraded on a tty exits 1, got {rc}", out)
        expect("\x1b[33m" in out, "stale stream highlighted in yellow on a tty", out)
        stale_lines = [l for l in out.splitlines() if "ETHUSDT" in l and " live " in l]
        expect(stale_lines and stale_lines[0].startswith("\x1b[33m"), "the ETHUSDT row is colored",
               out)
        rc, out = run_on_pty(argv, dict(base, NO_COLOR="1"))
        expect(rc == 1 and "\x1b[" not in out, "NO_COLOR turns color off", out)


def check_bar_fields(bars):
    for b in bars:
        expect(BAR_KEYS <= b.keys(), f"bar keys {BAR_KEYS - b.keys()}", json.dumps(b))
        i = (b["open_time"] - BASE_OPEN_MS) // MINUTE_MS
        # synth_bar(i): open = i + 100, close_time = open_time + 1 min - 1 ms.
        expect(b["open"] == i + 100 and b["close_time"] == b["open_time"] + MINUTE_MS - 1,
               "bar fields match the synthetic series", json.dumps(b))


@case
def bars(env):
    with env.fake("healthy", update_ms=1000):
        r = env.ctl("bars", "binance:BTCUSDT", "1m", "-n", "5", "--json")
        expect(r.returncode == 0, f"bars exits 0, got {r.returncode}", r.stderr)
        arr = json.loads(r.stdout)
        expect(len(arr) == 6, f"5 closed + 1 forming, got {len(arr)}", r.stdout)
        expect(all(b["closed"] for b in arr[:5]) and arr[5]["closed"] is False,
               "forming bar last, marked closed=false", r.stdout)
        opens = [b["open_time"] for b in arr]
        expect(all(b - a == MINUTE_MS for a, b in zip(opens, opens[1:])),
               "contiguous open times, oldest first", r.stdout)
        check_bar_fields(arr)

        h = env.ctl("bars", "binance:btcusdt", "1m", "-n", "3")  # lower case is accepted
        lines = h.stdout.splitlines()
        expect(h.returncode == 0 and lines[0].startswith("binance:BTCUSDT 1m"), "title line",
               h.stdout + h.stderr)
        expect(lines[1].split()[0] == "OPEN_TIME" and len(lines) == 2 + 4, "header + 4 rows",
               h.stdout)
        expect(all(l.endswith("closed") for l in lines[2:5]) and lines[5].endswith("forming"),
               "closed rows then the forming row", h.stdout)

        r = env.ctl("bars", "binance:ETHUSDT", "1m", "-n", "1000", "--json")
        arr = json.loads(r.stdout)
        # The ring has wrapped, so -n beyond it gives what a reader can safely see: capacity - 1.
        expect(len(arr) == CAPACITY - 1 + 1, f"capacity-1 closed bars + forming, got {len(arr)}",
               r.stdout[:200])
        check_bar_fields(arr)


def strict_json(text):
    """json.loads that refuses NaN/Infinity (Python accepts them; JSON has no such tokens)."""
    def refuse(token):
        raise Failure(f"invalid JSON token {token}", text[:400])
    try:
        return json.loads(text, parse_constant=refuse)
    except json.JSONDecodeError as e:
        raise Failure(f"not JSON: {e}", text[:400])


def has_nan(text):
    """A nan/inf spelling as a word of its own ("binance" contains "nan")."""
    return re.search(r"\b(nan|inf|infinity)\b", text, re.IGNORECASE) is not None


def check_unknown_bar(b):
    """An ETHUSDT bar of fake mode "unknown": trade count and taker-buy volumes null, and
    quote_volume null on every 4th bar; the fields the venue does send are numbers."""
    i = (b["open_time"] - BASE_OPEN_MS) // MINUTE_MS
    expect(b["trades"] is None and b["taker_buy_volume"] is None and
           b["taker_buy_quote_volume"] is None, "unknown fields are null", json.dumps(b))
    expect((b["quote_volume"] is None) == (i % 4 == 0), "NaN quote_volume is null, others not",
           json.dumps(b))
    expect(all(isinstance(b[k], (int, float)) for k in ("open", "high", "low", "close", "volume")),
           "known fields are numbers", json.dumps(b))


@case
def bars_unknown_fields(env):
    """DESIGN.md "Venues": fields a venue does not send are null in --json, "-" in the table."""
    with env.fake("unknown", update_ms=100):
        r = env.ctl("bars", "binance:ETHUSDT", "1m", "-n", "8", "--json")
        expect(r.returncode == 0, f"bars exits 0, got {r.returncode}", r.stderr)
        expect(not has_nan(r.stdout), "no nan/inf in JSON", r.stdout)
        arr = strict_json(r.stdout)
        expect(len(arr) == 9, f"8 closed + forming, got {len(arr)}", r.stdout)
        check_bar_fields(arr)
        for b in arr:
            check_unknown_bar(b)

        # The Binance-style stream next to it keeps its numbers.
        arr = strict_json(env.ctl("bars", "binance:BTCUSDT", "1m", "-n", "8", "--json").stdout)
        for b in arr:
            expect(isinstance(b["trades"], int) and isinstance(b["quote_volume"], (int, float))
                   and isinstance(b["taker_buy_volume"], (int, float)),
                   "known fields stay numbers", json.dumps(b))

        h = env.ctl("bars", "binance:ETHUSDT", "1m", "-n", "8")
        lines = h.stdout.splitlines()
        expect(h.returncode == 0 and len(lines) == 2 + 9, "title, header, 9 rows", h.stdout)
        expect(not has_nan(h.stdout), "no nan in the table", h.stdout)
        header = lines[1].split()
        t_col, q_col = header.index("TRADES"), header.index("QUOTE_VOLUME")
        dash_quote = 0
        for row in lines[2:]:
            cells = row.split()
            expect(len(cells) == len(header), "every row has every cell", row)
            expect(cells[t_col] == "-", "unknown trades print as -", row)
            dash_quote += cells[q_col] == "-"
        expect(dash_quote >= 2, "every 4th bar's NaN quote_volume prints as -", h.stdout)

        r = env.ctl("tail", "binance:ETHUSDT", "1m", "--count", "3", "--timeout", "20")
        expect(r.returncode == 0, f"tail exits 0, got {r.returncode}", r.stdout + r.stderr)
        lines = r.stdout.splitlines()
        expect(len(lines) == 3 and all(l.endswith(" trades=-") for l in lines) and
               not has_nan(r.stdout), "tail prints trades=- and no nan", r.stdout)
        r = env.ctl("tail", "binance:ETHUSDT", "1m", "--count", "3", "--json", "--timeout", "20")
        expect(r.returncode == 0 and not has_nan(r.stdout), "tail --json", r.stdout)
        for line in r.stdout.splitlines():
            check_unknown_bar(strict_json(line))


@case
def list_(env):
    r = env.ctl("list")
    expect(r.returncode == 0 and "no rings" in r.stdout, "empty dir lists nothing", r.stdout)
    with env.fake("healthy", update_ms=1000):
        r = env.ctl("list", "--json")
        expect(r.returncode == 0, f"list exits 0, got {r.returncode}", r.stderr)
        arr = json.loads(r.stdout)
        expect([(e["feed"], e["symbol"], e["interval"]) for e in arr] ==
               [("binance", "BTCUSDT", "1m"), ("binance", "ETHUSDT", "1m")], "sorted rings",
               r.stdout)
        for e in arr:
            expect(e["capacity"] == CAPACITY and e["closed_bars"] >= INITIAL_CLOSED and
                   e["writer"] == "live" and e["last_bar_open_time"] > BASE_OPEN_MS,
                   "ring details", r.stdout)
        h = env.ctl("list")
        lines = h.stdout.splitlines()
        expect(lines[0].split() == ["FEED", "SYMBOL", "INTERVAL", "CLOSED", "CAPACITY", "WRITER",
                                    "LAST_BAR"] and len(lines) == 3, "table", h.stdout)
        # Columns line up: every row puts SYMBOL where the header does.
        col = lines[0].index("SYMBOL")
        expect(all(l[col:].startswith(("BTCUSDT", "ETHUSDT")) for l in lines[1:]), "aligned",
               h.stdout)
        with open(os.path.join(env.dir, "binance", "BAD.1m.ring"), "wb") as fh:
            fh.write(b"\0" * 4096)
        r = env.ctl("list")
        expect(r.returncode == 1 and "bad magic" in r.stderr and "BTCUSDT" in r.stdout,
               "a corrupt ring is reported, the others still listed", r.stdout + r.stderr)
    r = env.ctl("list")
    expect("stopped" in r.stdout, "rings of a stopped writer say so", r.stdout)


@case
def tail(env):
    with env.fake("healthy", update_ms=50):
        t0 = time.monotonic()
        r = env.ctl("tail", "binance:BTCUSDT", "1m", "--count", "6", "--timeout", "20")
        expect(r.returncode == 0, f"tail exits 0, got {r.returncode}", r.stdout + r.stderr)
        lines = r.stdout.splitlines()
        expect(len(lines) == 6, f"six updates, got {len(lines)}", r.stdout)
        expect(any(" closed " in l for l in lines) and any(" forming " in l for l in lines),
               "both closed and forming updates", r.stdout)
        expect(time.monotonic() - t0 < 10, "updates arrive as published, not at the timeout")

        r = env.ctl("tail", "binance:ETHUSDT", "1m", "--count", "3", "--json")
        expect(r.returncode == 0, f"tail --json exits 0, got {r.returncode}", r.stderr)
        objs = [json.loads(l) for l in r.stdout.splitlines()]
        expect(len(objs) == 3, "three JSON lines", r.stdout)
        check_bar_fields(objs)


@case
def tail_timeout(env):
    with env.fake("quiet"):
        t0 = time.monotonic()
        r = env.ctl("tail", "binance:BTCUSDT", "1m", "--count", "1", "--timeout", "0.5")
        took = time.monotonic() - t0
        expect(r.returncode == 1 and "timed out" in r.stderr, "no update: exit 1, says why",
               r.stdout + r.stderr)
        expect(r.stdout == "" and 0.5 <= took < 10, f"waited the timeout ({took:.2f}s)", r.stdout)
        r = env.ctl("tail", "binance:BTCUSDT", "1m", "--timeout", "0.3")
        expect(r.returncode == 0 and r.stdout == "", "timeout without --count is a normal end",
               r.stdout + r.stderr)


@case
def env_shm_dir(env):
    with env.fake("healthy"):
        r, doc = status_json(env, shm=False, env={"MDFEED_SHM_DIR": env.dir})
        expect(r.returncode == 0 and doc["shm_dir"] == env.dir, "$MDFEED_SHM_DIR is used",
               r.stdout)
        missing = os.path.join(env.tmp, "missing")
        r, doc = status_json(env, env={"MDFEED_SHM_DIR": missing})
        expect(r.returncode == 0 and doc["shm_dir"] == env.dir, "--shm-dir beats the variable",
               r.stdout)
        r = env.ctl("list", shm=False, env={"MDFEED_SHM_DIR": env.dir})
        expect(r.returncode == 0 and "BTCUSDT" in r.stdout, "list uses the variable", r.stdout)


@case
def errors(env):
    def usage(*args, msg):
        r = env.ctl(*args)
        expect(r.returncode == 64 and msg in r.stderr and "--help" in r.stderr,
               f"{args}: usage error 64 mentioning {msg!r}", f"rc={r.returncode}\n{r.stderr}")

    usage("bars", "binance:btc/../x", "1m", msg="bad ring name 'binance:btc/../x'")
    usage("tail", "../etc:BTCUSDT", "1m", msg="bad ring name")
    usage("bars", "BINANCE:BTCUSDT", "1m", msg="feed must be")
    usage("bars", "binance", "1m", msg="expected FEED:SYMBOL")
    usage("bars", "binance:BTCUSDT", "7m", msg="unknown interval '7m'")
    usage("bars", "binance:BTCUSDT", msg="takes FEED:SYMBOL INTERVAL")
    usage("bars", "binance:BTCUSDT", "1m", "-n", "0", msg="-n must be a whole number")
    usage("tail", "binance:BTCUSDT", "1m", "--timeout", "soon", msg="--timeout must be")
    usage("frobnicate", msg="unknown command 'frobnicate'")
    usage("status", "--verbose", msg="unknown option '--verbose'")
    usage(msg="no command given")

    def runtime(*args, msg, shm=True):
        r = env.ctl(*args, shm=shm)
        expect(r.returncode == 1 and msg in r.stderr, f"{args}: exit 1 mentioning {msg!r}",
               f"rc={r.returncode}\n{r.stderr}")

    runtime("bars", "binance:DOGEUSDT", "1m", msg="ring not found")
    runtime("tail", "binance:DOGEUSDT", "1m", "--timeout", "1", msg="ring not found")
    missing = os.path.join(env.tmp, "missing")
    runtime("--shm-dir", missing, "bars", "binance:BTCUSDT", "1m", msg="No such file", shm=False)
    runtime("--shm-dir", missing, "list", msg="No such file", shm=False)


@case
def help_version(env):
    r = env.ctl("--help", shm=False)
    expect(r.returncode == 0 and r.stdout.startswith("Usage: mdfeed-ctl"), "--help", r.stdout)
    for word in ("status", "bars", "list", "tail", "--shm-dir", "MDFEED_SHM_DIR", "degraded"):
        expect(word in r.stdout, f"help mentions {word}", r.stdout)
    r = env.ctl("status", "--help", shm=False)
    expect(r.returncode == 0 and "Usage:" in r.stdout, "command --help", r.stdout)
    r = env.ctl("--version", shm=False)
    expect(r.returncode == 0 and r.stdout.startswith("mdfeed-ctl "), "--version", r.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ctl", required=True)
    ap.add_argument("--fake", required=True)
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="mdfeed-ctl-test.")
    try:
        CASES[a.case](Env(a.ctl, a.fake, tmp))
    except Failure as e:
        print(f"FAIL {a.case}: {e}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"PASS {a.case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
