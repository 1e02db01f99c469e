#!/bin/bash
# Where the daemon's cycles go under flood_sender --batch 32 (full TLS records): runs
# run_throughput.py once and, during its batch-32 window, perf-records the daemon for 3 s; prints
# the split by library and the hottest symbols. Needs perf (linux-perf) and permission to
# profile the daemon (perf_event_paranoid <= 1, or root).
#
#     bench/throughput/profile_flood.sh BUILD_DIR OUT_DIR
set -euo pipefail
build=${1:?usage: profile_flood.sh BUILD_DIR OUT_DIR}
out=${2:?usage: profile_flood.sh BUILD_DIR OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
/usr/bin/python3 "$here/run_throughput.py" --build "$build" --out "$out" --runs 1 --seconds 6 > "$out/throughput.log" 2>&1 &
tp=$!
found=0
for _ in $(seq 1 600); do  # at most 60 s for the batch-32 phase to start
  if pgrep -f "flood_sender.*--batch 32" > /dev/null; then found=1; break; fi
  sleep 0.1
done
if [ $found = 0 ]; then echo "profile_flood: the batch-32 phase never started; see $out/throughput.log" >&2; wait $tp || true; exit 1; fi
sleep 4  # past the warm-up
pid=$(pgrep -f "mdfeed --config" | head -1)
perf record -F 2000 -g -o "$out/perf.data" -p "$pid" -- sleep 3 > /dev/null 2>&1
wait $tp
perf report -i "$out/perf.data" --no-children --sort dso -g none 2> /dev/null | grep -v '^#' | grep -v '^$' | head -12
perf report -i "$out/perf.data" --no-children --sort sym -g none 2> /dev/null | grep -v '^#' | grep -v '^$' | head -25
