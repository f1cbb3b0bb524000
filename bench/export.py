"""Isolation: token requests while a CSV export of a million recorded decisions streams.

A node runs two gunicorn pools (gunicorn.conf.py): the web pool and the token pool, to which the
shipped nginx configuration sends ``/auth/token`` only. After a warm-up, the measured scenario
runs in pairs of rounds without and with an export of acme's whole activity
(``/orgs/acme/activity.csv``, signed in as its owner) streaming from the web pool, read as fast
as the client can; an export that ends before the round is started again. The same rounds run
against the web pool itself, as when one pool served everything, for comparison. The report
gives the token requests' p99 and req/s without and with the export, and their ratio.
"""

import http.client
import statistics
import threading
import time
from dataclasses import dataclass

from bench import wrk

LEAD_SECONDS = 1.0  # the export streams this long before the measured round starts
WARM_UP_SECONDS = 2.0  # a new pool's workers first open their connections, prepare statements
CHUNK = 256 * 1024


class ExportError(Exception):
    """The export did not answer 200 with CSV."""


class Export:
    """An export streaming from ``port`` in a thread of its own, started again when it ends,
    until :meth:`stop`."""

    def __init__(self, *, port: int, path: str, cookie: str):
        self.port, self.path, self.cookie = port, path, cookie
        self.bytes = 0
        self.completed = 0
        self.error: str | None = None
        self._streaming = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Export":
        self._thread.start()
        if not self._streaming.wait(timeout=60) or self.error:
            self.stop()
            raise ExportError(self.error or "the export did not start streaming within 60 s")
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stopped.is_set():
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            try:
                connection.request("GET", self.path, headers={"Cookie": self.cookie})
                response = connection.getresponse()
                kind = response.getheader("Content-Type", "")
                if response.status != 200 or not kind.startswith("text/csv"):
                    self.error = f"{self.path}: {response.status} {kind} {response.read(300)!r}"
                    self._streaming.set()
                    return
                while not self._stopped.is_set():
                    chunk = response.read1(CHUNK)
                    if not chunk:
                        self.completed += 1
                        break
                    self.bytes += len(chunk)
                    self._streaming.set()
            except OSError as error:
                self.error = f"{self.path}: {error}"
                self._streaming.set()
                return
            finally:
                connection.close()  # mid-export: the worker's next write fails and it moves on


@dataclass(frozen=True)
class Comparison:
    """The rounds of one target (a pool) without and with the export."""

    target: str
    quiet: list[wrk.WrkResult]
    exporting: list[wrk.WrkResult]
    export_mib_s: float

    @staticmethod
    def _p99(results) -> float:
        return statistics.median(r.p99_ms for r in results)

    @staticmethod
    def _rps(results) -> float:
        return statistics.median(r.rps for r in results)

    @property
    def ratio(self) -> float:
        """p99 with the export over p99 without (goal: at most 1.5 on the token pool)."""
        return self._p99(self.exporting) / self._p99(self.quiet)

    def line(self, scenario: str) -> str:
        return (
            f"{scenario} on {self.target}: without an export {self._rps(self.quiet):,.0f} req/s, "
            f"p99 {self._p99(self.quiet):.1f} ms; while the million-row CSV export streams "
            f"({self.export_mib_s:.1f} MiB/s) {self._rps(self.exporting):,.0f} req/s, "
            f"p99 {self._p99(self.exporting):.1f} ms; p99 ratio **{self.ratio:.2f}** "
            f"(median of {len(self.quiet)} rounds each)"
        )


def compare(
    *,
    target: str,
    server,
    web_port: int,
    path: str,
    cookie: str,
    scenario,
    checked_run,
    rounds: int,
    round_seconds: float,
) -> Comparison:
    """After a warm-up, pairs of rounds of ``scenario`` on ``server`` without and with the export
    streaming from the web pool on ``web_port``, in alternating order (so that a drift of the
    shared machine favours neither); every answer is checked."""
    quiet, exporting, mib_s = [], [], []
    checked_run(server, scenario, WARM_UP_SECONDS)
    for number in range(rounds):
        if number % 2 == 0:
            quiet.append(checked_run(server, scenario, round_seconds))
        with Export(port=web_port, path=path, cookie=cookie) as export:
            time.sleep(LEAD_SECONDS)
            started, before = time.monotonic(), export.bytes
            exporting.append(checked_run(server, scenario, round_seconds))
            mib_s.append((export.bytes - before) / (time.monotonic() - started) / 2**20)
            if export.error:
                raise ExportError(export.error)
        if number % 2 == 1:
            quiet.append(checked_run(server, scenario, round_seconds))
    return Comparison(
        target=target, quiet=quiet, exporting=exporting, export_mib_s=statistics.median(mib_s)
    )
