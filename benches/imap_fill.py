"""Fills INBOXes over IMAP with the messages of an mbox, exactly as imaptest appends them
(every line up to the next From line, the separator's empty line included, CRLF), so
that a server starts a benchmark with mail that imaptest recognises as its own.

Usage: python3 benches/imap_fill.py HOST PORT PASSWORD MBOX USER...
       python3 benches/imap_fill.py HOST PORT PASSWORD - USER...

With `-` instead of an mbox every account only logs in once: the warm-up after a
server starts, so that no timed run pays for the first password check of an account
(both servers cache verified logins).

Appends go 50 at a time in one MULTIAPPEND with LITERAL+ literals (both mailhive and
Dovecot offer them), each account's INBOX from the first message of MBOX on.
"""
import socket
import sys

BATCH = 50


def messages(path):
    """The mbox's messages as imaptest's mbox source reads them."""
    current = None
    with open(path, "rb") as f:
        for line in f:
            if line.startswith(b"From ") and (current is None or current):
                if current:
                    yield b"".join(current)
                current = []
                continue
            if current is not None:
                current.append(line.rstrip(b"\r\n") + b"\r\n")
    if current:
        yield b"".join(current)


class Client:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port))
        self.file = self.sock.makefile("rb")
        self.tag = 0
        self.file.readline()  # greeting

    def command(self, *parts):
        """Sends one command made of byte strings and returns its tagged answer."""
        self.tag += 1
        tag = b"f%d" % self.tag
        self.sock.sendall(tag + b" " + b"".join(parts) + b"\r\n")
        while True:
            line = self.file.readline()
            if not line:
                sys.exit("the server closed the connection")
            if line.startswith(tag + b" "):
                if not line[len(tag) + 1:].startswith(b"OK"):
                    sys.exit(f"{parts[0][:40]!r}: {line!r}")
                return line


def main():
    if len(sys.argv) < 6:
        sys.exit(__doc__)
    host, port, password, mbox = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    mail = [] if mbox == "-" else list(messages(mbox))
    for user in sys.argv[5:]:
        client = Client(host, port)
        client.command(b"LOGIN " + user.encode() + b" " + password.encode())
        for start in range(0, len(mail), BATCH):
            literals = [b" {%d+}\r\n" % len(m) + m for m in mail[start:start + BATCH]]
            client.command(b"APPEND INBOX", *literals)
        client.command(b"LOGOUT")


if __name__ == "__main__":
    main()
