"""The measurements of a bench run and the figures derived from them (no I/O)."""

import statistics
from dataclasses import dataclass, replace

from bench.database import DbCounters
from bench.inprocess import InProcessResult
from bench.scenarios import Scenario
from bench.wrk import WrkResult

# Kernel work not charged to a process is a few percent; more means other jobs on the machine.
DISTURBED_SHARE = 0.15


@dataclass(frozen=True)
class Round:
    """One timed wrk run of one scenario, with who spent the CPU during it."""

    cycle: int
    scenario: str
    wrk: WrkResult
    gunicorn_cpu: float  # seconds: master + workers
    postgres_cpu: float  # seconds: the backends connected to the bench database
    machine_busy: float  # seconds of all CPUs together, from /proc/stat
    machine_capacity: float
    db: DbCounters  # pg_stat_database delta of the bench database over the round

    @property
    def other_cpu(self) -> float:
        """CPU seconds the machine spent outside wrk, gunicorn and the bench's backends."""
        return self.machine_busy - self.wrk.cpu_seconds - self.gunicorn_cpu - self.postgres_cpu

    @property
    def disturbed(self) -> bool:
        """Whether other work took a noticeable share of the machine during the round."""
        return self.other_cpu > DISTURBED_SHARE * self.machine_capacity


@dataclass(frozen=True)
class Summary:
    """One scenario over all its rounds.

    Throughput, latency percentiles (wrk reports them per run) and CPU per request are medians
    of the rounds' figures, which a round disturbed by other work on the machine hardly moves;
    database transactions per request are totals over total requests.
    ``ratio`` is the median over cycles of this scenario's req/s divided by the baseline's in
    the same cycle; ``cpu_ratio`` is the baseline's server CPU per request divided by this
    scenario's (the throughput ratio the server CPU alone would allow).
    """

    scenario: Scenario
    rounds: int
    requests: int
    tokens_checked: int
    rps: float
    rps_min: float
    rps_max: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    gunicorn_us: float
    postgres_us: float
    wrk_us: float
    wrk_core_share: float  # wrk's CPU time over wall time: the fraction of one core it used
    db_xacts: float  # committed transactions per request, counted by PostgreSQL
    new_sessions: int
    inprocess: InProcessResult
    ratio: float | None = None
    ratio_min: float | None = None
    ratio_max: float | None = None
    undisturbed_ratio: float | None = None  # the median over cycles where neither round was
    undisturbed_cycles: int = 0  # disturbed, when some rounds were and some cycles are clean
    cpu_ratio: float | None = None

    @property
    def server_us(self) -> float:
        return self.gunicorn_us + self.postgres_us


def summarize(
    scenarios: list[Scenario], rounds: list[Round], inprocess: dict[str, InProcessResult]
) -> list[Summary]:
    """One summary per scenario, with ratios to the baseline scenario."""
    summaries = [
        _summary(s, [r for r in rounds if r.scenario == s.name], inprocess[s.name])
        for s in scenarios
    ]
    baseline = next((s for s in summaries if s.scenario.baseline), None)
    if baseline is None:
        return summaries
    base = {r.cycle: r for r in rounds if r.scenario == baseline.scenario.name}
    with_ratios = []
    for summary in summaries:
        if summary.scenario.baseline:
            with_ratios.append(summary)
            continue
        pairs = [
            (r, base[r.cycle])
            for r in rounds
            if r.scenario == summary.scenario.name and r.cycle in base
        ]
        ratios = [r.wrk.rps / b.wrk.rps for r, b in pairs]
        clean = [r.wrk.rps / b.wrk.rps for r, b in pairs if not (r.disturbed or b.disturbed)]
        some_disturbed = len(clean) < len(ratios)
        with_ratios.append(
            replace(
                summary,
                ratio=statistics.median(ratios),
                ratio_min=min(ratios),
                ratio_max=max(ratios),
                undisturbed_ratio=statistics.median(clean) if clean and some_disturbed else None,
                undisturbed_cycles=len(clean),
                cpu_ratio=baseline.server_us / summary.server_us,
            )
        )
    return with_ratios


def _summary(scenario: Scenario, rounds: list[Round], inprocess: InProcessResult) -> Summary:
    good = sum(r.wrk.good for r in rounds)
    rps = [r.wrk.rps for r in rounds]
    wall = sum(r.wrk.seconds for r in rounds)
    db = [r.db for r in rounds]
    return Summary(
        scenario=scenario,
        rounds=len(rounds),
        requests=good,
        tokens_checked=sum(r.wrk.tokens_checked for r in rounds),
        rps=statistics.median(rps),
        rps_min=min(rps),
        rps_max=max(rps),
        p50_ms=statistics.median(r.wrk.p50_ms for r in rounds),
        p90_ms=statistics.median(r.wrk.p90_ms for r in rounds),
        p99_ms=statistics.median(r.wrk.p99_ms for r in rounds),
        gunicorn_us=statistics.median(r.gunicorn_cpu / r.wrk.good for r in rounds) * 1e6,
        postgres_us=statistics.median(r.postgres_cpu / r.wrk.good for r in rounds) * 1e6,
        wrk_us=statistics.median(r.wrk.cpu_seconds / r.wrk.good for r in rounds) * 1e6,
        wrk_core_share=sum(r.wrk.cpu_seconds for r in rounds) / wall,
        db_xacts=sum(d.xact_commit for d in db) / good,
        new_sessions=sum(d.sessions for d in db),
        inprocess=inprocess,
    )
