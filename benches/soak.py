"""Faults under load: mailhive killed with SIGKILL while clients write, over and over.

Usage: python3 benches/soak.py [--binary target/release/mailhive] [--cycles 50]
       [--clients 8]

Starts mailhive on loopback from a temporary data directory, then CYCLES times: runs
CLIENTS IMAP clients (imaplib) that APPEND messages with unique Message-IDs, set
\\Flagged on some and \\Deleted plus UID EXPUNGE on others, and records every change
the server acknowledged with OK; after 0.5-2 s kills the server with SIGKILL in the
middle of it, starts it again on the same data (the store must open every time), and
checks that every acknowledged change is there: each APPENDed message present (unless
its expunge was acknowledged), each acknowledged \\Flagged set, each acknowledged
expunge gone. Prints one line per cycle and a summary; exits 1 on the first loss.
A benchmark-style run, not part of ./test: it takes a few minutes.
"""
import argparse
import imaplib
import random
import sys
import tempfile
import threading
import time

from scratch_server import RELEASE_BINARY, ScratchServer


class Ledger:
    """What the server acknowledged, shared by the client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.appended = set()   # Message-IDs
        self.flagged = set()
        self.expunged = set()
        # Expunges sent whose answer may have been lost with the server: the message
        # may be gone or not.
        self.doomed = set()


def client(port, ledger, stop, n):
    rng = random.Random(n)
    try:
        imap = imaplib.IMAP4("127.0.0.1", port, timeout=10)
        imap.login("soak", "soak")
        imap.select("INBOX")
        i = 0
        while not stop.is_set():
            i += 1
            mid = f"<soak-{n}-{time.time_ns()}-{i}@example.org>"
            msg = (f"Message-ID: {mid}\r\nSubject: soak {i}\r\n\r\n" + "x" * rng.randint(10, 5000)
                   + "\r\n").encode()
            typ, data = imap.append("INBOX", None, None, msg)
            if typ != "OK":
                continue
            uid = data[0].split(b"APPENDUID ")[1].split(b" ")[1].rstrip(b"]").decode()
            with ledger.lock:
                ledger.appended.add(mid)
            action = rng.random()
            if action < 0.3:
                typ, _ = imap.uid("STORE", uid, "+FLAGS.SILENT", "(\\Flagged)")
                if typ == "OK":
                    with ledger.lock:
                        ledger.flagged.add(mid)
            elif action < 0.5:
                with ledger.lock:
                    ledger.doomed.add(mid)
                typ, _ = imap.uid("STORE", uid, "+FLAGS.SILENT", "(\\Deleted)")
                if typ == "OK":
                    typ, _ = imap.uid("EXPUNGE", uid)
                    if typ == "OK":
                        with ledger.lock:
                            ledger.expunged.add(mid)
    except (OSError, imaplib.IMAP4.abort, imaplib.IMAP4.error, IndexError):
        return  # the server was killed under us


def check(port, ledger):
    imap = imaplib.IMAP4("127.0.0.1", port, timeout=30)
    imap.login("soak", "soak")
    typ, exists = imap.select("INBOX", readonly=True)
    data = []
    if int(exists[0]) > 0:
        typ, data = imap.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    present = {}
    for item in data:
        if isinstance(item, tuple):
            mid = item[1].decode().split(":", 1)[1].strip()
            present[mid] = b"\\Flagged" in item[0]
    imap.logout()
    lost = [m for m in ledger.appended - ledger.doomed if m not in present]
    unflagged = [m for m in ledger.flagged - ledger.doomed if not present.get(m, True)]
    back = [m for m in ledger.expunged if m in present]
    return len(present), lost, unflagged, back


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=RELEASE_BINARY)
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        server = ScratchServer(args.binary, workdir, 'max_connections_per_user = 100\n')
        server.run("user", "add", "soak", "--password-stdin", stdin="soak\n")
        ledger = Ledger()
        started = time.time()
        for cycle in range(1, args.cycles + 1):
            server.start()
            count, lost, unflagged, back = check(server.port, ledger)
            print(f"cycle {cycle}: store opened, {count} messages; acknowledged: "
                  f"{len(ledger.appended)} appends, {len(ledger.flagged)} flags, "
                  f"{len(ledger.expunged)} expunges; lost {len(lost)}, flags lost "
                  f"{len(unflagged)}, expunged back {len(back)}", flush=True)
            if lost or unflagged or back:
                server.kill()
                raise SystemExit(f"acknowledged changes lost: {lost[:3]} {unflagged[:3]} {back[:3]}")
            stop = threading.Event()
            threads = [threading.Thread(target=client, args=(server.port, ledger, stop, n))
                       for n in range(args.clients)]
            for t in threads:
                t.start()
            time.sleep(random.uniform(0.5, 2.0))
            server.kill()
            stop.set()
            for t in threads:
                t.join()
        server.start()
        count, lost, unflagged, back = check(server.port, ledger)
        server.kill()
        ok = not (lost or unflagged or back)
        print(f"{args.cycles} SIGKILLs in {time.time() - started:.0f} s: {len(ledger.appended)} "
              f"appends, {len(ledger.flagged)} flag changes and {len(ledger.expunged)} expunges "
              f"acknowledged, {'none lost' if ok else 'LOST CHANGES'}; the store opened every time")
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
