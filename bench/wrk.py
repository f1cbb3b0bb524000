"""One wrk run of one scenario, checked by ``bench/wrk/check.lua``."""

import json
import os
import resource
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.scenarios import Scenario

SCRIPT = Path(__file__).resolve().parent / "wrk" / "check.lua"
RESULT_PREFIX = "WRK_RESULT "


class WrkError(Exception):
    """wrk is missing, failed, or printed no result line."""


@dataclass(frozen=True)
class WrkResult:
    """What wrk and the check script counted during one run."""

    requests: int
    good: int
    failures: int  # answers that failed the check: wrong status, body or token
    socket_errors: int  # connect, read, write errors and timeouts
    tokens_checked: int
    check_every: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    first_failure: str
    cpu_seconds: float  # wrk's own user + system time

    @property
    def rps(self) -> float:
        return self.good / self.seconds


def executable() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise WrkError("wrk is not installed (Debian/Ubuntu: apt-get install wrk)")
    return path


def version() -> str:
    result = subprocess.run([executable(), "-v"], capture_output=True, text=True)
    return (result.stdout or result.stderr).splitlines()[0].split(" Copyright")[0]


def run(
    scenario: Scenario,
    url: str,
    *,
    seconds: float,
    connections: int,
    threads: int,
    check_every: int = 1,
) -> WrkResult:
    """Load ``url`` with the scenario's request for ``seconds``; every answer is checked."""
    command = [
        executable(),
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={seconds:g}s",
        "--timeout=10s",
        f"--script={SCRIPT}",
        url,
    ]
    env = {**os.environ, **scenario.wrk_env(check_every)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if done.returncode != 0 or not lines:
        raise WrkError(
            f"wrk failed ({done.returncode}) on {scenario.name}:\n{done.stdout}{done.stderr}"
        )
    data = json.loads(lines[-1].removeprefix(RESULT_PREFIX))
    latency = data["latency_us"]
    return WrkResult(
        requests=data["answers"],
        good=data["good"],
        failures=data["bad_status"] + data["bad_body"] + data["bad_token"],
        socket_errors=sum(
            data[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
        ),
        tokens_checked=data["tokens_checked"],
        check_every=data["check_every"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        first_failure=data["first_failure"],
        cpu_seconds=(after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
    )
