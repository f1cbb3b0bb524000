"""No starvation: valid token requests while a flood of wrong passwords hits the token service.

The flood is a second wrk (``bench/wrk/flood.lua``, 30 connections by default) sending the
OAuth2 POST with a wrong password, in one of two kinds:

* ``one account``: always ``benchflood``, an account with a real, deliberately slow password
  hash. Before the rounds the account is locked by ``LOGIN_FAILURE_LIMIT`` wrong attempts, as a
  flood would do within its first second.
* ``rotating usernames``: a new made-up username on every request (``nx<random>``), which no
  account lock catches. Before the rounds the address's budget is spent by
  ``LOGIN_ADDRESS_FAILURE_LIMIT`` wrong attempts for made-up names.

From then on the flood meets refusals (429) that cost no hashing. Rounds of the measured
scenario alternate without and with the flood, and the report compares their req/s and p99.
"""

import json
import os
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from bench import wrk
from bench.scenarios import Scenario

SCRIPT = Path(__file__).resolve().parent / "wrk" / "flood.lua"
RESULT_PREFIX = "FLOOD_RESULT "
LEAD_SECONDS = 1.0  # the flood starts this long before the measured round, and ends after it


@dataclass(frozen=True)
class FloodResult:
    quiet: list[wrk.WrkResult]
    flooded: list[wrk.WrkResult]
    flood_statuses: dict[int, int]
    flood_seconds: float
    flood_connections: int
    primed_statuses: list[int]
    kind: str = "one account"

    @property
    def quiet_rps(self) -> float:
        return statistics.median(r.rps for r in self.quiet)

    @property
    def flooded_rps(self) -> float:
        return statistics.median(r.rps for r in self.flooded)

    @property
    def ratio(self) -> float:
        return self.flooded_rps / self.quiet_rps

    def lines(self, scenario: str) -> list[str]:
        refused = self.flood_statuses.get(429, 0)
        total = sum(self.flood_statuses.values())
        p99 = (
            statistics.median(r.p99_ms for r in self.quiet),
            statistics.median(r.p99_ms for r in self.flooded),
        )
        return [
            f"{scenario} without the flood: {self.quiet_rps:,.0f} req/s, p99 {p99[0]:.1f} ms; "
            f"with {self.flood_connections} connections sending wrong passwords "
            f"({self.kind}): "
            f"{self.flooded_rps:,.0f} req/s, p99 {p99[1]:.1f} ms; ratio **{self.ratio:.2f}** "
            f"(median of {len(self.quiet)} rounds each)",
            f"the flood: {total / self.flood_seconds:,.0f} answers/s, {refused:,} of {total:,} "
            f"refused before any password check (429); the {len(self.primed_statuses)} attempts "
            f"that locked the account answered {sorted(set(self.primed_statuses))}",
        ]


def flood_form(*, username: str, service: str) -> str:
    return urlencode(
        {
            "grant_type": "password",
            "username": username,
            "password": "wrong-password",
            "service": service,
            "client_id": "flood",
            "scope": "repository:library/alpine:pull",
        }
    )


def lock_the_account(
    server, *, username: str, service: str, attempts: int, rotate: bool = False
) -> list[int]:
    """The wrong attempts that lock ``username``, or with ``rotate`` spend the address's budget
    with made-up usernames (each costs one real password check)."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return [
        server.get(
            "/auth/token",
            headers,
            "POST",
            flood_form(username=f"nxprime{attempt}" if rotate else username, service=service),
        )[0]
        for attempt in range(attempts)
    ]


def _start_flood(
    url: str, *, seconds: float, connections: int, username: str, service: str, rotate: bool
):
    command = [
        wrk.executable(),
        "--threads=1",
        f"--connections={connections}",
        f"--duration={seconds:g}s",
        "--timeout=10s",
        f"--script={SCRIPT}",
        url,
    ]
    env = {
        **os.environ,
        "FLOOD_USER": username,
        "FLOOD_SERVICE": service,
        "FLOOD_ROTATE": "1" if rotate else "0",
    }
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _flood_result(process) -> dict:
    out, err = process.communicate(timeout=120)
    lines = [line for line in out.splitlines() if line.startswith(RESULT_PREFIX)]
    if process.returncode != 0 or not lines:
        raise wrk.WrkError(f"the flood's wrk failed ({process.returncode}):\n{out}{err}")
    return json.loads(lines[-1].removeprefix(RESULT_PREFIX))


def run(
    *,
    server,
    scenario: Scenario,
    checked_run,
    rounds: int,
    round_seconds: float,
    connections: int,
    username: str,
    service: str,
    limit: int,
    rotate: bool = False,
) -> FloodResult:
    """Alternate rounds of ``scenario`` without and with the flood (``rotate``: of made-up
    usernames); every answer is checked."""
    primed = lock_the_account(
        server, username=username, service=service, attempts=limit + 1, rotate=rotate
    )
    quiet, flooded, statuses, flood_seconds = [], [], {}, 0.0
    for _ in range(rounds):
        quiet.append(checked_run(scenario, round_seconds))
        process = _start_flood(
            server.url,
            seconds=round_seconds + 2 * LEAD_SECONDS,
            connections=connections,
            username=username,
            service=service,
            rotate=rotate,
        )
        time.sleep(LEAD_SECONDS)
        flooded.append(checked_run(scenario, round_seconds))
        data = _flood_result(process)
        for status, count in data["statuses"].items():
            statuses[int(status)] = statuses.get(int(status), 0) + count
        flood_seconds += data["seconds"]
    return FloodResult(
        quiet=quiet,
        flooded=flooded,
        flood_statuses=statuses,
        flood_seconds=flood_seconds,
        flood_connections=connections,
        primed_statuses=primed,
        kind="rotating usernames" if rotate else "one account",
    )
