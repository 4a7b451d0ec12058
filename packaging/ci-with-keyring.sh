#!/bin/sh
# ci-with-keyring.sh: run a command inside a private D-Bus session bus with an unlocked
# gnome-keyring Secret Service in a throw-away keyring directory, then clean up and pass the
# command's exit code on. CI runs the frozen app's --self-test under it:
#   sh packaging/ci-with-keyring.sh dist/Kindly/kindly --self-test --data-dir "$(mktemp -d)"
# (The same recipe as the workspace's shared/tools/with-keyring, kept here so CI needs only
# the repository.) Debian/Ubuntu: apt-get install --no-install-recommends gnome-keyring
# dbus-daemon dbus-bin
set -eu
KR_TMP=$(mktemp -d)
mkdir -m 700 "$KR_TMP/run" "$KR_TMP/data"
export XDG_RUNTIME_DIR="$KR_TMP/run" XDG_DATA_HOME="$KR_TMP/data" XDG_CACHE_HOME="$KR_TMP/cache"
rc=0
dbus-run-session -- sh -c '
  printf %s "${KEYRING_PASSWORD:-test}" |
    gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1 &
  gk=$!
  i=0   # wait (at most ~10 s) until the Secret Service name is on the bus
  until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
          org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q true; do
    i=$((i+1)); [ $i -gt 100 ] && { echo "ci-with-keyring: gnome-keyring did not start" >&2; kill $gk; exit 1; }
    sleep 0.1
  done
  rc=0; "$@" || rc=$?
  kill $gk 2>/dev/null; wait $gk 2>/dev/null
  exit $rc' sh "$@" || rc=$?
rm -rf "$KR_TMP"
exit $rc
