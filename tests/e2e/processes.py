"""Helpers shared by the end-to-end daemons (dockerd, containerd)."""

import shutil
import subprocess
from pathlib import Path


def stop(process: subprocess.Popen, workdir: Path, timeout: float) -> None:
    """Stop a daemon (SIGTERM, then SIGKILL after ``timeout`` seconds) and remove its files."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    shutil.rmtree(workdir, ignore_errors=True)
