"""No starvation: valid token requests while a flood of wrong passwords hits the token service,
both through the shipped nginx configuration (deploy/nginx/iam-portal.conf, run by
:mod:`bench.proxy`), as a deployment receives them.

The valid requests come from 127.0.0.1 and the flood from ``[::1]``: two client addresses, as an
attacker and the registry's users are. The flood is a second wrk (``bench/wrk/flood.lua``, 30
connections by default) sending the OAuth2 POST with a wrong password at ``BENCH_FLOOD_RATE``
requests a second (default 5,000, about three times what the token service can answer; 0: as
fast as one wrk thread sends), in one of two kinds:

* ``one account``: always ``benchflood``, an account with a real, deliberately slow password
  hash. Before the rounds the account is locked by ``LOGIN_FAILURE_LIMIT`` wrong attempts, as a
  flood would do within its first second.
* ``rotating usernames``: a new made-up username on every request (``nx<random>``), which no
  account lock catches. Before the rounds the address's budget is spent by
  ``LOGIN_ADDRESS_FAILURE_LIMIT`` wrong attempts for made-up names.

nginx answers the flood's excess over its per-address limit (429, in the token protocol's JSON)
without involving a worker; what it lets through meets the portal's own refusals (429), which
cost no hashing once the account or the address is locked. Rounds of the measured scenario
alternate without and with the flood, and the report compares their req/s and p99.
"""

import http.client
import json
import os
import ssl
import statistics
import subprocess
import time
import urllib.parse
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
    rate: int = 0
    proxied: bool = False

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
        path = "through nginx, " if self.proxied else ""
        rate = f" at {self.rate:,}/s" if self.rate else ""
        return [
            f"{scenario} ({path}from 127.0.0.1) without the flood: {self.quiet_rps:,.0f} req/s, "
            f"p99 {p99[0]:.1f} ms; with {self.flood_connections} connections from [::1] sending "
            f"wrong passwords{rate} ({self.kind}): "
            f"{self.flooded_rps:,.0f} req/s, p99 {p99[1]:.1f} ms; ratio **{self.ratio:.2f}** "
            f"(median of {len(self.quiet)} rounds each)",
            f"the flood: {total / self.flood_seconds:,.0f} answers/s, {refused:,} of {total:,} "
            f"refused before any password check (429: by nginx's per-address limit, or by the "
            f"portal's lock); statuses {dict(sorted(self.flood_statuses.items()))}; the "
            f"{len(self.primed_statuses)} attempts that locked the account first answered "
            f"{sorted(set(self.primed_statuses))}",
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


def _post_through(url: str, body: str) -> int:
    """The status of one form POST to ``url``'s /auth/token over TLS (the proxy's certificate is
    self-signed: not verified)."""
    parts = urllib.parse.urlsplit(url)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=30, context=context)
    try:
        conn.request(
            "POST",
            "/auth/token",
            body=body.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def lock_the_account(
    server,
    *,
    username: str,
    service: str,
    attempts: int,
    rotate: bool = False,
    through: str | None = None,
) -> list[int]:
    """The wrong attempts that lock ``username``, or with ``rotate`` spend the address's budget
    with made-up usernames (each costs one real password check); sent to the server, or
    ``through`` the proxy at that URL (from the flood's address)."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    statuses = []
    for attempt in range(attempts):
        body = flood_form(username=f"nxprime{attempt}" if rotate else username, service=service)
        if through:
            statuses.append(_post_through(through, body))
        else:
            statuses.append(server.get("/auth/token", headers, "POST", body)[0])
    return statuses


def delay_ms(connections: int, rate: int) -> int:
    """Each connection's wait between requests (whole milliseconds, as wrk takes it) for about
    ``rate`` requests a second in all (0: no wait)."""
    return max(1, round(connections * 1000 / rate)) if rate else 0


def _start_flood(
    url: str,
    *,
    seconds: float,
    connections: int,
    username: str,
    service: str,
    rotate: bool,
    rate: int = 0,
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
        # Each connection waits this long before its next request: the flood's rate in all.
        "FLOOD_DELAY_MS": str(delay_ms(connections, rate)),
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
    flood_url: str | None = None,
    rate: int = 0,
) -> FloodResult:
    """Alternate rounds of ``scenario`` without and with the flood (``rotate``: of made-up
    usernames) sent to ``flood_url`` (default: the server); every answer is checked. The account
    (or the flood's address's budget) is locked first, from the flood's address, as the flood's
    first second would."""
    primed = lock_the_account(
        server,
        username=username,
        service=service,
        attempts=limit + 1,
        rotate=rotate,
        through=flood_url,
    )
    quiet, flooded, statuses, flood_seconds = [], [], {}, 0.0
    for _ in range(rounds):
        quiet.append(checked_run(scenario, round_seconds))
        process = _start_flood(
            flood_url or server.url,
            seconds=round_seconds + 2 * LEAD_SECONDS,
            connections=connections,
            username=username,
            service=service,
            rotate=rotate,
            rate=rate,
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
        rate=rate,
        proxied=flood_url is not None,
    )
