"""COMPRESS=DEFLATE (RFC 4978) on a FETCH of 100 MB of mail text.

Usage: python3 benches/compress.py [--binary target/release/mailhive] [--megabytes 100]
                                   [--runs 3]

Starts mailhive on loopback from a temporary data directory, appends MEGABYTES
messages of 1 MB of text (lines of 6 to 14 words drawn, with a fixed seed, from the
words of README.md and of the bodies of fixtures/mail; zlib makes 41 % of it at
level 1, 33 % at level 6), then FETCHes them all (BODY.PEEK[]) RUNS times over a plain connection
and RUNS times over a compressed one. It reads the server's CPU time (user + system,
/proc/PID/stat) around each FETCH: the compressed FETCH's extra CPU time is what
compressing cost, and MEGABYTES over it the rate per core (a session and its writer
run on one thread). It also samples the server's RSS every 10 ms during the compressed
FETCH and prints its growth, and the compression ratio. Medians of the runs. A
benchmark-style run, not part of ./test.
"""
import argparse
import glob
import imaplib
import os
import random
import socket
import statistics
import tempfile
import threading
import time
import zlib

from scratch_server import RELEASE_BINARY, ROOT, ScratchServer
TICKS = os.sysconf("SC_CLK_TCK")


def words():
    found = set()
    paths = [os.path.join(ROOT, "README.md")]
    for path in paths + sorted(glob.glob(os.path.join(ROOT, "fixtures/mail/*.eml"))):
        with open(path, "rb") as f:
            body = f.read().split(b"\n\n", 1)[-1]
        found.update(w for w in body.split() if w.isalpha() and len(w) < 20)
    return sorted(found)


def message(rng, vocabulary, size):
    out = [b"From: bench@example.org", b"Subject: text", b""]
    length = 0
    while length < size:
        line = b" ".join(rng.choice(vocabulary) for _ in range(rng.randint(6, 14)))
        out.append(line)
        length += len(line) + 2
    return b"\r\n".join(out) + b"\r\n"


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def login(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.recv(4096)
    s.sendall(b"l LOGIN bench secret\r\nx SELECT INBOX\r\n")
    buf = b""
    while b"x OK" not in buf:
        buf += s.recv(65536)
    return s


def fetch(port, count, compressed):
    """Returns (plain bytes received, bytes on the wire)."""
    s = login(port)
    inflate = None
    if compressed:
        s.sendall(b"z COMPRESS DEFLATE\r\n")
        line = b""
        while not line.endswith(b"\r\n"):
            line += s.recv(1)
        assert line.startswith(b"z OK"), line
        inflate = zlib.decompressobj(wbits=-15)
        deflate = zlib.compressobj(wbits=-15)
        command = deflate.compress(f"f FETCH 1:{count} (BODY.PEEK[])\r\n".encode())
        s.sendall(command + deflate.flush(zlib.Z_SYNC_FLUSH))
    else:
        s.sendall(f"f FETCH 1:{count} (BODY.PEEK[])\r\n".encode())
    end = b"f OK FETCH completed\r\n"
    plain, wire, tail = 0, 0, b""
    while not tail.endswith(end):
        chunk = s.recv(1 << 20)
        assert chunk, "the server closed the connection"
        wire += len(chunk)
        if inflate:
            chunk = inflate.decompress(chunk)
        plain += len(chunk)
        tail = (tail + chunk)[-len(end):]
    s.close()
    return plain, wire


def measured(pid, port, count, compressed):
    peak = [rss_kib(pid)]
    before = peak[0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kib(pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    cpu, wall = cpu_seconds(pid), time.perf_counter()
    plain, wire = fetch(port, count, compressed)
    cpu, wall = cpu_seconds(pid) - cpu, time.perf_counter() - wall
    done.set()
    sampler.join()
    return cpu, wall, plain, wire, peak[0] - before


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=RELEASE_BINARY)
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        server = ScratchServer(args.binary, workdir)
        server.run("user", "add", "bench", "--password-stdin", stdin="secret\n")
        server.start()
        port = server.port
        try:
            rng, vocabulary = random.Random(1), words()
            client = imaplib.IMAP4("127.0.0.1", port, timeout=60)
            client.login("bench", "secret")
            for _ in range(args.megabytes):
                client.append("INBOX", None, None, message(rng, vocabulary, 1_000_000))
            client.logout()
            results = {}
            for compressed in (False, True):
                runs = [measured(server.pid, port, args.megabytes, compressed)
                        for _ in range(args.runs)]
                results[compressed] = [statistics.median(r[i] for r in runs) for i in range(5)]
            plain_cpu, plain_wall, received, _, _ = results[False]
            cpu, wall, _, wire, grown = results[True]
            megabytes = received / 1e6
            print(f"FETCH of {megabytes:.1f} MB of text, median of {args.runs} runs:")
            print(f"  plain:      server CPU {plain_cpu:.2f} s, {plain_wall:.2f} s wall")
            print(f"  compressed: server CPU {cpu:.2f} s, {wall:.2f} s wall, "
                  f"{wire / 1e6:.1f} MB on the wire ({received / wire:.2f}:1)")
            extra = cpu - plain_cpu
            rate = megabytes / extra if extra > 0 else float("inf")
            print(f"  compression: {extra:.2f} s of CPU, {rate:.0f} MB/s per core; "
                  f"server RSS grew {grown} KiB during the compressed FETCH")
        finally:
            server.kill()


if __name__ == "__main__":
    main()
