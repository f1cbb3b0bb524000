"""What `make bench` prints: the machine, each round, the results, and a Markdown summary."""

import datetime as dt
import os
import platform
from dataclasses import dataclass

from bench.results import Round, Summary

QUERY_TARGET = 3  # at most this many queries per pull decision, whatever the data


@dataclass(frozen=True)
class Machine:
    """Where the figures come from."""

    date: str
    cpus: int
    cpu_model: str
    kernel: str
    python: str
    postgresql: str
    wrk: str

    @classmethod
    def describe(cls, *, postgresql: str, wrk: str) -> "Machine":
        return cls(
            date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            cpus=os.cpu_count() or 0,
            cpu_model=_cpu_model(),
            kernel=f"{platform.system()} {platform.release()}",
            python=platform.python_version(),
            postgresql=postgresql,
            wrk=wrk,
        )

    def line(self) -> str:
        return (
            f"{self.date}; {self.cpus} CPUs ({self.cpu_model}), {self.kernel}, "
            f"Python {self.python}, PostgreSQL {self.postgresql}, {self.wrk}"
        )


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def say(text: str = "") -> None:
    print(text, flush=True)


def heading(text: str) -> None:
    say()
    say(f"== {text} ==")


ROUND_HEADER = (
    f"{'cycle':>5} {'scenario':<16} {'req/s':>7} {'requests':>8} {'checked':>8} "
    f"{'p50 ms':>7} {'p99 ms':>7}  CPU s: {'wrk':>5} {'gunicorn':>8} {'postgres':>8} "
    f"{'other':>6} {'idle':>5}  {'DB xact':>8}"
)


def round_line(r: Round) -> str:
    w = r.wrk
    idle = r.machine_capacity - r.machine_busy
    return (
        f"{r.cycle:>5} {r.scenario:<16} {w.rps:>7,.0f} {w.good:>8,} {w.tokens_checked:>8,} "
        f"{w.p50_ms:>7.2f} {w.p99_ms:>7.2f}         {w.cpu_seconds:>5.2f} {r.gunicorn_cpu:>8.2f} "
        f"{r.postgres_cpu:>8.2f} {r.other_cpu:>6.2f} {idle:>5.2f}  {r.db.xact_commit:>8,}"
        + ("  (disturbed)" if r.disturbed else "")
    )


def results_table(summaries: list[Summary]) -> list[str]:
    lines = [
        f"{'scenario':<16} {'req/s':>7} {'range':>13} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7}"
        f"  CPU µs/request: {'gunicorn':>8} {'postgres':>8} {'wrk':>5}  {'queries':>7} "
        f"{'DB xact':>7}"
    ]
    for s in summaries:
        lines.append(
            f"{s.scenario.name:<16} {s.rps:>7,.0f} {s.rps_min:>6,.0f}-{s.rps_max:<6,.0f} "
            f"{s.p50_ms:>7.2f} {s.p90_ms:>7.2f} {s.p99_ms:>7.2f}  {'':>15} "
            f"{s.gunicorn_us:>8,.0f} {s.postgres_us:>8,.0f} {s.wrk_us:>5,.0f}  "
            f"{len(s.inprocess.queries):>7} {s.db_xacts:>7.2f}"
        )
    return lines


def ratio_lines(summaries: list[Summary]) -> list[str]:
    baseline = next(s for s in summaries if s.scenario.baseline)
    lines = []
    for s in summaries:
        if s.ratio is None:
            continue
        clean = (
            ""
            if s.undisturbed_ratio is None
            else f", {s.undisturbed_ratio:.3f} over the {s.undisturbed_cycles} undisturbed"
        )
        lines.append(
            f"{s.scenario.name}/{baseline.scenario.name}: throughput ratio {s.ratio:.3f} "
            f"(median of {s.rounds} cycles, range {s.ratio_min:.3f}-{s.ratio_max:.3f}{clean}); "
            f"server CPU per request {s.server_us:,.0f} µs vs {baseline.server_us:,.0f} µs, "
            f"CPU ratio {s.cpu_ratio:.3f}"
        )
    return lines


def query_lines(summaries: list[Summary]) -> list[str]:
    lines = []
    for s in summaries:
        steady = len(s.inprocess.queries)
        verdict = ""
        if s.scenario.expect_grant is not None:
            met = "met" if steady <= QUERY_TARGET else "NOT met"
            verdict = f"; target <= {QUERY_TARGET} per decision: {met}"
        lines.append(
            f"{s.scenario.name}: {steady} SQL queries per request in-process (first request "
            f"{s.inprocess.first_queries}); {s.db_xacts:.2f} committed transactions per request "
            f"counted by PostgreSQL during the rounds ({s.new_sessions} new sessions){verdict}"
        )
    return lines


def markdown(machine: Machine, setup: str, summaries: list[Summary], notes: list[str]) -> list[str]:
    """A summary to paste into bench/RESULTS.md: the table, then ``notes`` as a list."""
    baseline = next(s for s in summaries if s.scenario.baseline)
    lines = [
        f"Measured {machine.line()}.",
        f"Setup: {setup}.",
        "",
        f"| scenario | req/s (median) | ratio to {baseline.scenario.name} | p50 ms | p99 ms "
        "| server CPU µs/request (gunicorn + PostgreSQL) | CPU ratio "
        "| queries/request (DB xacts) | wrk CPU µs/request |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for s in summaries:
        ratio = "1" if s.ratio is None else f"**{s.ratio:.2f}**"
        cpu_ratio = "1" if s.cpu_ratio is None else f"{s.cpu_ratio:.2f}"
        lines.append(
            f"| {s.scenario.description} | {s.rps:,.0f} | {ratio} | {s.p50_ms:.2f} "
            f"| {s.p99_ms:.2f} | {s.server_us:,.0f} ({s.gunicorn_us:,.0f} + {s.postgres_us:,.0f}) "
            f"| {cpu_ratio} | {len(s.inprocess.queries)} ({s.db_xacts:.2f}) | {s.wrk_us:,.0f} |"
        )
    return [*lines, "", *(f"- {note}" for note in notes)]
