"""TLS sessions with Python's imaplib, poplib and ssl modules, checking every answer.

Usage: tls_session.py MODE HOST PORT [USER PASSWORD]
Modes:
  imaps          implicit TLS: login, select, logout
  imap-starttls  STARTTLS, capabilities before and after, login, logout
  imap-never     plaintext_auth = never: LOGINDISABLED and PRIVACYREQUIRED before
                 STARTTLS, a login after it
  imap-inject    STARTTLS and a LOGIN pipelined in one packet: the LOGIN must never be
                 answered inside TLS
  pop3s          implicit TLS: login, STAT, QUIT
  pop3-stls      STLS, CAPA before and after, login, QUIT
  pop3-never     plaintext_auth = never: no USER in CAPA, USER refused; after STLS a login
  pop3-inject    STLS and a USER pipelined in one packet, never answered inside TLS
  refused        implicit TLS connection that the server refuses: prints its one line
  fingerprint    prints the SHA-256 of the certificate of an implicit-TLS listener
  hold           implicit TLS IMAP login; prints the fingerprint, waits for a line on
                 standard input, then NOOP and LOGOUT on the same connection
The certificate is self-signed: it is not verified, only read.
"""
import hashlib
import imaplib
import poplib
import socket
import ssl
import sys

mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
user, password = (sys.argv[4], sys.argv[5]) if len(sys.argv) > 5 else ("", "")


def context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def fingerprint(sock):
    return hashlib.sha256(sock.getpeercert(binary_form=True)).hexdigest()


def ok(answer):
    status, data = answer
    assert status == "OK", answer
    return data


def imap_caps(client):
    return set(ok(client.capability())[0].decode().split())


def imaps():
    client = imaplib.IMAP4_SSL(host, port, ssl_context=context(), timeout=20)
    caps = imap_caps(client)
    assert "STARTTLS" not in caps and "AUTH=PLAIN" in caps, caps
    ok(client.login(user, password))
    ok(client.select("INBOX"))
    client.logout()


def imap_starttls(expect_plaintext):
    client = imaplib.IMAP4(host, port, timeout=20)
    caps = imap_caps(client)
    assert "STARTTLS" in caps, caps
    assert ("LOGINDISABLED" in caps) != expect_plaintext, caps
    assert ("AUTH=PLAIN" in caps) == expect_plaintext, caps
    if not expect_plaintext:
        try:
            client.login(user, password)
            raise AssertionError("LOGIN without TLS was accepted")
        except imaplib.IMAP4.error as refused:
            assert "PRIVACYREQUIRED" in str(refused), refused
    ok(client.starttls(ssl_context=context()))
    caps = imap_caps(client)
    assert "STARTTLS" not in caps and "LOGINDISABLED" not in caps, caps
    assert "AUTH=PLAIN" in caps, caps
    ok(client.login(user, password))
    ok(client.select("INBOX"))
    client.logout()


def lines_until(reader, prefix):
    seen = []
    while True:
        line = reader.readline().decode()
        assert line, ("closed", seen)
        seen.append(line.rstrip("\r\n"))
        if line.startswith(prefix):
            return seen


def inject(starttls, pipelined, probe, probe_answer, smuggled_answer):
    raw = socket.create_connection((host, port), timeout=20)
    plain = raw.makefile("rb")
    plain.readline()  # greeting
    raw.sendall(starttls + pipelined)
    answer = plain.readline().decode()
    assert "Begin TLS" in answer, answer
    tls = context().wrap_socket(raw)
    tls.sendall(probe)
    reader = tls.makefile("rb")
    seen = lines_until(reader, probe_answer)
    assert not any(l.startswith(smuggled_answer) for l in seen), seen
    tls.close()


def pop3s():
    client = poplib.POP3_SSL(host, port, context=context(), timeout=20)
    assert "STLS" not in client.capa(), client.capa()
    client.user(user)
    client.pass_(password)
    client.stat()
    client.quit()


def pop3_stls(expect_plaintext):
    client = poplib.POP3(host, port, timeout=20)
    caps = client.capa()
    assert "STLS" in caps, caps
    assert ("USER" in caps) == expect_plaintext, caps
    if not expect_plaintext:
        try:
            client.user(user)
            raise AssertionError("USER without TLS was accepted")
        except poplib.error_proto as refused:
            assert b"[AUTH]" in refused.args[0], refused
    client.stls(context=context())
    caps = client.capa()
    assert "STLS" not in caps and "USER" in caps, caps
    client.user(user)
    client.pass_(password)
    client.stat()
    client.quit()


def refused():
    raw = socket.create_connection((host, port), timeout=20)
    tls = context().wrap_socket(raw)
    line = tls.makefile("rb").readline().decode().rstrip("\r\n")
    print(line)


def hold():
    client = imaplib.IMAP4_SSL(host, port, ssl_context=context(), timeout=20)
    ok(client.login(user, password))
    print(fingerprint(client.sock), flush=True)
    sys.stdin.readline()
    ok(client.noop())
    client.logout()
    print("ok", flush=True)


if mode == "imaps":
    imaps()
elif mode == "imap-starttls":
    imap_starttls(expect_plaintext=True)
elif mode == "imap-never":
    imap_starttls(expect_plaintext=False)
elif mode == "imap-inject":
    inject(b"a1 STARTTLS\r\n", b"A2 LOGIN x y\r\n", b"a3 NOOP\r\n", "a3 ", "A2 ")
elif mode == "pop3s":
    pop3s()
elif mode == "pop3-stls":
    pop3_stls(expect_plaintext=True)
elif mode == "pop3-never":
    pop3_stls(expect_plaintext=False)
elif mode == "pop3-inject":
    # Had USER run inside TLS, CAPA's answer would come after "+OK send PASS".
    inject(b"STLS\r\n", b"USER x\r\n", b"CAPA\r\n", "+OK Capability", "+OK send PASS")
elif mode == "refused":
    refused()
elif mode == "fingerprint":
    raw = socket.create_connection((host, port), timeout=20)
    print(fingerprint(context().wrap_socket(raw)))
elif mode == "hold":
    hold()
else:
    raise SystemExit(f"unknown mode {mode}")
