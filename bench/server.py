"""gunicorn as `make serve` runs it (``gunicorn -c gunicorn.conf.py``), one pool (web or token,
PORTAL_POOL) on a free loopback port.

The only difference: PORT (TOKEN_PORT for the token pool) is a free port. The server's output
(the portal's one line per request, as under `make serve`) goes to a file in the bench's
temporary directory.
"""

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from bench import procstat

BASE_DIR = Path(__file__).resolve().parent.parent
CONFIG = BASE_DIR / "gunicorn.conf.py"
APP = "portal.wsgi:application"


class ServerError(Exception):
    """gunicorn did not start or stopped answering; the message holds its log's tail."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """A gunicorn master in its own session, stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(self, *, env: dict[str, str], log_dir: Path, pool: str = "web"):
        self.pool = pool
        self.port = free_port()
        self.error_log = log_dir / ("gunicorn.log" if pool == "web" else f"gunicorn-{pool}.log")
        self.command = [
            str(BASE_DIR / ".venv" / "bin" / "gunicorn"),
            "-c",
            str(CONFIG),
            APP,
        ]
        port = "PORT" if pool == "web" else "TOKEN_PORT"
        self.env = {**env, "PORTAL_POOL": pool, "HOST": "127.0.0.1", port: str(self.port)}
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Gunicorn":
        with open(self.error_log, "wb") as log:
            self.proc = subprocess.Popen(
                self.command,
                cwd=BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_until_ready()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def workers(self) -> list[int]:
        """Pids of the master's worker processes."""
        return [pid for pid in procstat.process_tree(self.proc.pid) if pid != self.proc.pid]

    def get(self, path: str, headers: dict[str, str], method: str = "GET", body: str = ""):
        """``(status, body)`` of one request (outside the load, e.g. a preflight check)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=body.encode() or None, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def _wait_until_ready(self, timeout: float = 30.0) -> None:
        """Until /healthz answers and every worker has booted."""
        wanted = (
            int(self.env.get("WEB_CONCURRENCY", "3"))
            if self.pool == "web"
            else int(self.env.get("TOKEN_WORKERS", "2"))
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError(f"gunicorn exited with {self.proc.returncode}:\n{self.tail()}")
            with contextlib.suppress(OSError):
                if self.get("/healthz", {})[0] == 200 and len(self.workers()) >= wanted:
                    return
            time.sleep(0.1)
        raise ServerError(f"gunicorn did not answer within {timeout:.0f}s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.error_log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, grace: float = 10.0) -> int | None:
        """Stop the master (it stops its workers); its exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        return self.proc.returncode
