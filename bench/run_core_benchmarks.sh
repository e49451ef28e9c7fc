#!/usr/bin/env bash
# Runs the benchmarks of the core performance issue and prints a summary
# (docs/PERFORMANCE.md explains every figure).
#
#   bench/run_core_benchmarks.sh [--reference-sdk PATH] [--quick]
#
# Environment:
#   BUILD_DIR       build tree (default build/perf, RelWithDebInfo, configured
#                   and built here with only the targets needed)
#   OUT_DIR         where outputs go (default $BUILD_DIR/results-<time>)
#   REFERENCE_SDK   same as --reference-sdk: a checkout of
#                   prusa-connect-sdk-printer 0.8.1 to measure side by side;
#                   without it the reference runs are reported as skipped
#   QUICK=1         same as --quick: every run 5x shorter (smoke test)
#
# Runs, against one prusaconnect-emulator on an ephemeral loopback port:
#   curl_floor; telemetry_load flood 1 printer 10 s; curl_roundtrip (libcurl
#   alone) flood and 100 Hz, telemetry_load 1 printer 100 Hz; paced 1 printer 1 Hz
#   30 s; one_printer (the smallest host) 30 s; paced 50 printers 30 s;
#   paced N = 100, 1000, 10000 for 60 s each; micro_bench; and the reference
#   SDK (flood 1, paced 1, paced 50 printers, printer-count limit). About 8
#   minutes in all.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

REFERENCE_SDK="${REFERENCE_SDK:-}"
QUICK="${QUICK:-0}"
while [ $# -gt 0 ]; do
  case "$1" in
    --reference-sdk) REFERENCE_SDK="$2"; shift 2 ;;
    --reference-sdk=*) REFERENCE_SDK="${1#*=}"; shift ;;
    --quick) QUICK=1; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

BUILD_DIR="${BUILD_DIR:-build/perf}"
OUT_DIR="${OUT_DIR:-$BUILD_DIR/results-$(date +%Y%m%d-%H%M%S)}"
PY=/usr/bin/python3
JOBS="${JOBS:-2}"
mkdir -p "$OUT_DIR"
RESULTS="$OUT_DIR/results.jsonl"
: > "$RESULTS"

dur() {  # a duration, shortened in quick mode
  if [ "$QUICK" = 1 ]; then
    $PY -c "import sys; print(max(1.0, float(sys.argv[1]) / 5))" "$1"
  else
    echo "$1"
  fi
}

# ---- build (only what is needed; Release-class build)
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPRUSACONNECT_WERROR=ON -DPRUSACONNECT_BUILD_TESTS=OFF \
    -DPRUSACONNECT_BUILD_EXAMPLES=OFF -DPRUSACONNECT_BUILD_PYTHON=OFF \
    -DPRUSACONNECT_BUILD_EMULATOR=ON -DPRUSACONNECT_BUILD_BENCH=ON >/dev/null
fi
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD_DIR/CMakeCache.txt")
cmake --build "$BUILD_DIR" -j "$JOBS" --target prusaconnect-emulator curl_floor \
  curl_roundtrip telemetry_load one_printer micro_bench
EMU="$BUILD_DIR/src/emulator/prusaconnect-emulator"
BIN="$BUILD_DIR/bench"

# ---- descriptors: 10,000 printers need 10,000 connections on each side
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "open files limit: $(ulimit -n)"

# ---- the emulator
PORT_FILE="$OUT_DIR/emulator.port"
rm -f "$PORT_FILE"
"$EMU" --port 0 --port-file "$PORT_FILE" >"$OUT_DIR/emulator.log" 2>&1 &
EMU_PID=$!
cleanup() { kill "$EMU_PID" 2>/dev/null || true; wait "$EMU_PID" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 100); do [ -s "$PORT_FILE" ] && break; sleep 0.1; done
[ -s "$PORT_FILE" ] || { echo "emulator did not start" >&2; cat "$OUT_DIR/emulator.log" >&2; exit 1; }
SERVER="http://127.0.0.1:$(cat "$PORT_FILE")"
echo "emulator: $SERVER (pid $EMU_PID)"

reset_emulator() {
  curl -s -o /dev/null -X POST "$SERVER/api/reset" || true
}

# Runs a tool, shows its output, appends its JSON line to results.jsonl.
run() {
  local name="$1"; shift
  echo
  echo "==== $name: $*"
  local t0=$SECONDS
  local rc=0
  local emu0 emu1
  emu0=$(emulator_ticks)
  "$@" >"$OUT_DIR/$name.out" 2>"$OUT_DIR/$name.err" || rc=$?
  emu1=$(emulator_ticks)
  cat "$OUT_DIR/$name.out"
  if [ -s "$OUT_DIR/$name.err" ]; then sed 's/^/  stderr: /' "$OUT_DIR/$name.err" | head -20; fi
  grep -m1 '^{' "$OUT_DIR/$name.out" | $PY -c '
import json, os, sys
line = sys.stdin.read().strip()
if line:
    d = json.loads(line); d["run"] = sys.argv[1]; d["exit"] = int(sys.argv[2])
    # CPU of the emulator process over the whole run (setup included)
    d["emulator_cpu_s"] = (int(sys.argv[4]) - int(sys.argv[3])) / os.sysconf("SC_CLK_TCK")
    print(json.dumps(d))' "$name" "$rc" "$emu0" "$emu1" >>"$RESULTS" || true
  echo "(exit $rc, $((SECONDS - t0)) s; emulator CPU $(( (emu1 - emu0) / $(getconf CLK_TCK) )) s)"
}

emulator_ticks() {  # utime + stime of the emulator, in clock ticks
  awk '{print $14 + $15}' "/proc/$EMU_PID/stat" 2>/dev/null || echo 0
}

# ---- machine
{
  echo "{\"tool\":\"machine\",\"run\":\"machine\",\"nproc\":$(nproc),"\
"\"cpu\":\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')\","\
"\"kernel\":\"$(uname -r)\",\"mem_total_kb\":$(awk '/MemTotal/{print $2}' /proc/meminfo),"\
"\"build_type\":\"$BUILD_TYPE\",\"open_files\":$(ulimit -n),"\
"\"inotify_max_user_instances\":$(cat /proc/sys/fs/inotify/max_user_instances)}"
} >>"$RESULTS"

TL="$BIN/telemetry_load --server $SERVER"

run curl_floor "$BIN/curl_floor" "$SERVER/api/stats"

reset_emulator
run flood_1 $TL --label flood_1 --mode flood --printers 1 --seconds "$(dur 10)" --warmup 2

# libcurl alone, the same request back to back, then isolated at 100 Hz
# (bench/curl_roundtrip.c): the floor of the CPU per round-trip above.
reset_emulator
curl -s -o /dev/null -X POST "$SERVER/api/printers" -d '{"fingerprint":"fpcurlroundtrip","sn":"SNCURLRT","printer_type":"1.3.1","token":"tkcurlroundtrip"}'
run curl_roundtrip_flood "$BIN/curl_roundtrip" --server "$SERVER" --fingerprint fpcurlroundtrip \
  --token tkcurlroundtrip --seconds "$(dur 10)" --warmup 2
run curl_roundtrip_100hz "$BIN/curl_roundtrip" --server "$SERVER" --fingerprint fpcurlroundtrip \
  --token tkcurlroundtrip --seconds "$(dur 10)" --warmup 1 --rate 100
reset_emulator
run paced_1_100hz $TL --label paced_1_100hz --printers 1 --rate 100 --seconds "$(dur 10)" --warmup 1

reset_emulator
run paced_1 $TL --label paced_1 --printers 1 --rate 1 --seconds "$(dur 30)" --warmup 2

# The smallest host (bench/one_printer.cc): one printer with a saved token.
reset_emulator
ONE_SN=SNONEPRINTER
ONE_FP=$(printf %s "$ONE_SN" | sha256sum | cut -d' ' -f1)
curl -s -o /dev/null -X POST "$SERVER/api/printers" -d "{\"fingerprint\":\"$ONE_FP\",\"sn\":\"$ONE_SN\",\"printer_type\":\"1.3.1\",\"token\":\"tkoneprinter\"}"
run one_printer "$BIN/one_printer" --server "$SERVER" --token tkoneprinter --sn "$ONE_SN" \
  --seconds "$(dur 30)"

reset_emulator
run paced_50 $TL --label paced_50 --printers 50 --rate 1 --seconds "$(dur 30)" --warmup 3

for n in 100 1000 10000; do
  warm=5
  [ "$n" = 10000 ] && warm=10
  reset_emulator
  run "paced_$n" $TL --label "paced_$n" --printers "$n" --rate 1 --seconds "$(dur 60)" \
    --warmup "$warm" --grace 3
done
reset_emulator

echo
echo "==== micro_bench"
"$BIN/micro_bench" --benchmark_min_time=0.2 --benchmark_out="$OUT_DIR/micro_bench.json" \
  --benchmark_out_format=json 2>&1 | tee "$OUT_DIR/micro_bench.out"

# ---- the reference SDK, side by side
REF="$PY $ROOT/bench/reference_sdk_load.py --server $SERVER"
if [ -n "$REFERENCE_SDK" ]; then
  REF="$REF --sdk $REFERENCE_SDK"
fi
reset_emulator
run ref_flood_1 $REF --label ref_flood_1 --mode flood --printers 1 --seconds "$(dur 10)" --warmup 2
if [ -n "$REFERENCE_SDK" ]; then
  reset_emulator
  run ref_paced_1 $REF --label ref_paced_1 --printers 1 --seconds "$(dur 30)" --warmup 2
  reset_emulator
  run ref_paced_50 $REF --label ref_paced_50 --printers 50 --seconds "$(dur 30)" --warmup 3
  reset_emulator
  run ref_maxprinters $REF --label ref_maxprinters --mode maxprinters
fi

echo
echo "==== summary (all outputs in $OUT_DIR)"
$PY "$ROOT/bench/summarize.py" "$RESULTS" "$OUT_DIR/micro_bench.json" | tee "$OUT_DIR/summary.txt"
