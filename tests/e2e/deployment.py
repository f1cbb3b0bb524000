"""The scale-out deployment for tests: gunicorn nodes as `make serve` runs them (gunicorn.conf.py,
portal.wsgi; each node a web pool and a token pool) and nginx as the TLS reverse proxy of
docs/deployment.md (deploy/nginx/iam-portal.conf, with only the addresses, ports and certificate
paths replaced)."""

import contextlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.proxy import NGINX_CONF, find_nginx, nginx_proxy, self_signed_certificate  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
#: The shipped systemd units: the application node's two pools, and the daily pruning of the
#: activity log.
SYSTEMD_UNITS = tuple(
    REPO / "deploy" / "systemd" / name
    for name in (
        "iam-portal.service",
        "iam-portal-token.service",
        "iam-portal-prune.service",
        "iam-portal-prune.timer",
    )
) + (REPO / "deploy" / "docker-hub-cache" / "docker-hub-cache.service",)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: exited {process.returncode}\n{log.read_text()[-3000:]}")
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(url, timeout=2) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {timeout}s\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def gunicorn_node(name: str, env: dict, workdir: Path, pool: str = "web"):
    """One pool (``web`` or ``token``, gunicorn.conf.py's PORTAL_POOL) of an application node,
    with one worker on a free port; yields ``(url, log path)``."""
    port = free_port()
    log = workdir / f"{name}.log"
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "-c",
        str(REPO / "gunicorn.conf.py"),
        "portal.wsgi:application",
    ]
    node_env = {
        **env,
        "PORTAL_POOL": pool,
        "HOST": "127.0.0.1",
        "PORT" if pool == "web" else "TOKEN_PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "TOKEN_WORKERS": "1",
    }
    with open(log, "wb") as output:
        process = subprocess.Popen(
            command, cwd=REPO, env=node_env, stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{url}/healthz", process, log)
        yield url, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
