#!/usr/bin/env bash
# Downloads (issue #4): a 1 GB file from the emulator over loopback, fetched
# by `curl -o`, by `curl -o` plus fdatasync (the library's durability) and by
# the library (bench/transfer_load, which also sends telemetry at 1 Hz
# meanwhile) in the same run, alternating, REPEAT times each. Prints one JSON
# line per run and a side-by-side summary
# (docs/PERFORMANCE.md "Transfers").
#
#   bench/transfer_bench.sh [SIZE_BYTES]     (default 1073741824)
#
# Environment: BUILD_DIR (default build/perf), REPEAT (default 3),
# DL_DIR (where files land, default a fresh folder under /tmp).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE="${1:-1073741824}"
REPEAT="${REPEAT:-3}"
BUILD_DIR="${BUILD_DIR:-build/perf}"
PY=/usr/bin/python3
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPRUSACONNECT_WERROR=ON -DPRUSACONNECT_BUILD_TESTS=OFF \
    -DPRUSACONNECT_BUILD_EXAMPLES=OFF -DPRUSACONNECT_BUILD_PYTHON=OFF \
    -DPRUSACONNECT_BUILD_EMULATOR=ON -DPRUSACONNECT_BUILD_BENCH=ON >/dev/null
fi
cmake --build "$BUILD_DIR" -j 2 --target prusaconnect-emulator transfer_load >/dev/null
EMU="$BUILD_DIR/src/emulator/prusaconnect-emulator"
DL_DIR="${DL_DIR:-$(mktemp -d /tmp/pc-transfer-bench-XXXXXX)}"
mkdir -p "$DL_DIR/lib"
PORT_FILE="$DL_DIR/port"
"$EMU" --port 0 --port-file "$PORT_FILE" >"$DL_DIR/emulator.log" 2>&1 &
EMU_PID=$!
cleanup() { kill "$EMU_PID" 2>/dev/null || true; wait "$EMU_PID" 2>/dev/null || true; rm -rf "$DL_DIR"; }
trap cleanup EXIT
for _ in $(seq 100); do [ -s "$PORT_FILE" ] && break; sleep 0.1; done
SERVER="http://127.0.0.1:$(cat "$PORT_FILE")"
SN=BENCH-TRANSFER-1
FP=$(printf '%s' "$SN" | sha256sum | cut -d' ' -f1)
TOKEN=$(curl -fsS -X POST "$SERVER/api/printers" \
  -d "{\"fingerprint\":\"$FP\",\"sn\":\"$SN\",\"printer_type\":\"1.3.1\"}" |
  $PY -c 'import json,sys; print(json.load(sys.stdin)["token"])')
curl -fsS -X POST "$SERVER/api/files" -d "{\"team_id\":1,\"hash\":\"bench\",\"size\":$SIZE}" >/dev/null
URL="$SERVER/p/teams/1/files/bench/raw"
echo "emulator $SERVER, $SIZE bytes, $REPEAT runs each" >&2

for i in $(seq "$REPEAT"); do
  # curl -o: wall, CPU and peak RSS from GNU time's format
  rm -f "$DL_DIR/curl.bin"
  /usr/bin/time -f '%e %U %S %M' -o "$DL_DIR/time.txt" \
    curl -fsS -o "$DL_DIR/curl.bin" -H "Token: $TOKEN" -H "Fingerprint: $FP" "$URL"
  read -r wall user sys rss < "$DL_DIR/time.txt"
  $PY -c 'import json,sys; w,u,s,r,n=map(float,sys.argv[1:]); print(json.dumps({"tool":"curl -o","wall_s":w,"mb_per_s":round(n/1e6/w,1),"cpu_s":round(u+s,3),"max_rss_mb":round(r/1024,1)}))' \
    "$wall" "$user" "$sys" "$rss" "$SIZE"
  rm -f "$DL_DIR/curl.bin"
  # curl -o then fdatasync of the file: what the library does before it
  # renames .part into place (durable on power loss); on fast storage the
  # flush, not the network, decides the library's wall time
  /usr/bin/time -f '%e %U %S %M' -o "$DL_DIR/time.txt" \
    sh -c 'curl -fsS -o "$1" -H "Token: $2" -H "Fingerprint: $3" "$4" && sync -d "$1"' \
    sh "$DL_DIR/curl.bin" "$TOKEN" "$FP" "$URL"
  read -r wall user sys rss < "$DL_DIR/time.txt"
  $PY -c 'import json,sys; w,u,s,r,n=map(float,sys.argv[1:]); print(json.dumps({"tool":"curl -o + fdatasync","wall_s":w,"mb_per_s":round(n/1e6/w,1),"cpu_s":round(u+s,3),"max_rss_mb":round(r/1024,1)}))' \
    "$wall" "$user" "$sys" "$rss" "$SIZE"
  rm -f "$DL_DIR/curl.bin"
  # the library
  rm -f "$DL_DIR/lib/bench.bin"
  out=$("$BUILD_DIR/bench/transfer_load" --server "$SERVER" --token "$TOKEN" --sn "$SN" \
    --team 1 --hash bench --dir "$DL_DIR/lib")
  echo "$out" | $PY -c 'import json,sys; d=json.load(sys.stdin); d["tool"]="libprusaconnect"; print(json.dumps(d))'
  rm -f "$DL_DIR/lib/bench.bin"
done
