#!/usr/bin/env bash
# LMTP deliveries per second, mailhive against Dovecot's LMTP (Debian's dovecot-lmtpd,
# installed when missing, run from its own configuration in a temporary directory by
# benches/dovecot/start.sh, with mail_fsync = always: each server's 250 means that copy
# is on disk). CLIENTS concurrent LMTP clients deliver the fixture messages of the
# APPEND benchmark (fixtures/mail) to 1 and then 5 recipients each, SECONDS_PER_RUN per
# run, RUNS runs, median; prints the figures and the ratio mailhive / Dovecot.
#
#   benches/lmtp-vs-dovecot.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${CLIENTS:-10} SECONDS_PER_RUN=${SECONDS_PER_RUN:-5} RUNS=${RUNS:-3}
MH_LMTP=21024 MH_IMAP=21143 DC_LMTP=22024
. benches/common.sh

# deliver SERVER PORT: both recipient counts against one server.
deliver() {
  for recipients in 1 5; do
    $loadgen run lmtp --addr "127.0.0.1:$2" --server "$1" --user bench --accounts "$CLIENTS" \
      --clients "$CLIENTS" --recipients "$recipients" --seconds "$SECONDS_PER_RUN" --runs "$RUNS"
  done
}

echo "== mailhive"
mh=(target/release/mailhive --config "$work/mailhive.toml")
cat > "$work/mailhive.toml" <<CONF
[store]
path = "$work/mailhive"
[imap]
listen = ["127.0.0.1:$MH_IMAP"]
tls_listen = []
[pop3]
listen = []
tls_listen = []
[lmtp]
listen = ["127.0.0.1:$MH_LMTP"]
[web]
listen = []
CONF
for user in "${users[@]}"; do
  echo bench | "${mh[@]}" user add "$user" --password-stdin >/dev/null
done
"${mh[@]}" serve > "$work/mailhive.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q "LMTP listening" "$work/mailhive.log" && break; sleep 0.1; done
deliver mailhive $MH_LMTP | tee -a "$results"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""

echo "== Dovecot"
DOVECOT_LMTP_PORT=$DC_LMTP DOVECOT_SCHEME=PLAIN \
  benches/dovecot/start.sh "$work/dovecot" bench "${users[@]}"
deliver dovecot $DC_LMTP | tee -a "$results"
benches/dovecot/stop.sh "$work/dovecot"

echo
echo "== $(date -u +%Y-%m-%d), $(nproc) cores, $CLIENTS clients"
awk '
  /^RESULT / {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    key = f["workload"]; unit[key] = f["unit"]; value[key, f["server"]] = f["median"]
    if (!(key in seen)) { seen[key] = 1; order[++n] = key }
  }
  END {
    printf "%-12s %-12s %10s %10s %10s\n", "figure", "unit", "mailhive", "dovecot", "mh/dovecot"
    for (i = 1; i <= n; i++) {
      k = order[i]; m = value[k, "mailhive"]; d = value[k, "dovecot"]
      printf "%-12s %-12s %10s %10s %10.2f\n", k, unit[k], m, d, (d > 0 ? m / d : 0)
    }
  }' "$results"
