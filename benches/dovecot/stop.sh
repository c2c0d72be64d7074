#!/usr/bin/env bash
# Stops the Dovecot started by start.sh WORKDIR, by the PID in its base directory.
set -euo pipefail
pid_file="$1/run/master.pid"
[ -f "$pid_file" ] || exit 0
pid=$(cat "$pid_file")
kill "$pid" 2>/dev/null || exit 0
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
kill -9 "$pid" 2>/dev/null || true
