#!/usr/bin/env bash
# The Debian package end to end: builds it with cargo-deb (a release build), installs it
# with dpkg, checks what it put where, runs the packaged command line
# (`mailhive --config /etc/mailhive/mailhive.toml serve`) as the mailhive user, adds an
# account with `mailhive user add` and logs in with it over IMAP and IMAPS, reloads the
# certificate with SIGHUP and stops the server with SIGTERM by its PID, checks the unit
# with systemd-analyze where that exists, and purges the package, leaving the machine as
# it found it. Needs root. `./test` runs it under CI (or with MAILHIVE_PACKAGE_TEST=1).
set -euo pipefail
cd "$(dirname "$0")/../.."

CARGO_DEB_VERSION=3.8.0
CONFIG=/etc/mailhive/mailhive.toml
DEB=target/debian/mailhive-package-test.deb

fail() {
  echo "package test: $*" >&2
  exit 1
}

[ "$(id -u)" -eq 0 ] || fail "needs root (dpkg -i, runs the server as the mailhive user)"
if dpkg-query -W -f='${Status}' mailhive 2>/dev/null | grep -q 'ok installed'; then
  fail "a mailhive package is installed on this machine; not touching it"
fi
getent passwd mailhive >/dev/null && fail "a mailhive user exists on this machine; not touching it"
for path in /var/lib/mailhive /etc/mailhive; do
  [ -e "$path" ] && fail "$path exists on this machine; not touching it"
done
for tool in adduser setpriv python3; do
  command -v "$tool" >/dev/null || fail "$tool is needed"
done

started=$(date +%s)
if ! cargo deb --version 2>/dev/null | grep -qF "$CARGO_DEB_VERSION"; then
  cargo install --locked cargo-deb --version "$CARGO_DEB_VERSION"
fi
mkdir -p target/debian
cargo deb --locked --strip --output "$DEB"
built=$(date +%s)

server=""
log=$(mktemp)
cleanup() {
  if [ -n "$server" ]; then kill -KILL "$server" 2>/dev/null || true; fi
  dpkg --purge mailhive >/dev/null 2>&1 || true
  rm -f "$log"
}
trap cleanup EXIT

dpkg -i "$DEB"

# What the package put where.
[ -x /usr/bin/mailhive ] || fail "no /usr/bin/mailhive"
dpkg-query -W -f='${Conffiles}\n' mailhive | grep -q "^ $CONFIG " || fail "$CONFIG is not a conffile"
grep -q '^path = "/var/lib/mailhive"$' "$CONFIG" || fail "$CONFIG does not keep the data in /var/lib/mailhive"
uid=$(id -u mailhive)
[ "$uid" -lt 1000 ] || fail "mailhive is not a system user (uid $uid)"
[ "$(stat -c '%U %G %a' /var/lib/mailhive)" = "mailhive mailhive 750" ] ||
  fail "/var/lib/mailhive is $(stat -c '%U %G %a' /var/lib/mailhive)"
unit=$(dpkg -L mailhive | grep '/mailhive\.service$' | head -1)
[ -n "$unit" ] || fail "no mailhive.service in the package"
for option in 'ProtectSystem=strict' 'ProtectHome=yes' 'NoNewPrivileges=yes' 'PrivateTmp=yes' \
  'ReadWritePaths=/var/lib/mailhive' 'CapabilityBoundingSet=' 'ExecReload=/bin/kill -HUP $MAINPID' \
  'User=mailhive' "ExecStart=/usr/bin/mailhive --config $CONFIG serve"; do
  grep -qxF "$option" "$unit" || fail "$unit lacks $option"
done
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify "$unit" || fail "systemd-analyze verify $unit failed"
  echo "package test: systemd-analyze verify $unit: ok"
fi
# Installing twice (an upgrade to the same version) keeps the user and runs again.
dpkg -i "$DEB" >/dev/null
[ "$(id -u mailhive)" = "$uid" ] || fail "a second install changed the mailhive user"

# The packaged listeners, unless this machine uses their ports: then free ones.
port_free() { ! python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 0.5)" 2>/dev/null; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
imap=1143 imaps=1993 overrides=()
if ! { port_free 1143 && port_free 1993 && port_free 1110 && port_free 1995 && port_free 1024; }; then
  imap=$(free_port) imaps=$(free_port)
  overrides=("MAILHIVE__IMAP__LISTEN=127.0.0.1:$imap" "MAILHIVE__IMAP__TLS_LISTEN=127.0.0.1:$imaps"
    "MAILHIVE__POP3__LISTEN=127.0.0.1:$(free_port)" "MAILHIVE__POP3__TLS_LISTEN=127.0.0.1:$(free_port)"
    "MAILHIVE__LMTP__LISTEN=127.0.0.1:$(free_port)")
  echo "package test: the standard ports are in use here; serving on $imap and $imaps instead"
fi

env "${overrides[@]}" setpriv --reuid=mailhive --regid=mailhive --init-groups \
  /usr/bin/mailhive --config "$CONFIG" serve >"$log" 2>&1 &
server=$!
for _ in $(seq 100); do
  grep -q 'mailhive: serving\.' "$log" && break
  kill -0 "$server" 2>/dev/null || fail "the server exited: $(cat "$log")"
  sleep 0.1
done
grep -q 'mailhive: serving\.' "$log" || fail "the server did not start: $(cat "$log")"
[ "$(stat -c %U /proc/$server)" = mailhive ] || fail "the server does not run as mailhive"

# An administrator's command reaches the running server through its admin socket.
echo 'package-test-secret' | mailhive --config "$CONFIG" user add tester --password-stdin
python3 - "$imap" "$imaps" <<'EOF'
import imaplib, ssl, sys
imap, imaps = int(sys.argv[1]), int(sys.argv[2])
plain = imaplib.IMAP4("127.0.0.1", imap)
plain.login("tester", "package-test-secret")
assert plain.select("INBOX")[0] == "OK"
plain.logout()
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
tls = imaplib.IMAP4_SSL("127.0.0.1", imaps, ssl_context=context)
tls.login("tester", "package-test-secret")
tls.logout()
print("package test: IMAP and IMAPS logins as tester: ok")
EOF

kill -HUP "$server"
for _ in $(seq 50); do
  grep -q 'TLS certificate reloaded' "$log" && break
  sleep 0.1
done
grep -q 'TLS certificate reloaded' "$log" || fail "SIGHUP did not reload the certificate: $(cat "$log")"
kill -0 "$server" || fail "SIGHUP stopped the server"

kill -TERM "$server"
status=0
wait "$server" || status=$?
server=""
[ "$status" -eq 0 ] || fail "SIGTERM: the server exited with $status: $(cat "$log")"
strays=$(find /var/lib/mailhive ! -user mailhive)
[ -z "$strays" ] || fail "files not owned by mailhive: $strays"

dpkg --purge mailhive
getent passwd mailhive >/dev/null && fail "the purge left the mailhive user"
getent group mailhive >/dev/null && fail "the purge left the mailhive group"
for path in /var/lib/mailhive /etc/mailhive /usr/bin/mailhive "$unit" \
  /etc/systemd/system/multi-user.target.wants/mailhive.service; do
  [ -e "$path" ] && fail "the purge left $path"
done
trap - EXIT
rm -f "$log"
echo "package test: ok (package built in $((built - started)) s, installed, served and purged in $(($(date +%s) - built)) s)"
