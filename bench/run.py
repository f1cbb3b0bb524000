"""`make bench`: the scenarios of bench/scenarios.py side by side, under `make serve`'s gunicorn
on PostgreSQL, loaded by wrk.

Phases: prepare the database -> configure (migrate, signing keys, collectstatic, Django in this
process) -> seed -> in-process measurements (queries per request, SQL) -> start gunicorn with
gunicorn.conf.py -> preflight (one strictly verified answer per scenario) -> rounds -> report.

Rounds come in cycles, one round per scenario, in alternating order (A B C, C B A, ...) so that
a drift of the shared machine does not favour one scenario; ratios are taken within a cycle.
Every answer is checked by bench/wrk/check.lua; one failed check fails the bench.

Configuration (environment):
  BENCH_DATABASE_URL    postgres://postgres@127.0.0.1:5432/iam_bench (created if missing)
  BENCH_ROUNDS          cycles (5); quick run: BENCH_ROUNDS=1 BENCH_ROUND_SECONDS=2
  BENCH_ROUND_SECONDS   length of one round (8)
  BENCH_CONNECTIONS     wrk connections (8: enough to keep 3 sync workers busy)
  BENCH_THREADS         wrk threads (1)
  BENCH_CHECK_EVERY     decode the JWT of every Nth token answer (1: all of them)
  BENCH_MEMBERS         members of the organisation acme (10000)
  BENCH_ORGS            organisations of the user benchmulti (50)
  BENCH_SCENARIOS       names of the scenarios to run, comma-separated (all)
  BENCH_FLOOD_ROUNDS    pairs of rounds without/with a wrong-password flood (3; 0: none)
  BENCH_FLOOD_CONNECTIONS  connections of the flood (30)
  BENCH_FLOOD_RATE      the flood's requests a second, sent through nginx (5000; 0: unthrottled)
  BENCH_RECORDING_ROUNDS  cycles of the decision-log comparison (9; 0: none)
  BENCH_RECORDING_ROUND_SECONDS  length of its rounds (4: shorter rounds, more cycles, so that
                        the rounds compared within a cycle are closer in time)
  BENCH_ACTIVITY        1: seed a million decisions and time the activity pages (1; 0: skip)
  BENCH_EXPORT_ROUNDS   pairs of rounds without/with a million-row CSV export streaming, on
                        the token pool and on the web pool (5; 0: none: the p99 of one 8 s round
                        varies by a third from one round to the next on 2 CPUs)
  WEB_CONCURRENCY       gunicorn workers of the web pool, read by gunicorn.conf.py as in
                        `make serve` (3)
  TOKEN_WORKERS         gunicorn workers of the token pool (2)

After the cycles: the no-starvation phase (bench/flood.py: the token scenario without and with a
flood of wrong passwords), the decision-log phase (bench/recording.py: the token scenario on
servers that record decisions queued, before each answer, or not at all), and the activity pages
over a million recorded decisions (bench/activity.py, in-process), and the isolation phase
(bench/export.py: the token scenario on the token pool, and for comparison on the web pool,
without and with a million-row CSV export streaming from the web pool).
"""

import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import database, export, flood, procstat, recording, report, wrk  # noqa: E402
from bench.report import heading, say  # noqa: E402
from bench.results import DISTURBED_SHARE, Round, Summary, summarize  # noqa: E402
from bench.scenarios import HEALTHZ, Grant, Scenario, answer_problem, token_scenario  # noqa: E402
from bench.server import Gunicorn, ServerError  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/iam_bench"
WARM_UP_SECONDS = 1.0


class BenchError(Exception):
    """A failure with a message meant for the user; exits non-zero."""


@dataclass
class Vacuums:
    """The bench's own ``VACUUM (ANALYZE)`` runs of the decision log, between cycles and before
    each later phase (see :func:`bench.database.vacuum_decision_log`), and their cost."""

    url: str
    seconds: list[float] = field(default_factory=list)

    def run(self) -> None:
        self.seconds.append(database.vacuum_decision_log(self.url))

    def line(self) -> str:
        return (
            f"maintenance: the decision log vacuumed and analysed {len(self.seconds)} times "
            f"between cycles and phases, outside the rounds ({sum(self.seconds):.1f}s in all, "
            f"at most {max(self.seconds, default=0):.1f}s at a time)"
        )


@dataclass(frozen=True)
class Config:
    """The run's knobs, from the environment (see the module docstring)."""

    database_url: str
    rounds: int
    round_seconds: float
    connections: int
    threads: int
    check_every: int
    members: int
    orgs: int
    only: frozenset[str]
    workers: int
    flood_rounds: int
    flood_connections: int
    flood_rate: int
    recording_rounds: int
    recording_round_seconds: float
    activity: bool
    export_rounds: int
    token_workers: int

    @classmethod
    def from_env(cls, environ) -> "Config":
        def number(name: str, default: int, kind=int, minimum=1):
            try:
                value = kind(environ.get(name) or default)
            except ValueError:
                raise BenchError(f"{name} must be a number, got {environ[name]!r}") from None
            if value < minimum:
                raise BenchError(f"{name} must be at least {minimum}, got {value}")
            return value

        return cls(
            database_url=environ.get("BENCH_DATABASE_URL") or DEFAULT_URL,
            rounds=number("BENCH_ROUNDS", 5),
            round_seconds=number("BENCH_ROUND_SECONDS", 8, float),
            connections=number("BENCH_CONNECTIONS", 8),
            threads=number("BENCH_THREADS", 1),
            check_every=number("BENCH_CHECK_EVERY", 1),
            members=number("BENCH_MEMBERS", 10_000),
            orgs=number("BENCH_ORGS", 50),
            only=frozenset(n for n in environ.get("BENCH_SCENARIOS", "").split(",") if n),
            workers=number("WEB_CONCURRENCY", 3),
            flood_rounds=number("BENCH_FLOOD_ROUNDS", 3, minimum=0),
            flood_connections=number("BENCH_FLOOD_CONNECTIONS", 30),
            flood_rate=number("BENCH_FLOOD_RATE", 5000, minimum=0),
            recording_rounds=number("BENCH_RECORDING_ROUNDS", 9, minimum=0),
            recording_round_seconds=number("BENCH_RECORDING_ROUND_SECONDS", 4, float),
            activity=number("BENCH_ACTIVITY", 1, minimum=0) > 0,
            export_rounds=number("BENCH_EXPORT_ROUNDS", 5, minimum=0),
            token_workers=number("TOKEN_WORKERS", 2),
        )

    def describe(self) -> str:
        checked = "every token" if self.check_every == 1 else f"1 token in {self.check_every}"
        return (
            f"`PORTAL_POOL=token gunicorn -c gunicorn.conf.py` (the token pool with "
            f"{self.workers} sync workers, request log on; the flood phase through the shipped "
            f"nginx configuration; the isolation phase runs a web pool and a token pool of "
            f"{self.token_workers}); "
            f"wrk: {self.threads} thread(s), {self.connections} connections, {checked} checked; "
            f"{self.rounds} cycles of {self.round_seconds:g} s rounds per scenario"
        )


# ---------------------------------------------------------------------------- phases


def describe_machine(config: Config) -> report.Machine:
    """Print the machine and the configuration (the database must answer for its version)."""
    pg_version = prepare_database(config)
    machine = report.Machine.describe(postgresql=pg_version, wrk=wrk.version())
    say(f"machine: {machine.line()}")
    say(f"config: {config.describe()}")
    say(
        f"NOTE: wrk, gunicorn and PostgreSQL share these {machine.cpus} CPUs: compare figures "
        "within this run (ratios), not with other machines"
    )
    return machine


def prepare_database(config: Config) -> str:
    """The database exists; returns the PostgreSQL version."""
    try:
        created, version = database.prepare(config.database_url)
    except database.DatabaseUnavailable as error:
        raise BenchError(
            f"{error}.\nStart PostgreSQL or point BENCH_DATABASE_URL at a server "
            f"(default {DEFAULT_URL})."
        ) from None
    name = database.database_name(config.database_url)
    say(f"database {name}: {'created' if created else 'exists'}")
    return version


def configure(config: Config, tmp: Path) -> dict[str, str]:
    """Migrate, make a signing key pair in ``tmp``, collect static files, and set up Django in
    this process with the server's settings; returns the server's environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BENCH_"))}
    env.update(
        DATABASE_URL=config.database_url,
        SECRET_KEY="bench-only-" + os.urandom(24).hex(),
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,[::1]",
        # The flood phase goes through nginx (bench/proxy.py), which sets X-Forwarded-For: the
        # client address is the one nginx saw (without a proxy, REMOTE_ADDR as before).
        TRUSTED_PROXY_COUNT="1",
        # The rounds compare the application's requests with one another, so every process runs
        # at the same priority; the isolation phase runs the pools as shipped (the web pool at
        # WEB_POOL_NICE's default).
        WEB_POOL_NICE="0",
        TOKEN_SIGNING_KEY_FILE=str(tmp / "token.key"),
        TOKEN_SIGNING_CERT_FILE=str(tmp / "token.crt"),
        WEB_CONCURRENCY=str(config.workers),
        TOKEN_WORKERS=str(config.token_workers),
        # The default kind of cache (files shared by the workers), in a directory of this run,
        # so the flood's lock-out does not outlive it.
        CACHE_URL=f"filecache://{tmp / 'cache'}",
    )
    for args in (
        ("migrate", "--no-input", "-v", "0"),
        (
            "token_keys",
            "--key",
            env["TOKEN_SIGNING_KEY_FILE"],
            "--cert",
            env["TOKEN_SIGNING_CERT_FILE"],
        ),
        ("collectstatic", "--no-input", "-v", "0"),
    ):
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise BenchError(
                f"manage.py {args[0]} failed ({done.returncode}):\n"
                f"{done.stdout[-2000:]}{done.stderr[-4000:]}"
            )
        say(f"manage.py {args[0]}: {time.monotonic() - started:.1f}s")

    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    import django

    django.setup()
    return env


def seed(config: Config):
    """The data set (bench/dataset.py), with its shape as counted in the database."""
    from bench import dataset

    started = time.monotonic()
    seeded = dataset.seed(members=config.members, orgs=config.orgs)
    say(f"seed: {time.monotonic() - started:.1f}s")
    say(
        f"org {dataset.ORG}: {seeded.acme_members:,} members (plus its owner) in "
        f"{seeded.acme_teams} teams, {seeded.acme_memberships:,} team memberships; Image Access "
        f"Management on, Docker Official Images allowed; {dataset.BENCH_USER} is in 2 teams"
    )
    say(
        f"{dataset.MULTI_USER}: member of {seeded.multi_orgs} organisations, "
        f"{seeded.multi_orgs_managed} of them with Image Access Management on (official images "
        f"allowed); {seeded.users_total:,} users in the database"
    )
    if seeded.acme_members != config.members or seeded.multi_orgs != config.orgs:
        say("WARNING: the database holds more than asked (an earlier, bigger seed)")
    return seeded


def define_scenarios(config: Config, seeded) -> list[Scenario]:
    """The scenarios of this run (BENCH_SCENARIOS picks some; the baseline always runs)."""
    from django.conf import settings

    from bench import dataset

    def allowed_pull(name: str, description: str, credential) -> Scenario:
        return token_scenario(
            name=name,
            description=description,
            username=credential.username,
            secret=credential.secret,
            service=settings.REGISTRY_SERVICE,
            grant=Grant(subject=credential.username, repository="library/alpine", action="pull"),
        )

    scenarios = [
        HEALTHZ,
        allowed_pull(
            "token",
            f"GET /auth/token, member of a {seeded.acme_members:,}-member org",
            seeded.member,
        ),
        allowed_pull(
            "token-many-orgs",
            f"GET /auth/token, member of {seeded.multi_orgs} orgs",
            seeded.multi_member,
        ),
        token_scenario(
            name="token-allowlisted",
            description=(
                f"GET /auth/token, a community image allowed by one of acme's "
                f"{seeded.acme_allowlist:,} allowlist entries"
            ),
            username=seeded.member.username,
            secret=seeded.member.secret,
            service=settings.REGISTRY_SERVICE,
            grant=Grant(
                subject=seeded.member.username,
                repository=dataset.ALLOWLISTED_REPOSITORY,
                action="pull",
            ),
        ),
    ]
    unknown = config.only - {s.name for s in scenarios}
    if unknown:
        raise BenchError(
            f"BENCH_SCENARIOS: unknown {', '.join(sorted(unknown))}; "
            f"known: {', '.join(s.name for s in scenarios)}"
        )
    return [s for s in scenarios if s.baseline or not config.only or s.name in config.only]


def claims_verifier(env: dict[str, str]):
    from django.conf import settings

    from bench.scenarios import token_verifier

    return token_verifier(
        certificate_pem=Path(env["TOKEN_SIGNING_CERT_FILE"]).read_bytes(),
        issuer=settings.TOKEN_ISSUER,
        audience=settings.REGISTRY_SERVICE,
    )


def measure_in_process(scenarios: list[Scenario], claims_of) -> dict:
    """Queries per request and the application's own cost, through Django's test Client."""
    from django.db import connections

    from bench import inprocess

    heading("In-process (django.test.Client + CaptureQueriesContext, same settings, no HTTP)")
    logging.disable(logging.INFO)  # the portal's request log would print every request
    results = {}
    for scenario in scenarios:
        try:
            result = inprocess.measure(scenario, claims_of)
        except inprocess.CheckFailed as error:
            raise BenchError(str(error)) from None
        results[scenario.name] = result
        say(
            f"{scenario.name:<16} {len(result.queries)} SQL queries per request (first request "
            f"{result.first_queries}), median {result.median_us:,.0f} µs wall, "
            f"{result.cpu_us:,.0f} µs CPU per request [n={result.samples}]"
        )
    shown = next((s for s in scenarios if s.expect_grant is not None), None)
    if shown is not None:
        say(f"SQL of one {shown.name} request (steady state): {shown.method} {shown.path}")
        for number, query in enumerate(results[shown.name].queries, 1):
            say(f"  {number}. {query['sql']}")
        say(
            "  every query goes through Django's cursor (the compiled ones as prepared "
            "statements); PostgreSQL's own count (DB xact, below) also includes Django's "
            "connection health check"
        )
    for line in engine_with_a_full_allowlist():
        say(line)
    logging.disable(logging.NOTSET)
    connections.close_all()  # the server's backends are the only ones on the bench database
    return results


def engine_with_a_full_allowlist() -> list[str]:
    """The decision engine alone, on a snapshot that carries an organisation's 1,000 allowlist
    entries (the SQL hands it only the entries that could match; this is the worst case)."""
    import timeit

    from django.utils import timezone

    from bench import dataset
    from policies.engine import ListEntry, OrgPolicy, PullSnapshot, pull_decide
    from policies.models import ALLOWLIST_MAX_ENTRIES
    from policies.references import parse_reference

    snapshot = PullSnapshot(
        username=dataset.BENCH_USER,
        organizations=(
            OrgPolicy(name=dataset.ORG, is_owner=False, enabled=True, allow_official_images=True),
        ),
        entries=tuple(
            ListEntry(pattern=dataset.ALLOWLIST_PATTERN.format(i), organization=dataset.ORG)
            for i in range(ALLOWLIST_MAX_ENTRIES)
        ),
        as_of=timezone.now(),
    )
    lines = []
    for text, expected in ((dataset.ALLOWLISTED_REPOSITORY, True), ("someone/thing", False)):
        reference = parse_reference(text)
        decision = pull_decide(snapshot, reference)
        if decision.allowed is not expected:
            raise BenchError(f"engine: {text} with the full allowlist: {decision.reason}")
        runs = 2000
        seconds = min(timeit.repeat(lambda r=reference: pull_decide(snapshot, r), number=runs))
        lines.append(
            f"engine: pull_decide of {text} against {ALLOWLIST_MAX_ENTRIES:,} entries "
            f"({'allowed' if expected else 'refused'}, rule {decision.rule}): "
            f"{seconds / runs * 1e6:,.1f} µs"
        )
    return lines


def preflight(server, scenarios: list[Scenario], claims_of) -> None:
    """One answer per scenario through gunicorn, with the token's signature verified."""
    for scenario in scenarios:
        status, body = server.get(scenario.path, scenario.headers, scenario.method, scenario.body)
        problem = answer_problem(scenario, status, body, claims_of)
        if problem:
            raise BenchError(f"{scenario.name} through gunicorn: {problem}\n{server.tail()}")
    say(f"preflight: each scenario answered as expected through gunicorn ({server.url})")


def checked_run(
    config: Config, server, scenario: Scenario, seconds: float, url: str | None = None
) -> wrk.WrkResult:
    """One wrk run of ``scenario`` (at ``url``, default the server's); a failed check, a socket
    error or no answer fails the bench."""
    result = wrk.run(
        scenario,
        url or server.url,
        seconds=seconds,
        connections=config.connections,
        threads=config.threads,
        check_every=config.check_every,
    )
    if result.failures or result.socket_errors or not result.good:
        raise BenchError(
            f"{scenario.name}: {result.failures} of {result.requests:,} answers failed the "
            f"check, {result.socket_errors} socket errors; first failure: "
            f"{result.first_failure or '(none)'}"
        )
    return result


def run_rounds(config: Config, server, scenarios: list[Scenario], vacuums: Vacuums) -> list[Round]:
    """Warm-up, then the cycles of timed rounds, the decision log vacuumed before each cycle and
    after the last; stops at the first failed check."""
    dbname = database.database_name(config.database_url)
    reader = database.CounterReader(config.database_url)

    try:
        for scenario in scenarios:
            checked_run(config, server, scenario, WARM_UP_SECONDS)
        say(report.ROUND_HEADER)
        rounds = []
        for cycle in range(1, config.rounds + 1):
            vacuums.run()
            counters = reader.settled()
            order = scenarios if cycle % 2 else scenarios[::-1]
            for scenario in order:
                with procstat.CpuMeter(server.proc.pid, dbname) as meter:
                    result = checked_run(config, server, scenario, config.round_seconds)
                cpu = meter.seconds()
                now = reader.settled()
                rounds.append(
                    Round(
                        cycle=cycle,
                        scenario=scenario.name,
                        wrk=result,
                        gunicorn_cpu=cpu["gunicorn"],
                        postgres_cpu=cpu["postgres"],
                        machine_busy=cpu["machine_busy"],
                        machine_capacity=cpu["machine_total"],
                        db=now - counters,
                    )
                )
                counters = now
                say(report.round_line(rounds[-1]))
        vacuums.run()
        return rounds
    finally:
        reader.close()


def measure_activity(config: Config) -> list[str]:
    """A million recorded decisions (seeded once) and the activity pages' render times."""
    from bench import activity, dataset

    if not config.activity:
        return []
    heading("Activity pages over a million recorded decisions (in-process, as acme's owner)")
    started = time.monotonic()
    count = dataset.seed_decisions()
    say(f"acme's recorded decisions: {count:,} ({time.monotonic() - started:.0f}s to seed)")
    logging.disable(logging.INFO)
    try:
        found = activity.measure()
    finally:
        logging.disable(logging.NOTSET)
    for line in found:
        say(line)
    return found


def run_flood(config: Config, server, scenarios: list[Scenario], tmp: Path) -> list:
    """The no-starvation phase (bench/flood.py) on the token scenario, through the shipped nginx
    configuration in front of the server, with a flood at one account and one of rotating
    usernames; their results (none if not run)."""
    from bench import proxy

    token = next((s for s in scenarios if s.name == "token"), None)
    if token is None or not config.flood_rounds:
        return []
    if proxy.find_nginx() is None:
        raise BenchError("nginx is not installed (Debian/Ubuntu: apt-get install nginx-light)")
    workdir = tmp / "nginx"
    workdir.mkdir(exist_ok=True)
    upstream = server.url
    # The valid requests stand for a registry's many users: their address (127.0.0.1) is listed
    # as not limited, as the shipped configuration's comment says to do for one's own networks;
    # the flood's ([::1]) is limited as any other.
    unlimited = {"    # 10.20.0.0/16 1;": "    127.0.0.1 1;"}
    with proxy.nginx_proxy(
        [upstream, upstream],
        [upstream, upstream],
        workdir,
        unlimited,
        ipv6=True,
        worker_connections=1024,
    ) as (url, _certificate):
        port = url.rsplit(":", 1)[1]
        try:
            return [
                run_one_flood(
                    config,
                    server,
                    token,
                    rotate=rotate,
                    valid_url=f"https://127.0.0.1:{port}",
                    flood_url=f"https://[::1]:{port}",
                )
                for rotate in (False, True)
            ]
        except BenchError as error:
            log = workdir / "nginx-error.log"
            tail = log.read_text(errors="replace").splitlines()[-15:] if log.exists() else []
            raise BenchError(f"{error}\nnginx's error log ends:\n" + "\n".join(tail)) from None


def run_one_flood(
    config: Config, server, token: Scenario, *, rotate: bool, valid_url: str, flood_url: str
):
    from django.conf import settings

    from bench import dataset

    kind = "rotating usernames" if rotate else "one account"
    heading(f"No starvation: {token.name} with and without a flood of wrong passwords ({kind})")
    result = flood.run(
        server=server,
        scenario=token,
        checked_run=lambda scenario, seconds: checked_run(
            config, server, scenario, seconds, valid_url
        ),
        rounds=config.flood_rounds,
        round_seconds=config.round_seconds,
        connections=config.flood_connections,
        username=dataset.FLOOD_USER,
        service=settings.REGISTRY_SERVICE,
        limit=settings.LOGIN_ADDRESS_FAILURE_LIMIT if rotate else settings.LOGIN_FAILURE_LIMIT,
        rotate=rotate,
        flood_url=flood_url,
        rate=config.flood_rate,
    )
    if result.flood_statuses.get(429, 0) < 0.9 * sum(result.flood_statuses.values()):
        raise BenchError(f"the flood was not refused before hashing: {result.flood_statuses}")
    for line in result.lines(token.name):
        say(line)
    return result


def run_recording(config: Config, env, tmp: Path, scenarios: list[Scenario]) -> list[str]:
    """The decision-log phase (bench/recording.py) on the token scenario; its report lines."""
    token = next((s for s in scenarios if s.name == "token"), None)
    if token is None or not config.recording_rounds:
        return []
    heading(f"Decision log: {token.name} recorded queued, before each answer, or not at all")
    results = recording.run(
        env=env,
        tmp=tmp,
        scenario=token,
        checked_run=lambda target, scenario, seconds: checked_run(
            config, target, scenario, seconds
        ),
        rounds=config.recording_rounds,
        round_seconds=config.recording_round_seconds,
        dbname=database.database_name(config.database_url),
    )
    for line in recording.round_lines(results):
        say(line)
    found = recording.lines(results, token.name)
    for line in found:
        say(line)
    return found


def run_export(config: Config, env: dict[str, str], tmp: Path, scenarios: list[Scenario]):
    """The isolation phase (bench/export.py) on the token scenario; its report lines."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connections
    from django.test import Client

    from bench import dataset

    token = next((s for s in scenarios if s.name == "token"), None)
    if token is None or not config.export_rounds:
        return []
    heading(f"Isolation: {token.name} while a million-row CSV export streams")
    started = time.monotonic()
    count = dataset.seed_decisions()
    say(f"acme's recorded decisions: {count:,} ({time.monotonic() - started:.0f}s to seed)")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(get_user_model().objects.get(username=dataset.OWNER))
    name = settings.SESSION_COOKIE_NAME
    cookie = f"{name}={client.cookies[name].value}"
    connections.close_all()
    log_dir = tmp / "export"
    log_dir.mkdir()
    path = f"/orgs/{dataset.ORG}/activity.csv"
    shipped = {name: value for name, value in env.items() if name != "WEB_POOL_NICE"}
    with (
        Gunicorn(env=shipped, log_dir=log_dir) as web,
        Gunicorn(env=shipped, log_dir=log_dir, pool="token") as token_pool,
    ):
        say(
            f"web pool {web.url} ({config.workers} workers), token pool {token_pool.url} "
            f"({config.token_workers} workers); the export: GET {path} from the web pool"
        )
        lines = []
        for target, server in (
            (f"the token pool ({config.token_workers} workers)", token_pool),
            (f"the web pool ({config.workers} workers, one pool for everything)", web),
        ):
            try:
                comparison = export.compare(
                    target=target,
                    server=server,
                    web_port=web.port,
                    path=path,
                    cookie=cookie,
                    scenario=token,
                    checked_run=lambda server, scenario, seconds: checked_run(
                        config, server, scenario, seconds
                    ),
                    rounds=config.export_rounds,
                    round_seconds=config.round_seconds,
                )
            except export.ExportError as error:
                raise BenchError(f"the export: {error}\n{web.tail()}") from None
            lines.append(comparison.line(token.name))
            say(lines[-1])
    return lines


def run_load(config: Config, env: dict[str, str], tmp: Path, scenarios: list[Scenario], claims_of):
    """Start gunicorn as `make serve` does, check each scenario once, run the rounds, then the
    no-starvation phase; returns ``(rounds, flood result or None, report lines)``."""
    heading("Load")
    # The token pool as shipped (PORTAL_POOL=token: the token service's database settings), with
    # the web pool's number of workers; it answers /healthz too.
    pool_env = {**env, "TOKEN_WORKERS": str(config.workers)}
    with Gunicorn(env=pool_env, log_dir=tmp, pool="token") as server:
        say(
            f"server: PORTAL_POOL=token gunicorn {' '.join(server.command[1:])} "
            f"(TOKEN_PORT={server.port}, {config.workers} workers)"
        )
        say(f"gunicorn master {server.proc.pid}, {len(server.workers())} workers")
        preflight(server, scenarios, claims_of)
        vacuums = Vacuums(config.database_url)
        rounds = run_rounds(config, server, scenarios, vacuums)
        extra = run_recording(config, env, tmp, scenarios)
        if config.recording_rounds and config.flood_rounds:
            vacuums.run()
        flooded = run_flood(config, server, scenarios, tmp)
        say(vacuums.line())
        return rounds, flooded, [*extra, vacuums.line()]


def print_results(
    machine, config: Config, summaries: list[Summary], rounds: list[Round], flooded, extra
):
    heading("Results")
    for line in report.results_table(summaries):
        say(line)
    say(
        "req/s, p50/p90/p99, CPU µs/request: medians of the rounds; queries: in-process, "
        "steady state; DB xact: committed transactions per request counted by PostgreSQL "
        "(pg_stat_database) over all rounds, health checks and writes included"
    )
    checked = sum(s.tokens_checked for s in summaries)
    every = "" if config.check_every == 1 else f" (1 in {config.check_every} of the good answers)"
    share = max(s.wrk_core_share for s in summaries)
    busy = sum(r.machine_busy for r in rounds)
    capacity = sum(r.machine_capacity for r in rounds)
    other = sum(r.other_cpu for r in rounds)
    disturbed = [f"{r.cycle}/{r.scenario}" for r in rounds if r.disturbed]
    notes = [
        *report.ratio_lines(summaries),
        *report.query_lines(summaries),
        f"checks: every status (and the /healthz body); {checked:,} token JWTs decoded by "
        f"check.lua{every}, each granting the expected pull",
        f"client: wrk used at most {share:.0%} of one core ("
        + ", ".join(f"{s.scenario.name} {s.wrk_us:,.0f} µs/request" for s in summaries)
        + ")",
        f"machine: {busy:.0f}s of {capacity:.0f}s CPU busy during the rounds; {other:.1f}s "
        "outside wrk, gunicorn and PostgreSQL backends (kernel, other processes)",
    ]
    if disturbed:
        notes.append(
            f"WARNING: other work on the machine took over {DISTURBED_SHARE:.0%} of the CPUs "
            f"during {len(disturbed)} of {len(rounds)} rounds ({', '.join(disturbed)}): their "
            "req/s and CPU per request are off; the medians over the rounds are less affected"
        )
    for result in flooded:
        notes.extend(result.lines("token"))
    notes.extend(extra)
    for note in notes:
        say(note)
    heading("Summary (Markdown, for bench/RESULTS.md)")
    for line in report.markdown(machine, config.describe(), summaries, notes):
        say(line)


# ---------------------------------------------------------------------------- main


def main() -> int:
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    started = time.monotonic()
    config = Config.from_env(os.environ)
    heading("iam-portal benchmark (wrk against `make serve`'s gunicorn, on PostgreSQL)")
    machine = describe_machine(config)
    with tempfile.TemporaryDirectory(prefix="iam-bench-") as tmp_name:
        tmp = Path(tmp_name)
        env = configure(config, tmp)
        seeded = seed(config)
        scenarios = define_scenarios(config, seeded)
        claims_of = claims_verifier(env)
        inprocess = measure_in_process(scenarios, claims_of)
        rounds, flooded, extra = run_load(config, env, tmp, scenarios, claims_of)
        extra += measure_activity(config)
        extra += run_export(config, env, tmp, scenarios)
    print_results(machine, config, summarize(scenarios, rounds, inprocess), rounds, flooded, extra)
    say(f"\ntotal time {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (BenchError, wrk.WrkError, ServerError) as error:
        print(f"bench: FAILED: {error}", file=sys.stderr, flush=True)
        sys.exit(2)
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr, flush=True)
        sys.exit(130)
