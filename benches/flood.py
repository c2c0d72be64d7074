"""A connection flood while a legitimate client works.

Usage: python3 benches/flood.py [--binary target/release/mailhive] [--connections 10000]

Starts mailhive on loopback from a temporary data directory (MaxConnections raised to
12,000 so that the flood fits; MaxConnectionsFromSingleIP stays 100), opens CONNECTIONS
connections from 100 addresses of 127.0.0.0/8 (127.0.1.1 ...), 100 each, reads their
greetings and holds them open, then times 200 logins of a legitimate client from
127.0.0.1, each followed by SELECT and a FETCH of a message, and prints the login
latency (median, p99) and the flood's size. A benchmark-style run, not part of ./test.
"""
import argparse
import imaplib
import os
import socket
import statistics
import tempfile
import time

from scratch_server import RELEASE_BINARY, ROOT, ScratchServer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=RELEASE_BINARY)
    parser.add_argument("--connections", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        server = ScratchServer(args.binary, workdir, "max_connections = 12000\n")
        server.run("user", "add", "owner", "--password-stdin", stdin="secret\n")
        server.run("import-mbox", "--user", "owner", os.path.join(ROOT, "fixtures/demo.mbox"))
        server.start()
        port = server.port
        flood = []
        started = time.time()
        try:
            for n in range(args.connections):
                s = socket.socket()
                s.bind((f"127.0.{1 + n // 100 // 250}.{1 + (n // 100) % 250}", 0))
                s.connect(("127.0.0.1", port))
                flood.append(s)
            greeted = sum(1 for s in flood if s.recv(512).startswith(b"* OK"))
            opened = time.time() - started
            latencies = []
            for _ in range(200):
                t = time.perf_counter()
                imap = imaplib.IMAP4("127.0.0.1", port, timeout=30)
                imap.login("owner", "secret")
                latencies.append(time.perf_counter() - t)
                imap.select("INBOX")
                imap.fetch("1", "(BODY.PEEK[])")
                imap.logout()
            latencies.sort()
            p99 = latencies[int(len(latencies) * 0.99) - 1]
            print(f"{greeted} of {args.connections} flood connections greeted and held "
                  f"(opened in {opened:.1f} s); 200 logins of the owner meanwhile: median "
                  f"{statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
        finally:
            for s in flood:
                s.close()
            server.kill()


if __name__ == "__main__":
    main()
