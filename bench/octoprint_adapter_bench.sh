#!/usr/bin/env bash
# RSS and CPU of the OctoPrint adapter (prusaconnect-octoprint) while a print
# runs, with 1 Hz telemetry, against the Connect emulator and the fake
# OctoPrint (tests/octoprint/fake_octoprint.py), all on loopback.
#
#   bench/octoprint_adapter_bench.sh [BUILD_DIR] [SECONDS]
#
# Runs twice: with the push socket (the default) and with --no-push-socket
# (REST polling only). For each: CPU = (utime + stime of the adapter) / wall
# time over the measured window (after a 5 s warm-up), RSS = VmRSS at the end
# and VmHWM (peak), telemetry = samples the emulator received per second.
# Results in docs/PERFORMANCE.md ("OctoPrint adapter").
set -euo pipefail
BUILD=${1:-build}
SECONDS_RUN=${2:-60}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ADAPTER=$BUILD/examples/octoprint_adapter/prusaconnect-octoprint
EMULATOR=$BUILD/src/emulator/prusaconnect-emulator
FAKE=$ROOT/tests/octoprint/fake_octoprint.py
WORK=$(mktemp -d /tmp/octo-bench-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_file() { for _ in $(seq 300); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }

"$EMULATOR" --port 0 --port-file "$WORK/eport" >"$WORK/emu.log" 2>&1 &
PIDS+=($!)
wait_file "$WORK/eport"
EMU="http://127.0.0.1:$(cat "$WORK/eport")"
TICK=$(getconf CLK_TCK)

run() {
  local mode=$1; shift
  local dir=$WORK/$mode
  mkdir -p "$dir/state"
  # A fresh fake OctoPrint, printing a 2-hour job (0.014 %/s).
  /usr/bin/python3 "$FAKE" --port 0 --port-file "$dir/oport" --print "prints/benchmark.gcode" \
    --rate 0.014 >"$dir/fake.log" 2>&1 &
  local fake_pid=$!
  PIDS+=($fake_pid)
  wait_file "$dir/oport"
  local sn="OCTO-BENCH-$mode-$$"
  local fp; fp=$(printf %s "$sn" | sha256sum | cut -d' ' -f1)
  local token; token=$(curl -s -X POST "$EMU/api/printers" -H 'Content-Type: application/json' \
    -d "{\"fingerprint\":\"$fp\",\"sn\":\"$sn\",\"printer_type\":\"1.3.0\"}" |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  printf 'serial=%s\nsource=bench\n' "$sn" >"$dir/state/identity"
  printf '%s\n' "$token" >"$dir/state/token"
  "$ADAPTER" --config /dev/null --octoprint-url "http://127.0.0.1:$(cat "$dir/oport")" \
    --api-key KEY --server "$EMU" --state-dir "$dir/state" --log-level warning "$@" \
    2>"$dir/adapter.log" &
  local pid=$!
  PIDS+=($pid)
  sleep 5
  count() { curl -s "$EMU/api/printers/$fp" |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["telemetry_count"])'; }
  cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
  local c0 t0 n0 c1 t1 n1
  c0=$(cpu); t0=$(date +%s.%N); n0=$(count)
  sleep "$SECONDS_RUN"
  c1=$(cpu); t1=$(date +%s.%N); n1=$(count)
  local rss hwm
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  kill -TERM "$pid"; wait "$pid" || true
  kill "$fake_pid"; wait "$fake_pid" 2>/dev/null || true
  /usr/bin/python3 - "$mode" "$c0" "$c1" "$t0" "$t1" "$n0" "$n1" "$rss" "$hwm" "$TICK" <<'PY'
import sys
mode, c0, c1, t0, t1, n0, n1, rss, hwm, tick = sys.argv[1:]
wall = float(t1) - float(t0)
cpu = (int(c1) - int(c0)) / int(tick) / wall * 100
rate = (int(n1) - int(n0)) / wall
print(f"{mode:12s} window {wall:5.1f} s  CPU {cpu:5.2f} % of a core  "
      f"RSS {int(rss)/1024:5.1f} MB (peak {int(hwm)/1024:5.1f} MB)  telemetry {rate:4.2f}/s")
PY
}

echo "prusaconnect-octoprint while printing, ${SECONDS_RUN} s windows ($(nproc) cores, $(uname -r))"
run push-socket
run rest-polling --no-push-socket
