#!/usr/bin/env bash
# The Debian packages, as a user gets them (issue #24; docs/PACKAGING.md):
# built by scripts/package, checked with lintian (every remaining tag is
# explained in packaging/debian/lintian-explained), installed on this
# machine with apt, then: a C++ consumer builds against /usr with
# find_package and with pkg-config, `import prusaconnect` works with
# Debian's python3, the bridge and the OctoPrint daemon run, their units
# (the template too) pass systemd-analyze verify, the service user, the
# conffiles and the state directories are there with their modes, the
# bridge's unit is enabled, and the bridge started as its unit starts it
# (as the service user, from the conffile) registers a printer with the
# packaged emulator, keeping its state under /var/lib; then purged, and
# nothing the packages installed is left.
# Needs root (it installs packages); exits 77 (CTest: skipped) otherwise.
#   tests/packaging/debian_test.sh SOURCE_DIR WORK_DIR
set -euo pipefail
SRC="$(cd "$1" && pwd)"
WORK="$2"
if [ "$(id -u)" != 0 ] || ! command -v dpkg >/dev/null; then
  echo "debian_test: needs root on Debian (it installs packages)"; exit 77
fi
PKGS="libprusaconnect0.1 libprusaconnect-dev python3-prusaconnect prusaconnect-bridge prusaconnect-emulator prusaconnect-examples"
EMULATOR_PID=""
BRIDGE_PID=""
purge() {
  [ -z "$BRIDGE_PID" ] || kill "$BRIDGE_PID" 2>/dev/null || true
  [ -z "$EMULATOR_PID" ] || kill "$EMULATOR_PID" 2>/dev/null || true
  # prusaconnect-octoprint: the daemon's package before it joined the bridge.
  apt-get purge -y -qq $PKGS prusaconnect-octoprint >/dev/null 2>&1 || true
}
fail() { echo "debian_test: FAIL: $*" >&2; exit 1; }
rm -rf "$WORK"; mkdir -p "$WORK"
trap purge EXIT
purge

# 1. Build.
JOBS="${JOBS:-2}" "$SRC/scripts/package" "$WORK/build" > "$WORK/package.log" 2>&1 \
  || { tail -30 "$WORK/package.log"; fail "scripts/package"; }
debs=("$WORK"/build/*.deb)
[ "${#debs[@]}" -eq 6 ] || fail "expected 6 packages, got ${#debs[@]}: ${debs[*]}"

# 2. Lintian: no tag that is not explained.
if command -v lintian >/dev/null; then
  lintian --allow-root "${debs[@]}" > "$WORK/lintian.txt" 2>&1 || true
  allowed="$(grep -v '^#' "$SRC/packaging/debian/lintian-explained" | grep -v '^$' | paste -sd'|')"
  unexplained="$(grep -E '^[EW]: ' "$WORK/lintian.txt" | grep -Ev ": ($allowed)( |$)" || true)"
  [ -z "$unexplained" ] || { echo "$unexplained"; fail "lintian tags not explained"; }
  echo "debian_test: lintian: only explained tags"
fi

# 3. Install (apt resolves the system dependencies dpkg-shlibdeps computed).
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${debs[@]}" \
  > "$WORK/install.log" 2>&1 || { tail -30 "$WORK/install.log"; fail "apt-get install"; }
for p in $PKGS; do dpkg-query -L "$p" >> "$WORK/files.txt"; done

# 4. What a user does with them.
cmake -S "$SRC/tests/install/consumer" -B "$WORK/consumer" -G Ninja > "$WORK/consumer.log" 2>&1 \
  && cmake --build "$WORK/consumer" >> "$WORK/consumer.log" 2>&1 \
  || { tail -30 "$WORK/consumer.log"; fail "find_package consumer against /usr"; }
"$WORK/consumer/consumer" > /dev/null || fail "find_package consumer does not run"
c++ -std=c++17 "$SRC/tests/install/consumer/consumer.cc" -o "$WORK/pc-consumer" \
  $(pkg-config --cflags --libs prusaconnect) || fail "pkg-config consumer"
"$WORK/pc-consumer" > /dev/null || fail "pkg-config consumer does not run"
(cd / && env -u PYTHONPATH /usr/bin/python3 -c \
  'import prusaconnect, sys; assert prusaconnect.__file__.startswith("/usr/lib/python3/dist-packages/"), prusaconnect.__file__') \
  || fail "import prusaconnect"
/usr/bin/prusaconnect-octoprint --help | grep -q -- "--printer-wait-ms" || fail "prusaconnect-octoprint --help"
/usr/bin/prusaconnect-bridge --help | grep -q "Bambu Lab" || fail "prusaconnect-bridge --help"
/usr/bin/prusaconnect-emulator --help > /dev/null 2>&1 || true
/usr/bin/prusaconnect-cli --help | grep -q "send PRINTER COMMAND" || fail "prusaconnect-cli --help"
# The template is verified through an instance of it.
units=/lib/systemd/system
cp "$units/prusaconnect-octoprint@.service" "$WORK/prusaconnect-octoprint@printer1.service"
systemd-analyze verify "$units/prusaconnect-octoprint.service" "$units/prusaconnect-bridge.service" \
  "$WORK/prusaconnect-octoprint@printer1.service" || fail "systemd-analyze verify"
for unit in prusaconnect-octoprint.service prusaconnect-octoprint@.service; do
  grep -q "^Documentation=file:///usr/share/doc/libprusaconnect/octoprint.md" "$units/$unit" \
    || fail "$unit: Documentation="
done
grep -q "^Documentation=file:///usr/share/doc/libprusaconnect/bridge.md" "$units/prusaconnect-bridge.service" \
  || fail "prusaconnect-bridge.service: Documentation="
for doc in octoprint.md bridge.md; do
  [ -f "/usr/share/doc/libprusaconnect/$doc" ] || fail "the documentation the units name: $doc"
done
getent passwd prusaconnect > /dev/null || fail "no system user prusaconnect"
mode() { stat -c '%a %U %G' "$1"; }
[ "$(mode /etc/prusaconnect-octoprint.conf)" = "640 root prusaconnect" ] \
  || fail "/etc/prusaconnect-octoprint.conf is $(mode /etc/prusaconnect-octoprint.conf)"
[ "$(mode /etc/prusaconnect-bridge.toml)" = "640 root prusaconnect" ] \
  || fail "/etc/prusaconnect-bridge.toml is $(mode /etc/prusaconnect-bridge.toml)"
[ "$(mode /etc/prusaconnect-octoprint)" = "750 root prusaconnect" ] \
  || fail "/etc/prusaconnect-octoprint is $(mode /etc/prusaconnect-octoprint)"
for d in /var/lib/prusaconnect-octoprint /var/lib/prusaconnect-bridge; do
  [ "$(mode "$d")" = "700 prusaconnect prusaconnect" ] || fail "$d is $(mode "$d")"
done
conffiles="$(dpkg-query -W -f='${Conffiles}\n' prusaconnect-bridge)"
for f in /etc/prusaconnect-octoprint.conf /etc/prusaconnect-bridge.toml; do
  grep -q "$f" <<< "$conffiles" || fail "$f is not a conffile"
done
[ -L /etc/systemd/system/multi-user.target.wants/prusaconnect-bridge.service ] \
  || fail "prusaconnect-bridge.service is not enabled"
[ ! -e /etc/systemd/system/multi-user.target.wants/prusaconnect-octoprint.service ] \
  || fail "prusaconnect-octoprint.service is enabled before it has an API key"

# The bridge as its unit runs it: the service user, the ExecStart line, the
# packaged config (pointed at the packaged emulator, with one simulated
# printer); it must read the config, write under /var/lib and register.
setpriv --reuid=prusaconnect --regid=prusaconnect --init-groups -- /usr/bin/prusaconnect-bridge --config /etc/prusaconnect-bridge.toml --check \
  > "$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; fail "the service user cannot check the packaged config"; }
rm -f "$WORK/emulator.port"
/usr/bin/prusaconnect-emulator --port 0 --port-file "$WORK/emulator.port" > "$WORK/emulator.log" 2>&1 &
EMULATOR_PID=$!
for _ in $(seq 100); do [ -s "$WORK/emulator.port" ] && break; sleep 0.1; done
[ -s "$WORK/emulator.port" ] || fail "the emulator did not start"
sed -i "s|^connect_server = .*|connect_server = \"http://127.0.0.1:$(cat "$WORK/emulator.port")\"|" \
  /etc/prusaconnect-bridge.toml
printf 'api_listen = "127.0.0.1:0"\n' > "$WORK/api"
sed -i "/^\[bridge\]/r $WORK/api" /etc/prusaconnect-bridge.toml
printf '\n[[printer]]\nname = "demo"\nhost = "virtual"\n' >> /etc/prusaconnect-bridge.toml
# setpriv, not runuser: no PAM session in between (as under systemd), so
# the SIGTERM below reaches the bridge itself.
exec_start="$(sed -n 's/^ExecStart=//p' "$units/prusaconnect-bridge.service")"
# shellcheck disable=SC2086  # the unit's command line, split as systemd splits it
(cd / && exec setpriv --reuid=prusaconnect --regid=prusaconnect --init-groups -- $exec_start) > "$WORK/bridge.log" 2>&1 &
BRIDGE_PID=$!
for _ in $(seq 200); do [ -s /var/lib/prusaconnect-bridge/demo/registration ] && break; sleep 0.1; done
[ -s /var/lib/prusaconnect-bridge/demo/registration ] || { cat "$WORK/bridge.log"; fail "the bridge did not register its printer"; }
[ "$(stat -c '%U' /var/lib/prusaconnect-bridge/demo/registration)" = prusaconnect ] || fail "state not the service user's"
curl -fsS "$(cat /var/lib/prusaconnect-bridge/api-url)api/printers" | grep -q '"name": *"demo"' \
  || fail "the bridge's status API does not list its printer"
kill -TERM "$BRIDGE_PID"
wait "$BRIDGE_PID" || { cat "$WORK/bridge.log"; fail "the bridge did not stop cleanly on SIGTERM"; }
BRIDGE_PID=""
echo "debian_test: installed and used: ok"

# 5. Purge: nothing the packages installed stays (the system user does,
# as Debian's practice; docs/PACKAGING.md).
purge
trap - EXIT
left=""
while read -r f; do
  [ -d "$f" ] && continue  # directories (and /lib, a link to one) are shared
  if [ -e "$f" ] || [ -L "$f" ]; then left+="$f"$'\n'; fi
done < <(sort -u "$WORK/files.txt")
[ -z "$left" ] || { echo "$left" | head; fail "files left after purge"; }
for f in /var/lib/prusaconnect-octoprint /var/lib/prusaconnect-bridge /etc/prusaconnect-octoprint \
         /etc/prusaconnect-octoprint.conf /etc/prusaconnect-bridge.toml \
         /etc/systemd/system/multi-user.target.wants/prusaconnect-bridge.service; do
  [ ! -e "$f" ] && [ ! -L "$f" ] || fail "$f left after purge"
done
echo "debian_test: purged, nothing left: ok"
echo "1 passed, 0 failed"
