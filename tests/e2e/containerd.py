"""containerd as a second registry client: a private daemon (its own root, state and socket in
a temporary directory) and ``ctr content fetch``, which signs in the way kubelet, BuildKit and
nerdctl do (the OAuth2 ``POST`` first, ``GET`` only after a 400/401/404/405)."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.processes import stop

__all__ = ["ContainerdStartError", "RunningContainerd", "find_containerd", "running_containerd"]


class ContainerdStartError(RuntimeError):
    """containerd did not come up (exited, or no socket in time)."""


def find_containerd() -> tuple[Path, Path] | None:
    """``(containerd, ctr)``, or None if either is missing."""
    daemon, ctr = shutil.which("containerd"), shutil.which("ctr")
    return (Path(daemon), Path(ctr)) if daemon and ctr else None


@dataclass
class RunningContainerd:
    """A daemon started by :func:`running_containerd`; ``fetch`` runs ``ctr content fetch``."""

    ctr: Path
    socket: Path
    log_path: Path

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def fetch(
        self, reference: str, user: str | None, hosts_dir: Path | None = None
    ) -> subprocess.CompletedProcess:
        """Fetch ``reference``'s manifest and blobs over plain HTTP as ``user`` (USER:SECRET;
        None: anonymously) into the content store, without unpacking (no snapshotter needed).
        With ``hosts_dir``, the registry's ``hosts.toml`` there says where to fetch from (a
        mirror), as on a Kubernetes node."""
        where = ["--hosts-dir", str(hosts_dir)] if hosts_dir else ["--plain-http"]
        who = ["--user", user] if user else []
        return subprocess.run(
            [
                str(self.ctr),
                "--address",
                str(self.socket),
                "content",
                "fetch",
                *where,
                *who,
                reference,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            stdin=subprocess.DEVNULL,
        )

    def has_blob(self, digest: str) -> bool:
        """Whether the content store holds ``digest`` (e.g. a pulled manifest)."""
        result = subprocess.run(
            [str(self.ctr), "--address", str(self.socket), "content", "get", digest],
            capture_output=True,
            timeout=30,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        return result.returncode == 0


@contextlib.contextmanager
def running_containerd(startup_timeout: float = 15.0) -> Iterator[RunningContainerd]:
    """Run ``containerd`` as a private daemon and yield it; stop it and remove its files on
    exit. The directory is made under /tmp, not pytest's deeper one, because a Unix socket
    path must stay under 108 bytes. The CRI plugin (kubelet's API) is not loaded: fetching
    does not need it."""
    found = find_containerd()
    if found is None:
        raise ContainerdStartError("containerd or ctr not found")
    daemon, ctr = found
    workdir = Path(tempfile.mkdtemp(prefix="iam-ctrd-", dir="/tmp"))
    socket = workdir / "containerd.sock"
    config = workdir / "config.toml"
    config.write_text(
        "version = 2\n"
        f'root = "{workdir / "root"}"\n'
        f'state = "{workdir / "state"}"\n'
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
        "[grpc]\n"
        f'  address = "{socket}"\n'
    )
    log_path = workdir / "containerd.log"
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            [str(daemon), "--config", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    running = RunningContainerd(ctr=ctr, socket=socket, log_path=log_path)
    try:
        deadline = time.monotonic() + startup_timeout
        while not socket.exists():
            if process.poll() is not None:
                raise ContainerdStartError(
                    f"containerd exited with status {process.returncode}:\n{running.log()[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise ContainerdStartError(f"no containerd socket after {startup_timeout} s")
            time.sleep(0.05)
        yield running
    finally:
        stop(process, workdir, timeout=10)
