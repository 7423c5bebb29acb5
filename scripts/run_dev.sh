#!/usr/bin/env bash
# `make run`: the web server and the task cluster side by side. Ctrl-C (or either one exiting)
# stops both. Each runs in its own process group, so stopping it also stops its children
# (runserver's autoreloader, qcluster's workers).
set -uo pipefail

PY=${PY:-.venv/bin/python}
ADDRESS=${ADDRESS:-127.0.0.1:8000}

set -m  # job control: every background job gets a process group of its own
"$PY" manage.py qcluster &
QCLUSTER=$!
"$PY" manage.py runserver "$ADDRESS" &
WEB=$!
set +m

stop() {
  trap - INT TERM EXIT
  echo "Stopping the web server and the task cluster…"
  kill -TERM -- "-$WEB" 2>/dev/null
  # qcluster finishes the task in hand on TERM; give it a moment, then stop it for good.
  kill -TERM "$QCLUSTER" 2>/dev/null
  for _ in $(seq 1 20); do
    kill -0 "$QCLUSTER" 2>/dev/null || break
    sleep 0.5
  done
  kill -KILL -- "-$QCLUSTER" "-$WEB" 2>/dev/null
  wait 2>/dev/null
}
trap stop INT TERM EXIT

# Returns when either process ends (or a signal arrives); the EXIT trap stops the other.
wait -n "$QCLUSTER" "$WEB"
