# Sourced by the scripts that run workloads against mailhive and against Dovecot
# (vs-dovecot.sh, lmtp-vs-dovecot.sh), after they set CLIENTS: a release build, a
# scratch directory removed on exit — a server still running stopped by its PID first —
# and the benchmark accounts bench0 … bench(CLIENTS-1) in `users`.
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
