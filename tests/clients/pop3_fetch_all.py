"""Retrieves every message of a POP3 maildrop with Python's poplib.

Usage: pop3_fetch_all.py HOST PORT USER PASSWORD OUTDIR
Writes OUTDIR/0001.eml, ... as poplib returns them (lines joined with CRLF).
"""
import os
import poplib
import sys

host, port, user, password, outdir = sys.argv[1:6]
client = poplib.POP3(host, int(port), timeout=10)
client.user(user)
client.pass_(password)
count, _ = client.stat()
for n in range(1, count + 1):
    _, lines, _ = client.retr(n)
    with open(os.path.join(outdir, f"{n:04d}.eml"), "wb") as f:
        f.write(b"\r\n".join(lines) + b"\r\n")
client.quit()
print(count)
