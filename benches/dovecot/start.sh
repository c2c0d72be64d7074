#!/usr/bin/env bash
# Starts Dovecot (Debian's dovecot-imapd / dovecot-pop3d) on loopback with its own
# configuration in WORKDIR: no system service and no change under /etc. It installs the
# packages when they are missing.
#
#   DOVECOT_IMAP_PORT=N DOVECOT_POP3_PORT=M benches/dovecot/start.sh WORKDIR PASSWORD USER...
#
# Each protocol whose port is set is served; DOVECOT_IMAPS_PORT adds implicit TLS for
# IMAP, with a self-signed ECDSA P-256 certificate made here (mailhive generates the
# same kind). Every USER gets PASSWORD and a maildir in WORKDIR/mail/USER: left as it is
# when it exists already (the caller filled it), otherwise holding DOVECOT_MESSAGES
# (.eml files, space-separated). DOVECOT_LMTP_PORT adds LMTP (dovecot-lmtpd), with
# mail_fsync = always, so that its 250 means the copy is on disk as mailhive's does;
# every account then takes deliveries.
#
# Dovecot is configured as its documentation advises for performance: login processes
# in high-performance mode (service_count = 0, process_min_avail = cores), mail
# processes reused (service_count = 100), an authentication cache, and process and
# per-user limits high enough for a thousand connections from one address. Passwords are stored with DOVECOT_SCHEME:
# ARGON2ID (default, like mailhive; Dovecot then hashes at every login) or PLAIN
# (Dovecot's fastest login). Stop it with stop.sh WORKDIR.
set -euo pipefail
work=$1 password=$2
shift 2
imap_port=${DOVECOT_IMAP_PORT:-} pop3_port=${DOVECOT_POP3_PORT:-} imaps_port=${DOVECOT_IMAPS_PORT:-}
lmtp_port=${DOVECOT_LMTP_PORT:-}
if [ -z "$imap_port$pop3_port$imaps_port$lmtp_port" ]; then
  echo "set DOVECOT_IMAP_PORT, DOVECOT_IMAPS_PORT, DOVECOT_POP3_PORT and/or DOVECOT_LMTP_PORT" >&2
  exit 2
fi
if ! command -v dovecot >/dev/null 2>&1 || [ ! -x /usr/lib/dovecot/pop3 ] || [ ! -x /usr/lib/dovecot/imap ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends dovecot-imapd dovecot-pop3d >/dev/null
fi
if [ -n "$lmtp_port" ] && [ ! -x /usr/lib/dovecot/lmtp ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends dovecot-lmtpd >/dev/null
fi
cores=$(nproc)
mkdir -p "$work"/{run,state,home,mail}
work=$(cd "$work" && pwd)
scheme=${DOVECOT_SCHEME:-ARGON2ID}
hash=$(doveadm pw -s "$scheme" -p "$password")
: > "$work/passwd"
for user in "$@"; do
  printf '%s:%s\n' "$user" "$hash" >> "$work/passwd"
  maildir="$work/mail/$user"
  [ -d "$maildir" ] && continue
  mkdir -p "$maildir"/{new,cur,tmp}
  n=0
  for message in ${DOVECOT_MESSAGES:-}; do
    n=$((n + 1))
    cp "$message" "$maildir/new/1700000000.M${n}P1.bench"
  done
done
# Mail processes run as Debian's "mail" user: Dovecot refuses root.
chown -R mail:mail "$work/mail" "$work/home"
chmod o+x "$work"

ssl=no
if [ -n "$imaps_port" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=localhost -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
  chmod 644 "$work/key.pem"
  ssl="yes
ssl_cert = <$work/cert.pem
ssl_key = <$work/key.pem"
fi

protocols=()
services=""
for proto in imap pop3; do
  port_var=${proto}_port
  port=${!port_var}
  tls_listener=""
  if [ "$proto" = imap ] && [ -n "$imaps_port" ]; then
    tls_listener="
  inet_listener imaps {
    address = 127.0.0.1
    port = $imaps_port
    ssl = yes
  }"
  fi
  [ -n "$port$tls_listener" ] || continue
  protocols+=("$proto")
  services+="
service $proto-login {
  inet_listener $proto {
    address = 127.0.0.1
    port = ${port:-0}
  }$tls_listener
  service_count = 0
  process_min_avail = $cores
}
service $proto {
  service_count = 100
  process_min_avail = $cores
  process_limit = 2048
}"
done
userdb_args="uid=mail gid=mail home=$work/home/%u"
if [ -n "$lmtp_port" ]; then
  protocols+=(lmtp)
  # LMTP looks recipients up in the userdb alone.
  userdb_args+=" allow_all_users=yes"
  services+="
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $lmtp_port
  }
  service_count = 0
  process_min_avail = $cores
}
protocol lmtp {
  mail_fsync = always
}"
fi
cat > "$work/dovecot.conf" <<CONF
protocols = ${protocols[*]}
listen = 127.0.0.1
base_dir = $work/run
state_dir = $work/state
log_path = $work/dovecot.log
ssl = $ssl
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = 1
mail_location = maildir:$work/mail/%u
pop3_uidl_format = %08Xu%08Xv
auth_cache_size = 10M
auth_cache_ttl = 1 hour
default_client_limit = 4096
protocol imap {
  mail_max_userip_connections = 10000
}
protocol pop3 {
  mail_max_userip_connections = 10000
}
passdb {
  driver = passwd-file
  args = $work/passwd
}
userdb {
  driver = static
  args = $userdb_args
}
$services
CONF
dovecot -c "$work/dovecot.conf" </dev/null >/dev/null 2>>"$work/dovecot.log"
for port in $imap_port $imaps_port $pop3_port $lmtp_port; do
  for _ in $(seq 50); do
    if exec 3<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null; then exec 3<&-; continue 2; fi
    sleep 0.1
  done
  echo "dovecot did not start on port $port; see $work/dovecot.log" >&2
  exit 1
done
