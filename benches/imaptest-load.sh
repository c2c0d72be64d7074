# Sourced by vs-dovecot.sh: Dovecot's imaptest as the load, the way the field measures
# IMAP servers, and full POP3 sessions, over realistic mail (fixtures/make_stress_mbox.py:
# median about 11 KB, a tenth above 50 KB, 40% with base64 attachments).
#
# Workloads, each IMAPTEST_RUNS runs of IMAPTEST_SECONDS, median; every run starts from
# the same mailboxes (the server stopped, its data put back from a template, started):
#   imaptest-mixed-10, -50   imaptest's default profile (LOGIN LIST STATUS SELECT FETCH
#                            FETCH2 STORE DELETE EXPUNGE APPEND LOGOUT), 10 and 50
#                            clients on 100 accounts whose INBOX holds 30 messages
#   imaptest-login           LOGIN and LOGOUT only, 10 clients
#   imaptest-big-10          the default profile, 10 clients on 10 accounts whose INBOX
#                            holds SCALE_MESSAGES messages (a bigger mailbox per SELECT)
#   pop3-real                full POP3 sessions (tests/loadgen) over 20 of these messages
# A figure counts only with 0 errors: imaptest's `Error:` lines are counted per run and
# printed with it.
#
# Needs from vs-dovecot.sh: $work, $loadgen, $results, $server_pid, MH_IMAP, MH_POP3,
# DC_IMAP, DC_POP3, CLIENTS, RUNS, SECONDS_PER_RUN.

IMAPTEST_SECONDS=${IMAPTEST_SECONDS:-20} IMAPTEST_RUNS=${IMAPTEST_RUNS:-3}
SCALE_MESSAGES=${SCALE_MESSAGES:-10000}
imaptest_bin=$(bash ../shared/imaptest/build.sh | tail -1)
mixed_users=100 big_users=10

# imaptest_corpus NAME...: the mail the workloads use: imaptest appends from append.mbox;
# the INBOXes start with mixed.mbox (its first 30 messages: the generator's first N
# messages are the same whatever the count, and imaptest knows a message by its
# Message-ID), big.mbox for the scale workload, pop3.mbox for POP3.
imaptest_corpus() {
  local name
  mkdir -p "$work/real"
  for name in "$@"; do
    python3 fixtures/make_stress_mbox.py "$work/real/$name.mbox" "$(corpus_size "$name")" 20261201
  done
}
corpus_size() {
  case $1 in append) echo 300 ;; mixed) echo 30 ;; big) echo "$SCALE_MESSAGES" ;; pop3) echo 20 ;; esac
}

# Every template's accounts: imaptest numbers its users from 1 (user=it%d users=1-100),
# loadgen from 0 (pop0 …).
accounts() {
  case $1 in
    mixed) seq -f 'it%g' 1 "$mixed_users" ;;
    big) seq -f 'big%g' 1 "$big_users" ;;
    pop3) seq -f 'pop%g' 0 $((CLIENTS - 1)) ;;
  esac
}

# port SERVER imap|pop3
port() {
  case $1-$2 in
    mailhive-imap) echo "$MH_IMAP" ;; mailhive-pop3) echo "$MH_POP3" ;;
    dovecot-imap) echo "$DC_IMAP" ;; dovecot-pop3) echo "$DC_POP3" ;;
  esac
}

# data_dir SERVER NAME: where the server keeps template NAME's accounts while it runs.
data_dir() {
  if [ "$1" = mailhive ]; then echo "$work/mh-$2/live"; else echo "$work/dc-$2/mail"; fi
}

# start_server SERVER NAME: the server on template NAME's data, as it is now.
start_server() {
  local server=$1 name=$2
  if [ "$server" = mailhive ]; then
    local dir=$work/mh-$name
    : > "$dir/serve.log"   # here, not in the child: the wait below must not see an old log
    target/release/mailhive --config "$dir/mailhive.toml" serve >> "$dir/serve.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do grep -q "POP3 listening" "$dir/serve.log" && break; sleep 0.1; done
  else
    # shellcheck disable=SC2046
    DOVECOT_IMAP_PORT=$DC_IMAP DOVECOT_POP3_PORT=$DC_POP3 DOVECOT_SCHEME=PLAIN DOVECOT_MESSAGES= \
      benches/dovecot/start.sh "$work/dc-$name" bench $(accounts "$name")
  fi
}

# make_template SERVER NAME: template NAME's accounts made on the server and filled over
# IMAP from NAME.mbox as imaptest appends (benches/imap_fill.py), then put aside.
make_template() {
  local server=$1 name=$2
  if [ "$server" = mailhive ]; then
    local dir=$work/mh-$name
    mkdir -p "$dir"
    mailhive_config "$dir/mailhive.toml" "$dir/live"
    for user in $(accounts "$name"); do
      echo bench | target/release/mailhive --config "$dir/mailhive.toml" user add "$user" \
        --password-stdin >/dev/null
    done
  fi
  start_server "$server" "$name"
  # shellcheck disable=SC2046
  python3 benches/imap_fill.py 127.0.0.1 "$(port "$server" imap)" bench "$work/real/$name.mbox" $(accounts "$name")
  stop_server "$server" "$name"
  mv "$(data_dir "$server" "$name")" "$(data_dir "$server" "$name").template"
}

# restore_and_start SERVER NAME: the server (stopped) gets template NAME's mail back as
# it was made, is started, and every account logs in once (untimed warm-up).
restore_and_start() {
  local data
  data=$(data_dir "$1" "$2")
  rm -rf "$data"
  cp -a "$data.template" "$data"
  start_server "$1" "$2"
  # shellcheck disable=SC2046
  python3 benches/imap_fill.py 127.0.0.1 "$(port "$1" imap)" bench - $(accounts "$2")
}

stop_server() {
  local server=$1 name=$2
  if [ "$server" = mailhive ]; then
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  else
    benches/dovecot/stop.sh "$work/dc-$name"
  fi
}

# imaptest_load LOG PORT USER RANGE ARGS...: one imaptest run of IMAPTEST_SECONDS against
# the server on PORT (imaptest's user=USER users=RANGE); its output goes to the end of
# LOG; prints the commands it counted and its `Error:` lines' count.
imaptest_load() {
  local log=$1 port=$2 user=$3 range=$4
  shift 4
  local out
  out=$("$imaptest_bin" host=127.0.0.1 port="$port" user="$user" users="$range" \
    pass=bench mbox="$work/real/append.mbox" secs="$IMAPTEST_SECONDS" seed=123 "$@" 2>&1 || true)
  printf '%s\n' "$out" >> "$log"
  # The last line, under "Totals:", holds every command's count.
  local total
  total=$(awk '/^Totals:/ { t = 1 } t { last = $0 } END { n = split(last, c); for (i = 1; i <= n; i++) s += c[i]; print s + 0 }' <<< "$out")
  echo "${total:-0} $(grep -c 'Error:' <<< "$out" || true)"
}

# median VALUE...: the median of the numbers.
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# imaptest_costs LOG: the first errors, and imaptest's average time per command of the
# last run (the timer lines before its totals), for the cost model.
imaptest_costs() {
  { grep 'Error:' "$1" || true; } | head -5 | sed 's/^/# /'
  awk '/^Logi / { header = $0 } /ms\/cmd avg$/ { timers = $0 }
    END { if (timers != "") print "# ms per command: " header "\n#                  " timers }' "$1"
}

# imaptest_run SERVER WORKLOAD NAME USER RANGE ARGS...: IMAPTEST_RUNS runs on the
# accounts of template NAME (imaptest's user=USER users=RANGE), each from restored mail;
# prints the median commands per second and the errors of all runs.
imaptest_run() {
  local server=$1 workload=$2 name=$3 user=$4 range=$5
  shift 5
  local rates=() errors=0 log=$work/imaptest-$server-$workload.log
  : > "$log"
  for _ in $(seq "$IMAPTEST_RUNS"); do
    restore_and_start "$server" "$name"
    local counted
    counted=$(imaptest_load "$log" "$(port "$server" imap)" "$user" "$range" "$@")
    stop_server "$server" "$name"
    errors=$((errors + ${counted#* }))
    rates+=("$(awk -v t="${counted% *}" -v s="$IMAPTEST_SECONDS" 'BEGIN { printf "%.0f", t / s }')")
  done
  echo "RESULT workload=$workload server=$server unit=cmd/s median=$(median "${rates[@]}") errors=$errors runs=${rates[*]// /,}"
  imaptest_costs "$log"
}

# imaptest_workloads SERVER: every workload of this file against one server.
imaptest_workloads() {
  local server=$1
  for name in mixed big pop3; do make_template "$server" "$name"; done
  local mixed=(mixed 'it%d' "1-$mixed_users")
  imaptest_run "$server" imaptest-mixed-10 "${mixed[@]}" clients=10 msgs=30
  imaptest_run "$server" imaptest-mixed-50 "${mixed[@]}" clients=50 msgs=30
  imaptest_run "$server" imaptest-login "${mixed[@]}" clients=10 - select=0
  imaptest_run "$server" imaptest-big-10 big 'big%d' "1-$big_users" clients=10 \
    msgs="$SCALE_MESSAGES"
  restore_and_start "$server" pop3
  $loadgen run pop3 --addr "127.0.0.1:$(port "$server" pop3)" --server "$server" --user pop \
    --accounts "$CLIENTS" --password bench --clients "$CLIENTS" \
    --seconds "$SECONDS_PER_RUN" --runs "$RUNS" --name pop3-real
  stop_server "$server" pop3
}

imaptest_setup() {
  echo "== corpus: realistic mail for imaptest and POP3 ($SCALE_MESSAGES in the big mailboxes)"
  imaptest_corpus append mixed big pop3
}
