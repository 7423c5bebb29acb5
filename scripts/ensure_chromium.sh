#!/usr/bin/env bash
# The browser tests (tests/browser/) drive Debian's Chromium, never a downloaded browser, and never
# skip: `make test` and CI (.ci/run) call this first. Installs Chromium where it can (root, apt-get),
# refreshing the package lists when they are stale; otherwise fails with the one command to run.
# CHROMIUM (default: chromium on PATH, else /usr/bin/chromium) and APT_GET (default apt-get) may be
# overridden, for the tests of this script.
set -uo pipefail

APT_GET="${APT_GET:-apt-get}"
INSTALL_COMMAND="sudo apt-get update && sudo apt-get install -y chromium"

have_chromium() {
  if [ -n "${CHROMIUM:-}" ]; then
    [ -x "$CHROMIUM" ]
  else
    command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]
  fi
}

have_chromium && exit 0

if [ "$(id -u)" = 0 ] && command -v "$APT_GET" >/dev/null 2>&1; then
  echo "Chromium is missing: installing it (apt-get install -y chromium) for the browser tests..." >&2
  "$APT_GET" install -y chromium >/dev/null 2>&1 ||
    { "$APT_GET" update >/dev/null 2>&1 && "$APT_GET" install -y chromium >/dev/null 2>&1; }
  have_chromium && exit 0
fi

echo "Chromium is missing and could not be installed here; the browser tests need it. Run:" >&2
echo "    $INSTALL_COMMAND" >&2
exit 1
