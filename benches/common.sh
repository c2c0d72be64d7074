# Sourced by the scripts that run workloads against mailhive and against Dovecot
# (vs-dovecot.sh, lmtp-vs-dovecot.sh), after they set CLIENTS: a release build, a
# scratch directory removed on exit — a server still running stopped by its PID first —
# the benchmark accounts bench0 … bench(CLIENTS-1) in `users`, and `mailhive_config`.
cargo build --release --quiet -p mailhive -p loadgen
loadgen=target/release/loadgen
work=$(mktemp -d)
chmod 755 "$work"   # Dovecot's processes run as other users
results="$work/results"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  benches/dovecot/stop.sh "$work/dovecot" || true
  rm -rf "$work"
}
trap cleanup EXIT
users=()
for n in $(seq 0 $((CLIENTS - 1))); do users+=("bench$n"); done

# mailhive_config FILE STORE: mailhive's configuration for a benchmark: its store in
# STORE, a listener on each of the ports MH_IMAP, MH_IMAPS, MH_POP3 and MH_LMTP that is
# set, and the per-address and per-user connection limits raised, so that the load may
# come from one address and few accounts.
mailhive_config() {
  on() { [ -n "${1:-}" ] && printf '"127.0.0.1:%s"' "$1"; true; }
  cat > "$1" <<CONF
[store]
path = "$2"
[imap]
listen = [$(on "${MH_IMAP:-}")]
tls_listen = [$(on "${MH_IMAPS:-}")]
max_connections_from_single_ip = 100000
max_connections_per_user = 100000
[pop3]
listen = [$(on "${MH_POP3:-}")]
tls_listen = []
max_connections_from_single_ip = 100000
max_connections_per_user = 100000
[lmtp]
listen = [$(on "${MH_LMTP:-}")]
[web]
listen = []
CONF
}
