"""The owners' activity pages over a million recorded decisions, in-process (Django's test client,
signed in as acme's owner): render time (p50/p99) and SQL queries per request for each view.

The summary at the top of the page is cached for a minute, so the first request of a view pays
for it and the rest do not: p99 shows the first, p50 the rest.
"""

import statistics
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bench import dataset

RUNS = 20


def _views(org: str) -> list[tuple[str, str, dict, int]]:
    """``(label, url, query, runs)``."""
    page = reverse("activity:activity", kwargs={"org": org})
    csv = reverse("activity:activity_csv", kwargs={"org": org})
    today = timezone.now().date()
    month = {"since": (today - timedelta(days=30)).isoformat(), "until": today.isoformat()}
    return [
        ("page", page, {}, RUNS),
        ("page, one member", page, {"member": "member00042"}, RUNS),
        ("page, blocked only", page, {"outcome": "blocked"}, RUNS),
        ("page, last 30 days", page, month, RUNS),
        ("page, image contains 'redis'", page, {"image": "redis"}, RUNS),
        ("page, image matching nothing", page, {"image": "nothing-like-this"}, 5),
        ("CSV, one member, last 30 days", csv, {"member": "member00042", **month}, 5),
        ("CSV, everything (1,000,000 rows)", csv, {}, 1),
    ]


def measure() -> list[str]:
    """One line per view, plus the data set's size."""
    owner = get_user_model().objects.get(username=dataset.OWNER)
    client = Client(HTTP_HOST="127.0.0.1")  # the bench server's ALLOWED_HOSTS
    client.force_login(owner)
    cache.clear()
    lines = []
    for label, url, query, runs in _views(dataset.ORG):
        timings, counts, sizes = [], [], []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url, query)
                body = (
                    b"".join(response.streaming_content) if response.streaming else response.content
                )
                timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{label}: {response.status_code} {body[:200]!r}")
            counts.append(len(queries))
            sizes.append(len(body))
        p50 = statistics.median(timings)
        p99 = max(timings) if len(timings) < 100 else statistics.quantiles(timings, n=100)[98]
        lines.append(
            f"activity {label}: p50 {p50:,.0f} ms, p99 {p99:,.0f} ms, "
            f"{'-'.join(str(n) for n in sorted(set(counts)))} queries, "
            f"{statistics.median(sizes) / 1024:,.0f} KiB [n={runs}]"
        )
    return lines
