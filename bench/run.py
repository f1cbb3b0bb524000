"""`make bench`: throughput of /healthz and /auth/token side by side, under gunicorn on PostgreSQL.

Steps: create the bench database if missing, migrate, seed (an organisation of 10,000 members),
make a signing key pair in a temporary directory, collectstatic, measure the token path
in-process (SQL of one request, cost of each step), start gunicorn with production settings on
a free loopback port, then alternate timed rounds of /healthz and /auth/token from a separate
load-generator process (bench/loadgen.py) and report throughput, latency and CPU per request.

Configuration (environment):
  BENCH_DATABASE_URL    postgres://postgres@127.0.0.1:5432/iam_bench
  BENCH_WORKERS         gunicorn workers (2)
  BENCH_WORKER_CLASS    sync (as `make serve`) or gthread (keep-alive)
  BENCH_THREADS         threads per gthread worker (4)
  BENCH_CONCURRENCY     client connections (8)
  BENCH_ROUNDS          pairs of rounds (5)
  BENCH_ROUND_SECONDS   length of one round (8)
  BENCH_MAX_REQUESTS    cap on requests per round (200000)
  BENCH_MEMBERS         members of the organisation (10000)
"""

import contextlib
import http.client
import json
import os
import platform
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import procstat  # noqa: E402

PYTHON = sys.executable
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/iam_bench"
SCOPE = "repository:library/alpine:pull"
EXPECTED_ACCESS = [{"type": "repository", "name": "library/alpine", "actions": ["pull"]}]


class BenchError(Exception):
    """A failure with a message meant for the user; exits non-zero."""


def env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        raise BenchError(f"{name} must be an integer, got {os.environ[name]!r}") from None


def say(text: str = "") -> None:
    print(text, flush=True)


def heading(text: str) -> None:
    say()
    say(f"== {text} ==")


def on_sigterm(signum, frame):
    raise KeyboardInterrupt


# ---------------------------------------------------------------------------- PostgreSQL


def prepare_database(url: str) -> tuple[str, str]:
    """Make sure PostgreSQL answers and the database exists; ``(dbname, server version)``."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise BenchError(f"BENCH_DATABASE_URL is not a valid PostgreSQL URL: {exc}") from None
    dbname = params.get("dbname") or "iam_bench"
    where = f"{params.get('host', 'localhost')}:{params.get('port', 5432)}"
    maintenance = make_conninfo(url, dbname="postgres", connect_timeout="5")
    try:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname])
            if exists.fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
                say(f"database {dbname}: created")
            else:
                say(f"database {dbname}: exists")
    except psycopg.OperationalError as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BenchError(
            f"Cannot connect to PostgreSQL at {where} ({detail}).\n"
            "Start PostgreSQL or point BENCH_DATABASE_URL at a server "
            f"(default {DEFAULT_URL})."
        ) from None
    return dbname, version


def pg_database_stats(url: str, dbname: str) -> dict:
    """Counters of pg_stat_database, read on a fresh connection (1 session + 1 statement)."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    with psycopg.connect(make_conninfo(url, connect_timeout="5"), autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit, xact_rollback, sessions FROM pg_stat_database WHERE datname = %s",
            [dbname],
        ).fetchone()
    return {"xact_commit": row[0], "xact_rollback": row[1], "sessions": row[2]}


# ---------------------------------------------------------------------------- subprocesses


def manage(env: dict, *args: str, timeout: float = 120) -> float:
    started = time.monotonic()
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise BenchError(
            f"manage.py {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout[-2000:]}{result.stderr[-4000:]}"
        )
    return time.monotonic() - started


def stop_process(proc: subprocess.Popen | None, name: str, grace: float = 10.0) -> None:
    """SIGTERM our child (its own session), then SIGKILL its process group if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        say(f"{name} did not stop in {grace:.0f}s: killing process group {proc.pid}")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def http_get(port: int, path: str, headers: dict | None = None, timeout: float = 5.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_for_healthz(proc: subprocess.Popen, port: int, log_path: Path, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(
                f"gunicorn exited with {proc.returncode} during start-up:\n{tail(log_path)}"
            )
        try:
            status, body = http_get(port, "/healthz", timeout=2)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise BenchError(f"/healthz did not answer within {timeout:.0f}s:\n{tail(log_path)}")


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class LoadGen:
    """The load-generator process (bench/loadgen.py), driven round by round."""

    def __init__(self, port: int, concurrency: int, service: str, authorization: str):
        env = dict(os.environ, BENCH_AUTHORIZATION=authorization)
        self.proc = subprocess.Popen(
            [
                PYTHON,
                str(BASE_DIR / "bench" / "loadgen.py"),
                "--port",
                str(port),
                "--concurrency",
                str(concurrency),
                "--service",
                service,
                "--scope",
                SCOPE,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
            start_new_session=True,
        )

    def run(self, endpoint: str, seconds: float, max_requests: int) -> dict:
        command = {"endpoint": endpoint, "seconds": seconds, "max_requests": max_requests}
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], seconds + 30)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            raise BenchError(f"the load generator stopped answering (exit {self.proc.poll()})")
        return json.loads(line)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        stop_process(self.proc, "load generator", grace=2)


# ---------------------------------------------------------------------------- reporting


def percentile(sorted_values: list, fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def latency_ms(values: list[int]) -> tuple[float, float, float]:
    ordered = sorted(values)
    return tuple(percentile(ordered, p) / 1000 for p in (0.50, 0.90, 0.99))


def verify_token(body: bytes, cert_file: Path, service: str, issuer: str) -> dict:
    import jwt
    from cryptography import x509

    document = json.loads(body)
    certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
    header = jwt.get_unverified_header(document["token"])
    claims = jwt.decode(
        document["token"],
        certificate.public_key(),
        algorithms=[header["alg"]],
        audience=service,
        issuer=issuer,
    )
    if claims.get("access") != EXPECTED_ACCESS:
        raise BenchError(
            f"the token does not grant the pull (access={claims.get('access')!r}); "
            "the benchmark would not measure an allowed pull"
        )
    return {"alg": header["alg"], "bytes": len(body), "token_chars": len(document["token"])}


# ---------------------------------------------------------------------------- main


def main() -> int:
    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    workers = env_int("BENCH_WORKERS", 2)
    worker_class = os.environ.get("BENCH_WORKER_CLASS", "sync")
    threads = env_int("BENCH_THREADS", 4)
    concurrency = env_int("BENCH_CONCURRENCY", 8)
    rounds = env_int("BENCH_ROUNDS", 5)
    round_seconds = float(env_int("BENCH_ROUND_SECONDS", 8))
    max_requests = env_int("BENCH_MAX_REQUESTS", 200_000)
    members = env_int("BENCH_MEMBERS", 10_000)
    if worker_class not in ("sync", "gthread"):
        raise BenchError("BENCH_WORKER_CLASS must be sync or gthread")
    started = time.monotonic()

    heading("iam-portal benchmark: /healthz vs /auth/token under gunicorn on PostgreSQL")
    say(
        f"machine: {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, load average before start "
        f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )
    dbname, pg_version = prepare_database(url)

    tmp = Path(tempfile.mkdtemp(prefix="iam-bench-"))
    gunicorn = loadgen = None
    listener = None
    try:
        key_file, cert_file = tmp / "token.key", tmp / "token.crt"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "BENCH_AUTHORIZATION"))
        }
        env.update(
            DATABASE_URL=url,
            SECRET_KEY="bench-only-" + os.urandom(24).hex(),
            DEBUG="false",
            ALLOWED_HOSTS="127.0.0.1",
            TOKEN_SIGNING_KEY_FILE=str(key_file),
            TOKEN_SIGNING_CERT_FILE=str(cert_file),
            LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"),
        )
        t_migrate = manage(env, "migrate", "--no-input", "-v", "0")
        t_keys = manage(env, "token_keys", "--key", str(key_file), "--cert", str(cert_file))
        t_static = manage(env, "collectstatic", "--no-input", "-v", "0")

        # The same settings in this process, for seeding and the in-process measurements.
        os.environ.update(env)
        os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
        import django

        django.setup()
        from django.conf import settings
        from django.db import connections

        from bench import dataset

        t0 = time.monotonic()
        data = dataset.seed(members)
        t_seed = time.monotonic() - t0
        counts = dataset.membership_counts(data["organization"])
        say(
            f"setup: migrate {t_migrate:.1f}s, token_keys {t_keys:.1f}s, "
            f"collectstatic {t_static:.1f}s, seed {t_seed:.1f}s"
        )
        say(
            f"PostgreSQL {pg_version}, Django {django.get_version()}, "
            f"DEBUG={settings.DEBUG}, CONN_MAX_AGE={settings.DATABASES['default']['CONN_MAX_AGE']}"
            f", CONN_HEALTH_CHECKS={settings.DATABASES['default']['CONN_HEALTH_CHECKS']}"
        )
        say(
            f"org {dataset.ORG} (counted in the database): {counts['members']:,} members + "
            f"{counts['owners']} owner = {counts['distinct_users']:,} distinct users, "
            f"{counts['teams']} teams, {counts['memberships']:,} team memberships; "
            f"{counts['users_total']:,} users in the database"
        )
        if counts["members"] != members:
            say(f"WARNING: expected {members:,} members, the database has {counts['members']:,}")
        say(
            f"policy: enabled, Docker Official Images allowed, verified publishers not allowed; "
            f"publisher catalogue: bitnami (verified); {dataset.BENCH_USER} is a member of "
            f"{', '.join(dataset.TEAMS[:2])} with access token ...{data['secret'][-4:]} "
            "(tokens.services.access_token_create)"
        )
        authorization = dataset.basic_header(dataset.BENCH_USER, data["secret"])

        heading("SQL of one token request (in-process: django.test.Client + CaptureQueriesContext)")
        say(f"GET /auth/token?service={settings.REGISTRY_SERVICE}&scope={SCOPE}  (same settings)")
        dataset.warm_up(data["user"])
        steady: list[dict] = []
        for label, scope in (
            ("first use of the token (last_used_at is NULL)", SCOPE),
            ("steady state (last_used_at written at most once a minute)", SCOPE),
            ("for comparison, a non-official image", "repository:bitnami/redis:pull"),
        ):
            queries = dataset.captured_token_queries(scope, authorization)
            if scope == SCOPE:
                steady = queries  # the second request: the steady state
            say(f"-- {label}, scope {scope}: {len(queries)} queries")
            for number, query in enumerate(queries, 1):
                say(f"   {number}. [{query['us']:,.0f} µs wall] {query['sql']}")
        say(
            "   not captured above: with CONN_HEALTH_CHECKS=True Django also runs 'SELECT 1' "
            "on a reused connection before the first query of every request"
        )

        heading("Cost of each step of the token path (in-process, µs)")
        say(f"  {'median wall':>11} {'mean CPU':>9}")
        for label, stats in dataset.profile_token_path(
            SCOPE, dataset.BENCH_USER, data["secret"], steady
        ):
            say(f"  {stats['median']:>11,.1f} {stats['cpu']:>9,.1f}  {label}  [n={stats['n']}]")
        connections.close_all()

        # -------------------------------------------------------------- gunicorn
        heading("Server")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(2048)
        port = listener.getsockname()[1]
        os.set_inheritable(listener.fileno(), True)
        command = [
            str(BASE_DIR / ".venv" / "bin" / "gunicorn"),
            "portal.wsgi:application",
            "--bind",
            f"fd://{listener.fileno()}",
            "--workers",
            str(workers),
            "--worker-class",
            worker_class,
            "--timeout",
            "30",
            "--graceful-timeout",
            "5",
            "--log-level",
            "warning",
            "--no-control-socket",
        ]
        if worker_class == "gthread":
            command += ["--threads", str(threads)]
        if not Path(command[0]).exists():
            command[0] = shutil.which("gunicorn") or command[0]
        log_path = tmp / "gunicorn.log"
        with open(log_path, "wb") as log:
            gunicorn = subprocess.Popen(
                command,
                cwd=BASE_DIR,
                env=env,
                pass_fds=(listener.fileno(),),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        listener.close()
        listener = None
        shown = " ".join(command[1:]).replace(
            command[3], f"127.0.0.1:{port} (pre-bound socket passed as {command[3]})"
        )
        say(f"gunicorn {shown}")
        say(
            "env: DEBUG=false ALLOWED_HOSTS=127.0.0.1 SECRET_KEY=<random> DATABASE_URL="
            f"{url} CONN_MAX_AGE={settings.DATABASES['default']['CONN_MAX_AGE']} "
            f"TOKEN_SIGNING_KEY_FILE={key_file}; no access log"
        )
        if worker_class == "sync":
            say(
                "note: gunicorn's sync worker (what `make serve` runs) closes the connection "
                "after every response, so the client opens a new connection per request"
            )
        wait_for_healthz(gunicorn, port, log_path)
        status, body = http_get(
            port,
            f"/auth/token?service={settings.REGISTRY_SERVICE}&scope={SCOPE}",
            {"Authorization": authorization},
        )
        if status != 200:
            raise BenchError(f"token request through gunicorn failed: {status} {body[:300]!r}")
        checked = verify_token(body, cert_file, settings.REGISTRY_SERVICE, settings.TOKEN_ISSUER)
        say(
            f"/healthz answers; a token request returns a valid {checked['alg']} JWT granting "
            f"pull on library/alpine ({checked['bytes']} bytes of JSON)"
        )

        # -------------------------------------------------------------- load
        heading("Load")
        say(
            f"client: bench/loadgen.py, 1 separate process, asyncio raw HTTP/1.1, "
            f"{concurrency} connections, closed loop, every response checked "
            "(200; body 'ok' / JSON with a JWT)"
        )
        say(
            f"rounds: warm-up 1s each, then {rounds} pairs of {round_seconds:.0f}s rounds in "
            f"ABBA order (healthz,token,token,healthz,...), at most {max_requests:,} "
            "requests a round"
        )
        say(
            f"NOTE: client, gunicorn and PostgreSQL share the same {os.cpu_count()} CPUs, so "
            "req/s are lower than on a dedicated server; the CPU columns show who used them"
        )
        time.sleep(1.5)  # let the preflight's backend flush its statistics
        before_stats = pg_database_stats(url, dbname)
        loadgen = LoadGen(port, concurrency, settings.REGISTRY_SERVICE, authorization)
        token_requests = 0
        for endpoint in ("healthz", "token"):
            warm = loadgen.run(endpoint, 1.0, max_requests)
            if endpoint == "token":
                token_requests += warm["ok"] + warm["errors"]
            if warm["errors"]:
                raise BenchError(f"warm-up of {endpoint} failed: {warm['error_samples']}")

        order = []
        for pair in range(rounds):
            order += ["healthz", "token"] if pair % 2 == 0 else ["token", "healthz"]
        results = []
        say(
            f"{'round':>5} {'endpoint':<8} {'req/s':>8} {'ok':>7} {'err':>4} {'conns':>6} "
            f"{'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7}   CPU s: client gunicorn postgres "
            "machine-busy/capacity"
        )
        for number, endpoint in enumerate(order, 1):
            cpu_before = procstat.sample(gunicorn.pid, dbname)
            result = loadgen.run(endpoint, round_seconds, max_requests)
            cpu = procstat.cpu_seconds(cpu_before, procstat.sample(gunicorn.pid, dbname))
            result.update(cpu, client=result["cpu"])
            results.append(result)
            if endpoint == "token":
                token_requests += result["ok"] + result["errors"]
            p50, p90, p99 = latency_ms(result["latencies_us"])
            say(
                f"{number:>5} {endpoint:<8} {result['ok'] / result['elapsed']:>8,.0f} "
                f"{result['ok']:>7,} {result['errors']:>4} {result['connects']:>6,} "
                f"{p50:>7.2f} {p90:>7.2f} {p99:>7.2f}   {result['client']:>12.2f} "
                f"{result['gunicorn']:>8.2f} {result['postgres']:>8.2f} "
                f"{result['machine_busy']:>7.2f}/{result['machine_total']:.2f}"
            )
            for sample in result["error_samples"]:
                say(f"      error: {sample}")
        loadgen.close()
        loadgen = None
        stop_process(gunicorn, "gunicorn")
        gunicorn_rc = gunicorn.returncode
        gunicorn = None
        time.sleep(1.5)  # backends exit and flush their statistics
        after_stats = pg_database_stats(url, dbname)

        # -------------------------------------------------------------- summary
        heading("Results")
        say(
            f"{'endpoint':<8} {'requests':>9} {'errors':>6} {'req/s':>8} {'p50 ms':>7} "
            f"{'p90 ms':>7} {'p99 ms':>7}   CPU µs/request: {'client':>7} {'gunicorn':>8} "
            f"{'postgres':>8} {'machine':>8}"
        )
        summary = {}
        for endpoint in ("healthz", "token"):
            mine = [r for r in results if r["endpoint"] == endpoint]
            ok = sum(r["ok"] for r in mine)
            errors = sum(r["errors"] for r in mine)
            elapsed = sum(r["elapsed"] for r in mine)
            latencies = [v for r in mine for v in r["latencies_us"]]
            p50, p90, p99 = latency_ms(latencies)
            per = {
                k: sum(r[k] for r in mine) / max(ok, 1) * 1e6
                for k in ("client", "gunicorn", "postgres", "machine_busy")
            }
            rps = ok / elapsed
            summary[endpoint] = {"rps": rps, "errors": errors, "per": per}
            say(
                f"{endpoint:<8} {ok:>9,} {errors:>6} {rps:>8,.0f} {p50:>7.2f} {p90:>7.2f} "
                f"{p99:>7.2f}   {'':>15} {per['client']:>7,.0f} {per['gunicorn']:>8,.0f} "
                f"{per['postgres']:>8,.0f} {per['machine_busy']:>8,.0f}"
            )
        ratio = summary["token"]["rps"] / summary["healthz"]["rps"]
        server_cpu = {
            e: summary[e]["per"]["gunicorn"] + summary[e]["per"]["postgres"] for e in summary
        }
        cpu_ratio = server_cpu["healthz"] / server_cpu["token"]
        say(
            f"throughput ratio token/healthz: {ratio:.3f} (by server CPU per request, "
            f"which drifts less on a shared machine: {cpu_ratio:.3f})"
        )
        spread = {
            endpoint: [r["ok"] / r["elapsed"] for r in results if r["endpoint"] == endpoint]
            for endpoint in ("healthz", "token")
        }
        say(
            "per-round req/s range: "
            + "; ".join(f"{e} {min(v):,.0f}-{max(v):,.0f}" for e, v in spread.items())
        )
        for endpoint in ("healthz", "token"):
            per = summary[endpoint]["per"]
            server = per["gunicorn"] + per["postgres"]
            say(
                f"{endpoint}: server CPU (gunicorn + postgres) {server:,.0f} µs/request -> "
                f"about {os.cpu_count() * 1e6 / server:,.0f} req/s if the {os.cpu_count()} CPUs "
                "served only this (rough upper bound, no client, no other load)"
            )
        other = sum(
            r["machine_busy"] - r["client"] - r["gunicorn"] - r["postgres"] for r in results
        )
        busy = sum(r["machine_busy"] for r in results)
        capacity = sum(r["machine_total"] for r in results)
        say(
            f"CPU outside client/gunicorn/postgres during the rounds: {other:.1f}s of "
            f"{busy:.1f}s busy ({capacity:.1f}s available): kernel work not charged to a "
            "process, and other jobs on this machine"
        )
        if other > 0.15 * capacity:
            say(
                "WARNING: other work used a large share of the CPUs during the rounds; req/s and "
                "latencies are disturbed by it (the CPU per request figures much less so)"
            )

        delta = {k: after_stats[k] - before_stats[k] for k in after_stats}
        # Each session starts with one transaction; the "before" reading added one session and
        # one statement; every other committed transaction is one autocommit statement.
        statements = delta["xact_commit"] - delta["sessions"] - 1
        say(
            f"DB statements per token request (server side, pg_stat_database over "
            f"{token_requests:,} token requests incl. warm-up): "
            f"{statements / max(token_requests, 1):.3f} "
            f"(xact_commit +{delta['xact_commit']:,}, rollbacks +{delta['xact_rollback']}, "
            f"new sessions {delta['sessions'] - 1}; in-process ORM count: {len(steady)} "
            "+ 1 health-check 'SELECT 1')"
        )
        total = sum(r["ok"] + r["errors"] for r in results)
        errors = sum(r["errors"] for r in results)
        say(
            f"errors: {errors} of {total:,} requests; gunicorn exit code {gunicorn_rc}; "
            f"total runtime {time.monotonic() - started:.0f}s"
        )
        if errors:
            raise BenchError(f"{errors} requests failed (see the error lines above)")
        return 0
    finally:
        if loadgen is not None:
            loadgen.close()
        if gunicorn is not None:
            stop_process(gunicorn, "gunicorn")
        if listener is not None:
            listener.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr, flush=True)
        sys.exit(2)
    except KeyboardInterrupt:
        print("bench: interrupted; gunicorn stopped", file=sys.stderr, flush=True)
        sys.exit(130)
