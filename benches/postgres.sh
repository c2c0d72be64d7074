#!/usr/bin/env bash
# Several servers on one PostgreSQL store against one server on sled, on this machine,
# in one run: durable APPENDs and the mixed reconnect session of a mail client
# (tests/loadgen), CLIENTS clients for SECONDS_PER_RUN, RUNS runs, median — on sled,
# on PostgreSQL with one front end, and on PostgreSQL with two front ends (half the
# clients on each, the two figures added up); then imaptest's default profile on the
# same three (see below). PostgreSQL is a private cluster made with initdb in the
# scratch directory (fsync and synchronous_commit on, as a production database), run
# as `nobody` when this runs as root, stopped at the end.
#
#   benches/postgres.sh                  # release build
#   PROFILE=debug benches/postgres.sh    # the test build, without a release build
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${CLIENTS:-8} SECONDS_PER_RUN=${SECONDS_PER_RUN:-5} RUNS=${RUNS:-3} PROFILE=${PROFILE:-release}
if [ "$PROFILE" = release ]; then
  cargo build --release --quiet -p mailhive -p loadgen
else
  cargo build --quiet -p mailhive -p loadgen
fi
bin=target/$PROFILE
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -d "$work/pg" ] && as_pg "$pg_bin/pg_ctl" -D "$work/pg/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

pg_port=$(free_port)
mkdir "$work/pg"
[ "$(id -u)" -eq 0 ] && chown nobody: "$work/pg"
as_pg "$pg_bin/initdb" -D "$work/pg/data" -U mailhive --auth=trust -E UTF8 --locale=C >/dev/null
printf "port = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n" "$pg_port" >> "$work/pg/data/postgresql.conf"
as_pg "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w start >/dev/null
as_pg "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U mailhive mailhive
url="postgresql://mailhive@127.0.0.1:$pg_port/mailhive"

# config NAME ENGINE-LINES: a server's configuration on free ports; prints its path.
config() {
  local file="$work/$1.toml"
  cat > "$file" <<CONF
[store]
path = "$work/$1"
$2
[imap]
listen = ["127.0.0.1:$(free_port)"]
tls_listen = []
max_connections_from_single_ip = 100000
max_connections_per_user = 100000
[pop3]
listen = []
tls_listen = []
[lmtp]
listen = []
[web]
listen = []
CONF
  echo "$file"
}
imap_port() { sed -n 's/^listen = \["127.0.0.1:\([0-9]*\)"\]$/\1/p' "$1" | head -1; }
# start CONFIG: a server on CONFIG, once it serves; its PID is the last of `pids`.
start() {
  "$bin/mailhive" --config "$1" serve > "$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do grep -q "serving" "$1.log" && return; sleep 0.1; done
  echo "a server did not start: $(cat "$1.log")" >&2; exit 1
}
# stop N: the last N servers started.
stop() {
  local pid
  for pid in "${pids[@]: -$1}"; do kill "$pid"; wait "$pid" 2>/dev/null || true; done
  pids=("${pids[@]:0:${#pids[@]}-$1}")
}
# add_users CONFIG USER...: the accounts, password `bench`.
add_users() {
  local cfg=$1 user
  shift
  for user in "$@"; do
    echo bench | "$bin/mailhive" --config "$cfg" user add "$user" --password-stdin >/dev/null
  done
}
accounts() {
  for n in $(seq 0 $((CLIENTS - 1))); do
    add_users "$1" "bench$n"
    "$bin/mailhive" --config "$1" import-mbox --user "bench$n" fixtures/corpus.mbox >/dev/null 2>&1
  done
}
# load NAME CLIENTS CONFIG...: both workloads, the clients spread over the servers.
load() {
  local name=$1 clients=$2; shift 2
  for workload in append mixed; do
    local outs=() loaders=()
    for cfg in "$@"; do
      "$bin/loadgen" run "$workload" --addr "127.0.0.1:$(imap_port "$cfg")" --server "$name" \
        --user bench --accounts "$CLIENTS" --password bench --clients "$clients" \
        --seconds "$SECONDS_PER_RUN" --runs "$RUNS" > "$cfg.$workload" &
      loaders+=($!)
      outs+=("$cfg.$workload")
    done
    wait "${loaders[@]}"
    awk -v name="$name" -v workload="$workload" '/^RESULT/ {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        sum += v["median"]; unit = v["unit"] }
      END { printf "%s %s: %.1f %s\n", workload, name, sum, unit }' "${outs[@]}"
  done
}

sled=$(config sled "")
accounts "$sled"
start "$sled"
load sled "$CLIENTS" "$sled"
stop 1

one=$(config pg-one "engine = \"postgres\"
postgres_url = \"$url\"")
two=$(config pg-two "engine = \"postgres\"
postgres_url = \"$url\"")
accounts "$one"
start "$one"
load postgres-1 "$CLIENTS" "$one"
start "$two"
load postgres-2 $((CLIENTS / 2)) "$one" "$two"
stop 2

# imaptest's default profile (LOGIN LIST STATUS SELECT FETCH FETCH2 STORE DELETE EXPUNGE
# APPEND LOGOUT), IMAPTEST_CLIENTS clients for IMAPTEST_SECONDS on 100 accounts whose
# INBOX holds 30 messages of realistic mail, IMAPTEST_RUNS runs, median, each run from
# the same mail: a copy of a filled store (the sled directory; a database made with the
# filled one as its template). With two front ends each serves half the accounts with
# half the clients, as behind a proxy that sends each user to one server; their counts
# are added up. A figure counts only with 0 errors.
IMAPTEST_CLIENTS=${IMAPTEST_CLIENTS:-10}
. benches/imaptest-load.sh
imaptest_corpus append mixed
it_users=$(seq -f 'it%g' 1 "$mixed_users")
pg() { as_pg "$pg_bin/$1" -h 127.0.0.1 -p "$pg_port" -U mailhive "${@:2}"; }

# fill CONFIG: the accounts made and their INBOXes filled over IMAP, as imaptest appends.
fill() {
  # shellcheck disable=SC2086
  add_users "$1" $it_users
  start "$1"
  # shellcheck disable=SC2086
  python3 benches/imap_fill.py 127.0.0.1 "$(imap_port "$1")" bench "$work/real/mixed.mbox" $it_users
  stop 1
}
it_sled=$(config it-sled "")
fill "$it_sled"
mv "$work/it-sled" "$work/it-sled.template"
pg createdb it_filled
fill "$(config it-fill "engine = \"postgres\"
postgres_url = \"${url%/*}/it_filled\"")"
it_pg=()
for n in 1 2; do
  it_pg+=("$(config "it-pg$n" "engine = \"postgres\"
postgres_url = \"${url%/*}/it\"")")
done

# imaptest_on NAME CONFIG...: the runs against the servers of CONFIG..., started on
# restored mail each time.
imaptest_on() {
  local name=$1
  shift
  local n=$# rates=() errors=0 log=$work/imaptest-$name.log
  for _ in $(seq "$IMAPTEST_RUNS"); do
    if [ "$name" = sled ]; then
      rm -rf "$work/it-sled"; cp -a "$work/it-sled.template" "$work/it-sled"
    else
      pg dropdb --if-exists it; pg createdb -T it_filled it
    fi
    local cfg i ranges=() loaders=()
    for cfg in "$@"; do start "$cfg"; done
    for i in $(seq 0 $((n - 1))); do
      ranges+=("$((i * mixed_users / n + 1))-$(((i + 1) * mixed_users / n))")
      # Every account logs in once first (untimed: the first password check).
      # shellcheck disable=SC2046
      python3 benches/imap_fill.py 127.0.0.1 "$(imap_port "${@:i+1:1}")" bench - \
        $(seq -f 'it%g' "${ranges[i]%-*}" "${ranges[i]#*-}")
    done
    for i in $(seq 0 $((n - 1))); do
      imaptest_load "$log.$i" "$(imap_port "${@:i+1:1}")" 'it%d' "${ranges[i]}" \
        clients=$((IMAPTEST_CLIENTS / n)) msgs=30 > "$work/counted.$i" &
      loaders+=($!)
    done
    wait "${loaders[@]}"
    stop "$n"
    local total=0
    for i in $(seq 0 $((n - 1))); do
      read -r commands found < "$work/counted.$i"
      total=$((total + commands)) errors=$((errors + found))
    done
    rates+=("$(awk -v t="$total" -v s="$IMAPTEST_SECONDS" 'BEGIN { printf "%.0f", t / s }')")
  done
  echo "imaptest-mixed-$IMAPTEST_CLIENTS $name: $(median "${rates[@]}") cmd/s, $errors errors (runs ${rates[*]})"
  cat "$log".* > "$log"
  imaptest_costs "$log"
}
imaptest_on sled "$it_sled"
imaptest_on postgres-1 "${it_pg[0]}"
imaptest_on postgres-2 "${it_pg[@]}"
echo "== $(date -u +%Y-%m-%d), $(nproc) cores, $PROFILE build"
