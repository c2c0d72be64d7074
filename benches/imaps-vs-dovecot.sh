#!/usr/bin/env bash
# IMAPS handshakes per second, mailhive against Dovecot's imap-login, on this machine:
# CLIENTS clients each connecting, making the TLS handshake (TLS 1.3, ECDSA P-256
# certificates on both servers) and reading the greeting, for SECONDS per run, RUNS runs,
# one server after the other. Prints both medians and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${CLIENTS:-8} SECONDS_PER_RUN=${SECONDS_PER_RUN:-10} RUNS=${RUNS:-3}
MAILHIVE_PORT=${MAILHIVE_PORT:-21993} DOVECOT_PORT=${DOVECOT_PORT:-21994}
cargo build --release --quiet -p mailhive -p loadgen
work=$(mktemp -d)
chmod 755 "$work"   # Dovecot's processes run as other users
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  benches/dovecot/stop.sh "$work/dovecot" || true
  rm -rf "$work"
}
trap cleanup EXIT
load() {
  target/release/loadgen imaps-handshake --addr "127.0.0.1:$2" --server "$1" \
    --clients "$CLIENTS" --seconds "$SECONDS_PER_RUN" --runs "$RUNS" | tee "$work/$1.out"
}

# mailhive, with the certificate it generates for itself
printf '[store]\npath = "%s/mailhive"\n[imap]\nlisten = []\ntls_listen = ["127.0.0.1:%s"]\n[pop3]\nlisten = []\ntls_listen = []\n' \
  "$work" "$MAILHIVE_PORT" > "$work/mailhive.toml"
target/release/mailhive --config "$work/mailhive.toml" serve > "$work/mailhive.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q "IMAPS listening" "$work/mailhive.log" && break; sleep 0.1; done
load mailhive "$MAILHIVE_PORT"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""

# Dovecot
DOVECOT_SCHEME=PLAIN DOVECOT_IMAPS_PORT=$DOVECOT_PORT benches/dovecot/start.sh "$work/dovecot" bench bench
load dovecot "$DOVECOT_PORT" || { tail -20 "$work/dovecot/dovecot.log" >&2; exit 1; }
benches/dovecot/stop.sh "$work/dovecot"

median() { sed -n 's/^RESULT .* median=\([0-9.]*\) .*/\1/p' "$work/$1.out"; }
echo "IMAPS handshakes/s on $(nproc) cores, $CLIENTS clients: mailhive $(median mailhive);" \
  "dovecot $(median dovecot) (ratio $(awk -v a="$(median mailhive)" -v b="$(median dovecot)" 'BEGIN { printf "%.2f", a / b }'))"
