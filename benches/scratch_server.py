"""A mailhive server for a benchmark script: its own configuration and data in a
temporary directory, listeners on free loopback ports, started and stopped by its own
PID. Used by compress.py, flood.py and soak.py."""

import os
import signal
import socket
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE_BINARY = os.path.join(ROOT, "target/release/mailhive")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ScratchServer:
    def __init__(self, binary, workdir, imap_settings=""):
        self.binary = binary
        self.port = free_port()
        self.config = os.path.join(workdir, "mailhive.toml")
        with open(self.config, "w") as f:
            f.write(f'[store]\npath = "{workdir}/data"\n'
                    f'[imap]\nlisten = ["127.0.0.1:{self.port}"]\ntls_listen = []\n'
                    f'{imap_settings}'
                    f'[pop3]\nlisten = ["127.0.0.1:{free_port()}"]\ntls_listen = []\n'
                    '[web]\nlisten = []\n')
        self.process = None

    def run(self, *args, stdin=None):
        """A CLI command against this server's configuration."""
        return subprocess.run([self.binary, "--config", self.config, *args], input=stdin,
                              capture_output=True, text=True, check=True)

    def start(self):
        """Starts `serve` and returns once it says it serves."""
        self.process = subprocess.Popen([self.binary, "--config", self.config, "serve"],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        text=True)
        for line in self.process.stdout:
            if line.startswith("mailhive: serving"):
                return
        raise SystemExit("the server did not start: the store did not open?")

    @property
    def pid(self):
        return self.process.pid

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
