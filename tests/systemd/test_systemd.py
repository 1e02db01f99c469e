#!/usr/bin/python3
"""Checks of the shipped systemd files (systemd/): one case per run (--case NAME).

  verify             systemd-analyze verify prints nothing for the unit (and does complain about
                     a deliberately broken copy, so silence means something)
  security           systemd-analyze security --offline=yes: overall exposure below 2.0
  contract           the unit says what docs/design.md requires (notify, watchdog, static user, no
                     RemoveIPC, outbound network, writable ring directory)
  sysusers_tmpfiles  sysusers.d and tmpfiles.d applied to a scratch --root create the user and a
                     2750 mdfeed:mdfeed ring directory (needs root for chown; else skipped)

Exit 0 pass, 1 fail, 77 skipped."""

import argparse
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

SKIP = 77
MAX_EXPOSURE = 2.0
ENV = dict(os.environ, SYSTEMD_COLORS="0", SYSTEMD_PAGER="", SYSTEMD_LOG_COLOR="0")


class Failure(Exception):
    pass


class Skip(Exception):
    pass


def expect(cond, what, detail=""):
    if not cond:
        raise Failure(what + (f"\n--- detail ---\n{detail}" if detail else ""))


def run(argv):
    return subprocess.run(argv, capture_output=True, text=True, env=ENV, timeout=60)


def tool(name):
    path = shutil.which(name) or shutil.which(name, path="/usr/bin:/bin:/usr/sbin:/sbin")
    if not path:
        raise Skip(f"{name} not installed")
    return path


def service_settings(path):
    """[Service] and [Unit] keys of a unit file -> list of values (keys may repeat)."""
    settings, section = {}, None
    with open(path) as fh:
        for raw in fh:
            line = raw.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("["):
                section = line.strip("[]")
                continue
            key, _, value = line.partition("=")
            settings.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return settings


def case_verify(a, tmp):
    analyze = tool("systemd-analyze")
    r = run([analyze, "verify", a.unit])
    out = (r.stdout + r.stderr).strip()
    expect(r.returncode == 0 and out == "", f"verify must pass silently (rc={r.returncode})", out)
    # Control: verify only warns (rc 0) about unknown or bad directives, which is why any output
    # at all fails the check above. Make sure such output does appear for a broken unit.
    bad_dir = os.path.join(tmp, "bad")
    os.mkdir(bad_dir)
    bad = os.path.join(bad_dir, "mdfeed.service")
    with open(a.unit) as src, open(bad, "w") as dst:
        dst.write(src.read() + "\n[Service]\nProtectSytem=strict\n")
    r = run([analyze, "verify", bad])
    expect("ProtectSytem" in r.stdout + r.stderr, "verify reports a misspelt directive",
           r.stdout + r.stderr)


def case_security(a, tmp):
    analyze = tool("systemd-analyze")
    unit = os.path.join(a.systemd_dir, "mdfeed.service")
    r = run([analyze, "security", "--offline=yes", unit])
    m = re.search(r"Overall exposure level for mdfeed\.service: (\d+(?:\.\d+)?)", r.stdout)
    expect(m is not None, "security output has an overall exposure level", r.stdout + r.stderr)
    exposure = float(m.group(1))
    print(f"systemd-analyze security --offline=yes: overall exposure {exposure}")
    expect(exposure < MAX_EXPOSURE, f"exposure {exposure} must be below {MAX_EXPOSURE}", r.stdout)
    # systemd's own threshold (exposure x 10) agrees: 19 means "at most 1.9".
    r = run([analyze, "security", "--offline=yes", "--threshold=19", unit])
    expect(r.returncode == 0, "--threshold=19 passes", r.stdout + r.stderr)


def case_contract(a, tmp):
    s = service_settings(os.path.join(a.systemd_dir, "mdfeed.service"))

    def one(key):
        v = s.get(key, [])
        expect(len(v) == 1, f"{key} is set exactly once", repr(v))
        return v[0]

    expect(one("Service.Type") == "notify", "Type=notify")
    expect(one("Service.NotifyAccess") == "main", "NotifyAccess=main")
    expect(one("Service.WatchdogSec") not in ("", "0", "infinity"), "WatchdogSec= is on")
    expect(one("Service.Restart") == "on-failure", "Restart=on-failure")
    expect(one("Service.ExecReload") == "/bin/kill -HUP $MAINPID", "ExecReload sends SIGHUP")
    expect(one("Service.ExecStart") == "/usr/bin/mdfeed --config /etc/mdfeed/mdfeed.yaml",
           "ExecStart runs the daemon on the installed config")
    expect(one("Service.User") == "mdfeed" and one("Service.Group") == "mdfeed", "static user")
    expect(one("Service.RemoveIPC") == "no", "RemoveIPC=no, explicitly")
    expect(s.get("Service.DynamicUser", ["no"]) == ["no"], "no DynamicUser")
    expect("/dev/shm/mdfeed" in " ".join(s.get("Service.ReadWritePaths", [])),
           "the ring directory is writable")
    families = set(" ".join(s.get("Service.RestrictAddressFamilies", [])).split())
    expect(families == {"AF_INET", "AF_INET6", "AF_UNIX"}, "outbound network + AF_UNIX only",
           repr(families))
    expect(s.get("Service.PrivateNetwork", ["no"]) == ["no"], "network not cut off")
    expect("Service.IPAddressDeny" not in s, "no IP deny list that would block the exchanges")
    expect(one("Service.ProtectSystem") == "strict", "/etc (config, CA files) stays readable")
    for key in ("Service.InaccessiblePaths", "Service.TemporaryFileSystem"):
        expect(key not in s, f"{key} could hide /etc/mdfeed or the CA files")
    with open(os.path.join(a.systemd_dir, "mdfeed.tmpfiles")) as fh:
        lines = [l.split() for l in fh if l.strip() and not l.startswith("#")]
    expect(lines == [["d", "/dev/shm/mdfeed", "2750", "mdfeed", "mdfeed", "-"]], "tmpfiles line",
           repr(lines))


def passwd_entry(path, name):
    with open(path) as fh:
        for line in fh:
            fields = line.rstrip("\n").split(":")
            if fields[0] == name:
                return fields
    raise Failure(f"{name} not in {path}")


def case_sysusers_tmpfiles(a, tmp):
    if os.geteuid() != 0:
        raise Skip("creating users and chown need root")
    sysusers, tmpfiles = tool("systemd-sysusers"), tool("systemd-tmpfiles")
    root = os.path.join(tmp, "root")
    os.makedirs(os.path.join(root, "etc"))
    conf = os.path.abspath(os.path.join(a.systemd_dir, "mdfeed.sysusers"))
    r = run([sysusers, f"--root={root}", conf])
    expect(r.returncode == 0, "systemd-sysusers succeeds", r.stdout + r.stderr)
    user = passwd_entry(os.path.join(root, "etc", "passwd"), "mdfeed")
    group = passwd_entry(os.path.join(root, "etc", "group"), "mdfeed")
    expect(user[4] == "mdfeed market-data daemon", "GECOS", repr(user))
    expect(user[6].endswith("nologin"), "no login shell", repr(user))
    expect(user[3] == group[2], "the user's primary group is mdfeed", repr((user, group)))
    uid, gid = int(user[2]), int(group[2])
    expect(uid < 1000, "a system uid", repr(user))

    conf = os.path.abspath(os.path.join(a.systemd_dir, "mdfeed.tmpfiles"))
    for attempt in range(2):  # the second run proves it is idempotent (boot after boot)
        r = run([tmpfiles, f"--root={root}", "--create", conf])
        expect(r.returncode == 0, f"systemd-tmpfiles --create run {attempt + 1}", r.stdout + r.stderr)
    st = os.stat(os.path.join(root, "dev", "shm", "mdfeed"))
    expect(stat.S_ISDIR(st.st_mode), "a directory")
    expect(stat.S_IMODE(st.st_mode) == 0o2750, f"mode 2750, got {oct(stat.S_IMODE(st.st_mode))}")
    expect((st.st_uid, st.st_gid) == (uid, gid), "owned by mdfeed:mdfeed",
           repr((st.st_uid, st.st_gid, uid, gid)))


CASES = {"verify": case_verify, "security": case_security, "contract": case_contract,
         "sysusers_tmpfiles": case_sysusers_tmpfiles}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--systemd-dir", required=True, help="the repo's systemd/ directory")
    ap.add_argument("--unit", help="verify: the unit with ExecStart= pointing at a built binary")
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="mdfeed-systemd-test.")
    try:
        CASES[a.case](a, tmp)
    except Skip as e:
        print(f"SKIP {a.case}: {e}")
        return SKIP
    except Failure as e:
        print(f"FAIL {a.case}: {e}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"PASS {a.case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
