#!/usr/bin/env bash
# Every benchmark workload against mailhive and against Dovecot, one server after the
# other on this machine, with the same accounts, messages and load; prints one table of
# figures with the ratio mailhive / Dovecot for each. Installs Dovecot when missing and
# runs it from its own configuration in a temporary directory (benches/dovecot/).
#
#   benches/vs-dovecot.sh            # about half an hour on two cores
#   WORKLOADS="sort-date thread-refs" benches/vs-dovecot.sh   # only these figures
#   WORKLOADS=imaptest benches/vs-dovecot.sh                  # only imaptest's
#
# Workloads (tests/loadgen): LOGIN/LOGOUT, USER/PASS/QUIT, full POP3 sessions, the
# mixed reconnect session of a mail client, durable APPENDs, IMAPS handshakes — each
# CLIENTS clients for SECONDS_PER_RUN, RUNS runs, median — then SEARCH BODY, HEADER and
# FLAGGED, SORT (DATE), (SUBJECT) and (REVERSE ARRIVAL) and THREAD REFERENCES over a
# mailbox of SEARCH_MESSAGES messages, and the memory of IDLE_CONNECTIONS
# idle IMAP connections. Dovecot runs with passwords stored PLAIN (its fastest login);
# the login workloads run once more against it with ARGON2ID, mailhive's own scheme.
# Both servers get the per-address and per-user connection limits raised, so that the
# load may come from one address and few accounts. Last, `imaptest`
# (benches/imaptest-load.sh): imaptest's profiles and full POP3 sessions over realistic
# mail, with imaptest's error count beside each figure.
set -euo pipefail
trap 'echo "$0: line $LINENO: $BASH_COMMAND failed" >&2' ERR
cd "$(dirname "$0")/.."
# WORKLOADS: the names of the figures to measure (as the table prints them; `imaptest` for
# all of imaptest-load.sh's), all when empty.
WORKLOADS=${WORKLOADS:-}
wanted() { [ -z "$WORKLOADS" ] || [[ " $WORKLOADS " == *" $1 "* ]]; }
CLIENTS=${CLIENTS:-8} SECONDS_PER_RUN=${SECONDS_PER_RUN:-5} RUNS=${RUNS:-5}
SEARCH_MESSAGES=${SEARCH_MESSAGES:-100000} IDLE_CONNECTIONS=${IDLE_CONNECTIONS:-500}
MH_IMAP=21143 MH_IMAPS=21993 MH_POP3=21110 DC_IMAP=22143 DC_IMAPS=22993 DC_POP3=22110
. benches/common.sh
. benches/imaptest-load.sh
searches=("SEARCH:BODY quetzal:search-body" "SEARCH:HEADER Subject invoice:search-header"
  "SEARCH:FLAGGED:search-flagged" "SORT:(DATE) UTF-8 ALL:sort-date"
  "SORT:(SUBJECT) UTF-8 ALL:sort-subject" "SORT:(REVERSE ARRIVAL) UTF-8 ALL:sort-rev-arrival"
  "THREAD:REFERENCES UTF-8 ALL:thread-refs")
any_search_wanted() {
  for query in "${searches[@]}"; do wanted "${query##*:}" && return 0; done
  return 1
}

mkdir -p "$work/dovecot/mail"
if any_search_wanted; then
  echo "== corpus: $SEARCH_MESSAGES messages for SEARCH"
  $loadgen corpus --messages "$SEARCH_MESSAGES" --mbox "$work/search.mbox" \
    --maildir "$work/dovecot/mail/search"
fi
if wanted imaptest; then imaptest_setup; fi

# idle SERVER IMAP PID: memory per idle connection, on a server just started: memory
# that other workloads leave behind would hide growth, and Dovecot's idle processes would
# slow down the workloads after it.
idle() {
  $loadgen idle --addr "127.0.0.1:$2" --server "$1" --user bench --accounts "$CLIENTS" \
    --password bench --connections "$IDLE_CONNECTIONS" --pid "$3"
}

# run SERVER IMAP IMAPS POP3: every timed workload against one server.
run() {
  local server=$1 imap=$2 imaps=$3 pop3=$4
  local common=(--server "$server" --user bench --accounts "$CLIENTS" --password bench
    --clients "$CLIENTS" --seconds "$SECONDS_PER_RUN" --runs "$RUNS")
  for workload in imap-login:$imap pop3-login:$pop3 pop3:$pop3 mixed:$imap imaps-handshake:$imaps; do
    wanted "${workload%%:*}" || continue
    $loadgen run "${workload%%:*}" --addr "127.0.0.1:${workload##*:}" "${common[@]}"
  done
  for query in "${searches[@]}"; do
    IFS=: read -r command criteria name <<< "$query"
    wanted "$name" || continue
    $loadgen search --addr "127.0.0.1:$imap" --server "$server" --user search --password bench \
      --command "$command" --query "$criteria" --name "$name" --runs "$RUNS"
  done
  if wanted append; then $loadgen run append --addr "127.0.0.1:$imap" "${common[@]}"; fi
}

echo "== mailhive"
mh=(target/release/mailhive --config "$work/mailhive.toml")
mailhive_config "$work/mailhive.toml" "$work/mailhive"
for user in "${users[@]}" search; do
  echo bench | "${mh[@]}" user add "$user" --password-stdin >/dev/null
done
for user in "${users[@]}"; do
  "${mh[@]}" import-mbox --user "$user" fixtures/corpus.mbox >/dev/null 2>&1
done
if any_search_wanted; then "${mh[@]}" import-mbox --user search "$work/search.mbox"; fi
start_mailhive() {
  : > "$work/mailhive.log"   # here, not in the child: the wait below must not see an old log
  "${mh[@]}" serve >> "$work/mailhive.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 300); do grep -q "POP3 listening" "$work/mailhive.log" && break; sleep 0.1; done
}
stop_mailhive() { kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""; }
if wanted idle; then
  start_mailhive
  idle mailhive $MH_IMAP "$server_pid" | tee -a "$results"
  stop_mailhive
fi
start_mailhive
run mailhive $MH_IMAP $MH_IMAPS $MH_POP3 | tee -a "$results"
stop_mailhive
if wanted imaptest; then imaptest_workloads mailhive | tee -a "$results"; fi

echo "== Dovecot, passwords stored PLAIN"
export DOVECOT_MESSAGES="$(ls fixtures/mail/*.eml | tr '\n' ' ')"
dovecot_ports=(DOVECOT_IMAP_PORT=$DC_IMAP DOVECOT_IMAPS_PORT=$DC_IMAPS DOVECOT_POP3_PORT=$DC_POP3)
start_dovecot() {
  env "${dovecot_ports[@]}" DOVECOT_SCHEME=$1 \
    benches/dovecot/start.sh "$work/dovecot" bench "${users[@]}" search ||
    { tail -n 5 "$work/dovecot/dovecot.log" >&2; return 1; }
}
if wanted idle; then
  start_dovecot PLAIN
  idle dovecot $DC_IMAP "$(cat "$work/dovecot/run/master.pid")" | tee -a "$results"
  benches/dovecot/stop.sh "$work/dovecot"
fi
start_dovecot PLAIN
run dovecot $DC_IMAP $DC_IMAPS $DC_POP3 | tee -a "$results"
benches/dovecot/stop.sh "$work/dovecot"
if wanted imaptest; then imaptest_workloads dovecot | tee -a "$results"; fi

if wanted imap-login || wanted pop3-login; then
  echo "== Dovecot, passwords stored ARGON2ID: the login workloads"
  start_dovecot ARGON2ID
  for workload in imap-login:$DC_IMAP pop3-login:$DC_POP3; do
    wanted "${workload%%:*}" || continue
    $loadgen run "${workload%%:*}" --addr "127.0.0.1:${workload##*:}" --server dovecot-argon2id \
      --user bench --accounts "$CLIENTS" --password bench --clients "$CLIENTS" \
      --seconds "$SECONDS_PER_RUN" --runs "$RUNS" | tee -a "$results"
  done
  benches/dovecot/stop.sh "$work/dovecot"
fi

echo
echo "== $(date -u +%Y-%m-%d), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
awk '
  /^RESULT / {
    delete f
    for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    key = f["workload"]; unit[key] = f["unit"]; value[key, f["server"]] = f["median"]
    if ("errors" in f) errors[key, f["server"]] = f["errors"]
    if (!(key in seen)) { seen[key] = 1; order[++n] = key }
  }
  END {
    printf "%-18s %-14s %12s %12s %12s %10s %14s\n", "figure", "unit", "mailhive", "dovecot", "dovecot-a2", "mh/dovecot", "errors mh/dc"
    for (i = 1; i <= n; i++) {
      k = order[i]; m = value[k, "mailhive"]; d = value[k, "dovecot"]; a = value[k, "dovecot-argon2id"]
      e = ((k, "mailhive") in errors) ? errors[k, "mailhive"] "/" errors[k, "dovecot"] : "-"
      printf "%-18s %-14s %12s %12s %12s %10.2f %14s\n", k, unit[k], m, d, (a == "" ? "-" : a), (d > 0 ? m / d : 0), e
    }
  }' "$results"
