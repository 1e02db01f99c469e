#!/bin/bash
# Same-run comparison of two builds (before / after) on the figures of issue 11: e2e latency,
# one-connection throughput, and 3000 streams at the real rate and idle. Alternates the builds
# so slow drifts of a shared VM hit both; prints each run's summary lines.
#
#     bench/ab.sh BEFORE_BUILD_DIR AFTER_BUILD_DIR OUT_DIR [scale rounds, default 2]
#
# Each build needs mdfeed, the fake exchange, mdfeed-ctl, e2e_reader, probe_client and
# flood_sender (cmake --build B --target mdfeed mdfeed-fake-exchange mdfeed-ctl e2e_reader
# probe_client flood_sender). About 6 minutes per scale round, 4 minutes for the rest.
set -euo pipefail
before=${1:?usage: ab.sh BEFORE AFTER OUT [rounds]}
after=${2:?usage: ab.sh BEFORE AFTER OUT [rounds]}
out=${3:?usage: ab.sh BEFORE AFTER OUT [rounds]}
rounds=${4:-2}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
py=/usr/bin/python3
for pair in "before:$before" "after:$after"; do
  tag=${pair%%:*}
  b=${pair#*:}
  $py "$here/e2e/run_e2e.py" --build "$b" --out "$out/e2e-$tag" --runs 3 --seconds 4 > "$out/e2e-$tag.log" 2>&1
  grep "e2e summary" "$out/e2e-$tag.log" | sed "s/^/$tag: /" | cut -c1-400
  $py "$here/throughput/run_throughput.py" --build "$b" --out "$out/tp-$tag" --runs 3 --seconds 4 > "$out/tp-$tag.log" 2>&1
  grep "us CPU/msg" "$out/tp-$tag.log" | sed "s/^/$tag: /"
done
for r in $(seq 1 "$rounds"); do
  for pair in "before:$before" "after:$after"; do
    tag=${pair%%:*}
    b=${pair#*:}
    $py "$here/scale/run_scale.py" --build "$b" --out "$out/sc-$tag-$r" --only s1000_real,s1000_idle --window-s 30 > "$out/sc-$tag-$r.log" 2>&1
    grep "steady" "$out/sc-$tag-$r.log" | sed "s/^/$tag round $r: /"
  done
done
