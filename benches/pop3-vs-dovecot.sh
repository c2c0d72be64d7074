#!/usr/bin/env bash
# POP3 session throughput, mailhive against Dovecot's pop3d, on this machine: the same
# ten fixture messages in one account on each, the same loopback load (CLIENTS clients
# doing full sessions — USER, PASS, STAT, UIDL, RETR of every message, QUIT — for
# SECONDS per run, RUNS runs), one after the other. Prints both medians and the ratio.
# Dovecot runs twice: with ARGON2ID passwords (mailhive's scheme; Dovecot hashes at every
# login, mailhive remembers verified logins) and with PLAIN ones (Dovecot's fastest).
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${CLIENTS:-8} SECONDS_PER_RUN=${SECONDS_PER_RUN:-10} RUNS=${RUNS:-3}
MAILHIVE_PORT=${MAILHIVE_PORT:-21110} DOVECOT_PORT=${DOVECOT_PORT:-21111}
cargo build --release --quiet -p mailhive -p loadgen
work=$(mktemp -d)
chmod 755 "$work"   # Dovecot's auth and mail processes run as other users
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  benches/dovecot/stop.sh "$work/dovecot" || true
  rm -rf "$work"
}
trap cleanup EXIT
load() {
  target/release/loadgen pop3 --addr "127.0.0.1:$2" --server "$1" \
    --clients "$CLIENTS" --seconds "$SECONDS_PER_RUN" --runs "$RUNS" | tee "$work/$1.out"
}

# mailhive
mh=(target/release/mailhive --config "$work/mailhive.toml")
printf '[store]\npath = "%s/mailhive"\n[pop3]\nlisten = ["127.0.0.1:%s"]\n' "$work" "$MAILHIVE_PORT" > "$work/mailhive.toml"
echo bench | "${mh[@]}" user add bench --password-stdin >/dev/null
"${mh[@]}" import-mbox --user bench fixtures/corpus.mbox >/dev/null 2>&1
"${mh[@]}" serve > "$work/mailhive.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q "POP3 listening" "$work/mailhive.log" && break; sleep 0.1; done
load mailhive "$MAILHIVE_PORT"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""

# Dovecot, with the same ten messages, once per password scheme
for scheme in ARGON2ID PLAIN; do
  rm -rf "$work/dovecot"
  DOVECOT_SCHEME=$scheme DOVECOT_POP3_PORT=$DOVECOT_PORT benches/dovecot/start.sh "$work/dovecot" bench bench fixtures/mail/*.eml
  load "dovecot-$scheme" "$DOVECOT_PORT" || { tail -20 "$work/dovecot/dovecot.log" >&2; exit 1; }
  benches/dovecot/stop.sh "$work/dovecot"
done

median() { sed -n 's/^RESULT .* median=\([0-9.]*\) .*/\1/p' "$work/$1.out"; }
ratio() { awk -v a="$(median mailhive)" -v b="$(median "$1")" 'BEGIN { printf "%.2f", a / b }'; }
echo "POP3 sessions/s on $(nproc) cores, $CLIENTS clients: mailhive $(median mailhive);" \
  "dovecot ARGON2ID $(median dovecot-ARGON2ID) (ratio $(ratio dovecot-ARGON2ID));" \
  "dovecot PLAIN $(median dovecot-PLAIN) (ratio $(ratio dovecot-PLAIN))"
