"""Docker Engine as a registry client: a private ``dockerd`` (root, the vfs storage driver, no
bridge and no iptables, its own data, exec and socket directories) and the ``docker`` CLI with a
``DOCKER_CONFIG`` directory of its own, so a test controls exactly which credentials it holds.

Nothing here needs network access beyond 127.0.0.1.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from policies.hub_cache import DOCKER_HUB_AUTH_KEY
from tests.e2e.processes import stop

__all__ = ["DockerStartError", "RunningDockerd", "find_docker", "running_dockerd"]


class DockerStartError(RuntimeError):
    """dockerd did not come up (exited, or ``docker info`` failed in time)."""


def find_docker() -> tuple[Path, Path] | None:
    """``(dockerd, docker)``, or None if either is missing or this is not root (dockerd needs
    it)."""
    daemon = shutil.which("dockerd") or shutil.which("/usr/sbin/dockerd")
    cli = shutil.which("docker")
    if not (daemon and cli) or os.geteuid() != 0:
        return None
    return Path(daemon), Path(cli)


@dataclass
class DockerClient:
    """The ``docker`` CLI against one daemon with its own ``DOCKER_CONFIG`` directory."""

    cli: Path
    host: str
    config_dir: Path
    calls: list[str] = field(default_factory=list)

    def store_docker_hub_credentials(self, username: str, secret: str) -> None:
        """Write ``username:secret`` as the credentials for Docker Hub into ``config.json``, as
        the docs tell members to (``docker login`` without a host would ask Docker Hub)."""
        auth = base64.b64encode(f"{username}:{secret}".encode()).decode()
        path = self.config_dir / "config.json"
        config = json.loads(path.read_text()) if path.exists() else {}
        config.setdefault("auths", {})[DOCKER_HUB_AUTH_KEY] = {"auth": auth}
        path.write_text(json.dumps(config))

    def run(self, *args: str, stdin: str | None = None, timeout: float = 60):
        """``docker ARGS...``; the CompletedProcess (never raises on a non-zero exit)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        env.update(DOCKER_CONFIG=str(self.config_dir), DOCKER_HOST=self.host)
        result = subprocess.run(
            [str(self.cli), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=env,
            stdin=None if stdin is not None else subprocess.DEVNULL,
        )
        self.calls.append(
            f"$ docker {' '.join(args)}\n-> {result.returncode}\n{result.stderr.strip()}"
        )
        return result

    def login(self, registry: str, username: str, secret: str):
        return self.run("login", registry, "-u", username, "--password-stdin", stdin=secret)

    def pull(self, reference: str):
        """``docker pull REFERENCE``, then remove the image again so the next pull asks anew."""
        result = self.run("pull", "--quiet", reference)
        if result.returncode == 0:
            self.run("image", "rm", "--force", reference)
        return result


@dataclass
class RunningDockerd:
    """A daemon started by :func:`running_dockerd`; ``client(dir)`` is a CLI with that
    ``DOCKER_CONFIG``."""

    cli: Path
    host: str
    workdir: Path
    log_path: Path

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def client(self, config_dir: Path) -> DockerClient:
        config_dir.mkdir(parents=True, exist_ok=True)
        return DockerClient(cli=self.cli, host=self.host, config_dir=config_dir)


@contextlib.contextmanager
def running_dockerd(
    *, registry_mirror: str, startup_timeout: float = 15.0
) -> Iterator[RunningDockerd]:
    """Run ``dockerd`` with ``--registry-mirror=registry_mirror`` and yield it once
    ``docker info`` answers; stop it (it stops the containerd it started) and remove its files
    on exit. The directory is under /tmp: a Unix socket path must stay under 108 bytes."""
    found = find_docker()
    if found is None:
        raise DockerStartError("dockerd or docker not found, or not root")
    daemon, cli = found
    workdir = Path(tempfile.mkdtemp(prefix="iam-dockerd-", dir="/tmp"))
    host = f"unix://{workdir / 'docker.sock'}"
    log_path = workdir / "dockerd.log"
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            [
                str(daemon),
                "--data-root", str(workdir / "data"),
                "--exec-root", str(workdir / "exec"),
                "--pidfile", str(workdir / "docker.pid"),
                "-H", host,
                "--storage-driver=vfs",
                "--bridge=none",
                "--iptables=false",
                "--ip6tables=false",
                f"--registry-mirror={registry_mirror}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    running = RunningDockerd(cli=cli, host=host, workdir=workdir, log_path=log_path)
    probe = running.client(workdir / "probe")
    try:
        deadline = time.monotonic() + startup_timeout
        while probe.run("info", "--format", "{{.ServerVersion}}", timeout=10).returncode != 0:
            if process.poll() is not None:
                raise DockerStartError(
                    f"dockerd exited with status {process.returncode}:\n{running.log()[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise DockerStartError(
                    f"dockerd did not answer within {startup_timeout} s:\n{running.log()[-3000:]}"
                )
            time.sleep(0.1)
        yield running
    finally:
        stop(process, workdir, timeout=20)
