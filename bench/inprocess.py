"""Scenarios run in this process through Django's test ``Client`` (needs django.setup()).

No HTTP and no gunicorn: the whole middleware stack and view on the bench database, with the
SQL of each request captured. That gives the queries per request exactly, and the cost of the
application itself next to what the server-side rounds measure.
"""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.scenarios import Scenario, answer_problem


class CheckFailed(Exception):
    """An answer did not pass its scenario's check."""


@dataclass(frozen=True)
class InProcessResult:
    """One scenario measured in-process."""

    scenario: str
    first_queries: int
    queries: list[dict]
    median_us: float
    cpu_us: float
    samples: int


def send(client: Client, scenario: Scenario):
    """The scenario's request through the test client (the Host that the settings allow)."""
    headers = {k: v for k, v in scenario.headers.items() if k.lower() != "content-type"}
    content_type = scenario.headers.get("Content-Type", "application/octet-stream")
    return client.generic(
        scenario.method,
        scenario.path,
        data=scenario.body.encode(),
        content_type=content_type,
        headers=headers,
        HTTP_HOST="127.0.0.1",
    )


def measure(
    scenario: Scenario, claims_of: Callable[[str], dict], budget: float = 1.5
) -> InProcessResult:
    """Queries of the first and of a steady-state request, then the median wall time and mean
    CPU time of up to 500 requests within ``budget`` seconds."""
    client = Client()
    captured = []
    for _ in range(2):  # the first may write (a token's last-use time, once a minute)
        with CaptureQueriesContext(connection) as queries:
            response = send(client, scenario)
        problem = answer_problem(scenario, response.status_code, response.content, claims_of)
        if problem:
            raise CheckFailed(f"{scenario.name} (in-process): {problem}")
        captured.append(list(queries.captured_queries))

    times = []
    stop = time.monotonic() + budget
    cpu_started = time.process_time()
    while len(times) < 500 and time.monotonic() < stop:
        started = time.perf_counter_ns()
        send(client, scenario)
        times.append((time.perf_counter_ns() - started) / 1000)
    cpu_us = (time.process_time() - cpu_started) / len(times) * 1e6
    return InProcessResult(
        scenario=scenario.name,
        first_queries=len(captured[0]),
        queries=captured[1],
        median_us=statistics.median(times),
        cpu_us=cpu_us,
        samples=len(times),
    )
