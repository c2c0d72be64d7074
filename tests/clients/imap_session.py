"""A whole IMAP session with Python's imaplib, checking every answer.

Usage: imap_session.py HOST PORT USER PASSWORD OUTDIR FIXTURE...
Appends each fixture (CRLF line endings) to INBOX with a literal, then writes
OUTDIR/NNNN.eml (BODY.PEEK[] as fetched) and OUTDIR/NNNN.structure (the FETCH answer
with ENVELOPE and BODYSTRUCTURE), and exercises search, store, copy, move and expunge.
"""
import imaplib
import os
import re
import sys

host, port, user, password, outdir = sys.argv[1:6]
fixtures = sys.argv[6:]


def ok(answer):
    status, data = answer
    assert status == "OK", answer
    return data


def crlf(raw):
    return re.sub(rb"(?<!\r)\n", b"\r\n", raw)


client = imaplib.IMAP4(host, int(port), timeout=20)
ok(client.login(user, password))
listed = b" ".join(ok(client.list()))
for name in (b'"INBOX"', b'\\Sent', b'\\Trash', b'\\Drafts', b'\\Junk', b'\\Archive'):
    assert name in listed, listed
assert ok(client.select("INBOX")) == [b"0"]
for n, path in enumerate(fixtures):
    with open(path, "rb") as f:
        raw = crlf(f.read())
    flags = "(\\Seen)" if n % 2 else None
    data = ok(client.append("INBOX", flags, None, raw))
    assert re.match(rb"\[APPENDUID \d+ %d\]" % (n + 1), data[0]), data
ok(client.noop())
count = len(fixtures)
for n in range(1, count + 1):
    data = ok(client.fetch(str(n), "(BODY.PEEK[])"))
    with open(os.path.join(outdir, f"{n:04d}.eml"), "wb") as f:
        f.write(data[0][1])
    data = ok(client.fetch(str(n), "(ENVELOPE BODYSTRUCTURE)"))
    parts = [p if isinstance(p, bytes) else b"".join(p) for p in data]
    with open(os.path.join(outdir, f"{n:04d}.structure"), "wb") as f:
        f.write(b"".join(parts))
seen = ok(client.search(None, "SEEN"))[0].split()
assert seen == [str(n).encode() for n in range(2, count + 1, 2)], seen
everything = ok(client.search("UTF-8", "ALL"))[0].split()
assert len(everything) == count, everything
data = ok(client.store("1:2", "+FLAGS", "(\\Flagged)"))
assert all(b"\\Flagged" in d for d in data), data
assert ok(client.search(None, "FLAGGED"))[0] == b"1 2"
data = ok(client.copy("1:3", "Archive"))
assert ok(client.status("Archive", "(MESSAGES)"))[0].endswith(b"(MESSAGES 3)")
typ, data = client.uid("MOVE", "4", "Trash")
assert typ == "OK", (typ, data)
assert ok(client.status("Trash", "(MESSAGES)"))[0].endswith(b"(MESSAGES 1)")
ok(client.store("1", "+FLAGS", "(\\Deleted)"))
# MOVE's EXPUNGE is still among imaplib's untagged answers.
assert ok(client.expunge())[-1] == b"1"
assert ok(client.select("INBOX")) == [str(count - 2).encode()]
client.logout()
print("ok", count)
