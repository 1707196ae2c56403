"""fauxqs (npm) as a fast local SQS endpoint, for the benchmarks.

moto's SQS slows down as queues fill (measured here: ~200 msg/s at a 10-message
backlog, ~50 msg/s at 100); fauxqs passed the same checks (redrive, visibility, long polling) at ~1,000
msg/s. The benchmarks put it behind ``AWS_ENDPOINT_URL_SQS``, so boto3 (and every handler) send SQS
calls there while everything else stays on moto: no code changes between the two. Node 20 is on the
project's machines; fauxqs 1.9.2 is the last version measured to run on it. It is installed under
``.local/fauxqs`` on first use (``npm install``, from the package registry only).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / ".local" / "fauxqs"
VERSION = "1.9.2"
CLI = ROOT / "node_modules" / "fauxqs" / "dist" / "cli.js"


def install(root: Path = ROOT) -> Path:
    """fauxqs's CLI, installed with npm under ``root`` if missing."""
    cli = root / "node_modules" / "fauxqs" / "dist" / "cli.js"
    if not cli.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is not installed: `apt-get install -y nodejs npm`, or use moto's SQS")
        root.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--prefix", str(root), "--no-audit", "--no-fund", "--silent",
                        f"fauxqs@{VERSION}"], check=True)
    return cli


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FauxqsServer:
    """``node fauxqs`` on 127.0.0.1 (a free port), stopped with the object."""

    def __init__(self) -> None:
        self.endpoint = ""
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 30) -> str:
        cli = install()
        port = _free_port()
        env = {**os.environ, "FAUXQS_PORT": str(port), "FAUXQS_HOST": "127.0.0.1", "LOG_LEVEL": "warn"}
        self._process = subprocess.Popen([shutil.which("node") or "node", str(cli)], env=env,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            except OSError:
                if self._process.poll() is not None:
                    raise RuntimeError(f"fauxqs exited with {self._process.returncode}") from None
                time.sleep(0.1)
                continue
            self.endpoint = f"http://127.0.0.1:{port}"
            return self.endpoint
        self.stop()
        raise RuntimeError(f"fauxqs did not listen on 127.0.0.1:{port} within {timeout_s} s")

    @property
    def pid(self) -> int | None:
        """The server process's id while it runs (the benchmarks account its CPU time)."""
        return self._process.pid if self._process is not None else None

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)
        self._process = None


__all__ = ["FauxqsServer", "install"]
