#!/usr/bin/env bash
# The Debian packages, as a user gets them (issue #24; docs/PACKAGING.md):
# built by scripts/package, checked with lintian (every remaining tag is
# explained in packaging/debian/lintian-explained), installed on this
# machine with apt, then: a C++ consumer builds against /usr with
# find_package and with pkg-config, `import prusaconnect` works with
# Debian's python3, prusaconnect-octoprint runs, its unit passes
# systemd-analyze verify, the service user, conffile and state directory
# are there; then purged, and nothing the packages installed is left.
# Needs root (it installs packages); exits 77 (CTest: skipped) otherwise.
#   tests/packaging/debian_test.sh SOURCE_DIR WORK_DIR
set -euo pipefail
SRC="$(cd "$1" && pwd)"
WORK="$2"
if [ "$(id -u)" != 0 ] || ! command -v dpkg >/dev/null; then
  echo "debian_test: needs root on Debian (it installs packages)"; exit 77
fi
PKGS="libprusaconnect0.1 libprusaconnect-dev python3-prusaconnect prusaconnect-octoprint prusaconnect-emulator prusaconnect-examples"
purge() { apt-get purge -y -qq $PKGS >/dev/null 2>&1 || true; }
fail() { echo "debian_test: FAIL: $*" >&2; exit 1; }
rm -rf "$WORK"; mkdir -p "$WORK"
trap purge EXIT
purge

# 1. Build.
JOBS="${JOBS:-2}" "$SRC/scripts/package" "$WORK/build" > "$WORK/package.log" 2>&1 \
  || { tail -30 "$WORK/package.log"; fail "scripts/package"; }
debs=("$WORK"/build/*.deb)
[ "${#debs[@]}" -eq 6 ] || fail "expected 6 packages, got ${#debs[@]}"

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
/usr/bin/prusaconnect-emulator --help > /dev/null 2>&1 || true
systemd-analyze verify /lib/systemd/system/prusaconnect-octoprint.service \
  || fail "systemd-analyze verify"
grep -q "^Documentation=file:///usr/share/doc/libprusaconnect/octoprint.md" \
  /lib/systemd/system/prusaconnect-octoprint.service || fail "the unit's Documentation="
[ -f /usr/share/doc/libprusaconnect/octoprint.md ] || fail "the documentation the unit names"
getent passwd prusaconnect > /dev/null || fail "no system user prusaconnect"
[ "$(stat -c '%a %U %G' /etc/prusaconnect-octoprint.conf)" = "640 root prusaconnect" ] \
  || fail "/etc/prusaconnect-octoprint.conf is $(stat -c '%a %U %G' /etc/prusaconnect-octoprint.conf)"
[ "$(stat -c '%a %U' /var/lib/prusaconnect-octoprint)" = "700 prusaconnect" ] \
  || fail "/var/lib/prusaconnect-octoprint"
dpkg-query -W -f='${Conffiles}\n' prusaconnect-octoprint | grep -q /etc/prusaconnect-octoprint.conf \
  || fail "the config is not a conffile"
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
[ ! -e /var/lib/prusaconnect-octoprint ] || fail "/var/lib/prusaconnect-octoprint left after purge"
[ ! -e /etc/prusaconnect-octoprint.conf ] || fail "conffile left after purge"
echo "debian_test: purged, nothing left: ok"
echo "1 passed, 0 failed"
