"""What recording pull decisions costs the token service, side by side in one run.

Three servers started the same way (`make serve`'s gunicorn) differ only in the decision log:
``queued`` (the default: rows written by each worker's own thread, at most every
``DECISION_LOG_FLUSH_SECONDS``), ``before each answer`` (``DECISION_LOG_FLUSH_SECONDS=0``: one
INSERT per request, no token if it fails) and ``off`` (``DECISION_LOG_ENABLED=false``). Rounds
of the token scenario alternate between them; the report gives req/s, server CPU per request and
the ratio of each to ``off`` within each cycle, their median and range (the aim: at least 0.9
for the default).
"""

import statistics
from dataclasses import dataclass, field

from bench import procstat
from bench.server import Gunicorn

MODES = {
    "queued": {},
    "before each answer": {"DECISION_LOG_FLUSH_SECONDS": "0"},
    "off": {"DECISION_LOG_ENABLED": "false"},
}


@dataclass
class ModeResult:
    rps: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)
    gunicorn_us: list[float] = field(default_factory=list)
    postgres_us: list[float] = field(default_factory=list)

    @property
    def median_rps(self) -> float:
        return statistics.median(self.rps)

    @property
    def median_cpu_us(self) -> float:
        return statistics.median(self.cpu_us)

    @property
    def cpu_split(self) -> str:
        """Median CPU per request of gunicorn and of PostgreSQL, as "gunicorn + postgres"."""
        return (
            f"{statistics.median(self.gunicorn_us):,.0f} + "
            f"{statistics.median(self.postgres_us):,.0f}"
        )


def run(*, env, tmp, scenario, checked_run, rounds, round_seconds, dbname):
    """``{mode: ModeResult}``: ``rounds`` cycles of one round per mode, order alternating, each
    mode on a server of its own started for this phase (the run's main server has by then been
    through every scenario, the many-organisations one's 50 rows per request included, and
    would not be comparable with fresh ones)."""
    results = {mode: ModeResult() for mode in MODES}
    servers = {}
    try:
        for mode, overrides in MODES.items():
            log_dir = tmp / mode.replace(" ", "-")
            log_dir.mkdir()
            servers[mode] = Gunicorn(env={**env, **overrides}, log_dir=log_dir).__enter__()
        for server in servers.values():
            checked_run(server, scenario, 1.0)  # warm up each worker's connection and key
        for cycle in range(rounds):
            order = list(MODES) if cycle % 2 == 0 else list(reversed(MODES))
            for mode in order:
                server = servers[mode]
                with procstat.CpuMeter(server.proc.pid, dbname) as meter:
                    result = checked_run(server, scenario, round_seconds)
                cpu = meter.seconds()
                results[mode].rps.append(result.rps)
                per_request = {
                    part: cpu[part] / result.good * 1e6 for part in ("gunicorn", "postgres")
                }
                results[mode].gunicorn_us.append(per_request["gunicorn"])
                results[mode].postgres_us.append(per_request["postgres"])
                results[mode].cpu_us.append(per_request["gunicorn"] + per_request["postgres"])
    finally:
        for server in servers.values():
            server.__exit__(None, None, None)
    return results


def ratios(result: ModeResult, off: ModeResult) -> list[float]:
    """The mode's throughput over off's, cycle by cycle (rounds of one cycle run side by side,
    so a drift of the machine between cycles cancels out)."""
    return [rps / off_rps for rps, off_rps in zip(result.rps, off.rps, strict=True)]


def lines(results: dict[str, ModeResult], scenario: str) -> list[str]:
    off = results["off"]
    parts = []
    for mode, result in results.items():
        if mode == "off":
            continue
        cycles = ratios(result, off)
        parts.append(
            f"{mode}: {result.median_rps:,.0f} req/s, {result.median_cpu_us:,.0f} µs server CPU "
            f"per request ({result.cpu_split}), "
            f"**{statistics.median(cycles):.2f}x** the throughput of off "
            f"(range {min(cycles):.2f}-{max(cycles):.2f})"
        )
    return [
        f"decision log, {scenario} (medians of {len(off.rps)} cycles; off: "
        f"{off.median_rps:,.0f} req/s, {off.median_cpu_us:,.0f} µs ({off.cpu_split})): "
        + "; ".join(parts)
    ]


def round_lines(results: dict[str, ModeResult]) -> list[str]:
    """One line per round: cycle, mode, req/s, server CPU per request (gunicorn + PostgreSQL)."""
    out = [f"{'cycle':>5} {'mode':<20} {'req/s':>7}  server CPU µs/request (gunicorn + postgres)"]
    for cycle in range(len(results["off"].rps)):
        for mode, result in results.items():
            out.append(
                f"{cycle + 1:>5} {mode:<20} {result.rps[cycle]:>7,.0f}  "
                f"{result.cpu_us[cycle]:,.0f} ({result.gunicorn_us[cycle]:,.0f} + "
                f"{result.postgres_us[cycle]:,.0f})"
            )
    return out
