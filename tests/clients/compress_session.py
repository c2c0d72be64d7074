"""An IMAP session with COMPRESS=DEFLATE (RFC 4978) through Python's imaplib and zlib.

Usage: compress_session.py MODE HOST PORT USER PASSWORD OUTDIR FILE...
Modes: plain, starttls (STARTTLS before login), imaps (implicit TLS).

Checks that COMPRESS=DEFLATE is offered only after login, compresses the connection,
appends every FILE through it, fetches them back into OUTDIR/NNNN.eml, checks that a
second COMPRESS is refused with [COMPRESSIONACTIVE] on the compressed connection, and
logs out. The certificate is self-signed: it is not verified.
"""
import imaplib
import os
import ssl
import sys
import zlib

mode, host, port, user, password, outdir = sys.argv[1:7]
files = sys.argv[7:]
imaplib.Commands["COMPRESS"] = ("AUTH", "SELECTED")


def context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Deflated:
    """Once compress() succeeds, imaplib's reads and writes go through raw deflate."""

    deflate = None

    def compress(self):
        status, data = self._simple_command("COMPRESS", "DEFLATE")
        assert status == "OK", (status, data)
        self.deflate = zlib.compressobj(wbits=-15)
        self.inflate = zlib.decompressobj(wbits=-15)
        self.plain = b""

    def send(self, data):
        if self.deflate is None:
            return super().send(data)
        self.sock.sendall(self.deflate.compress(data) + self.deflate.flush(zlib.Z_SYNC_FLUSH))

    def fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise imaplib.IMAP4.abort("the server closed the connection")
        self.plain += self.inflate.decompress(chunk)

    def read(self, size):
        if self.deflate is None:
            return super().read(size)
        while len(self.plain) < size:
            self.fill()
        data, self.plain = self.plain[:size], self.plain[size:]
        return data

    def readline(self):
        if self.deflate is None:
            return super().readline()
        while b"\n" not in self.plain:
            self.fill()
        end = self.plain.index(b"\n") + 1
        line, self.plain = self.plain[:end], self.plain[end:]
        return line


class Plain(Deflated, imaplib.IMAP4):
    pass


class Implicit(Deflated, imaplib.IMAP4_SSL):
    pass


def ok(answer):
    status, data = answer
    assert status == "OK", answer
    return data


def capabilities(client):
    return set(ok(client.capability())[0].decode().split())


if mode == "imaps":
    client = Implicit(host, int(port), ssl_context=context(), timeout=20)
else:
    client = Plain(host, int(port), timeout=20)
    if mode == "starttls":
        ok(client.starttls(ssl_context=context()))
assert "COMPRESS=DEFLATE" not in capabilities(client), "offered before login"
ok(client.login(user, password))
assert "COMPRESS=DEFLATE" in capabilities(client), "not offered after login"
client.compress()
for path in files:
    with open(path, "rb") as f:
        ok(client.append("INBOX", None, None, f.read()))
exists = int(ok(client.select("INBOX"))[0])
assert exists == len(files), (exists, len(files))
for n in range(1, exists + 1):
    data = ok(client.fetch(str(n), "(BODY.PEEK[])"))
    with open(os.path.join(outdir, "%04d.eml" % n), "wb") as f:
        f.write(data[0][1])
status, data = client._simple_command("COMPRESS", "DEFLATE")
assert status == "NO" and data[0].startswith(b"[COMPRESSIONACTIVE]"), (status, data)
assert client.logout()[0] == "BYE"
