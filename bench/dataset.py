"""Seed the bench database and measure the token path in-process (needs django.setup()).

The data: organisation ``acme`` with an owner (``benchowner``) and 10,000 members spread over
ten teams, one of them ``benchuser`` (in two teams), whose access token the load generator
uses; Image Access Management on with Docker Official Images allowed; ``bitnami`` in the
publisher catalogue. Users get an unusable password (no hashing); seeding is idempotent.
"""

import base64
import logging
import statistics
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.db import connection, connections, transaction
from django.http import JsonResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext

from orgs import services as org_services
from orgs.models import OWNERS_TEAM, Organization, Team, TeamMembership
from policies.models import AccessPolicy, Publisher
from policies.selectors import pull_snapshot
from policies.services import policy_update
from tokens.models import AccessToken
from tokens.scopes import parse_scopes
from tokens.selectors import token_holder_snapshot
from tokens.services import TOKEN_PREFIX, access_token_create
from tokens.signing import issue_registry_token, load_signing_key, token_response
from tokens.views import signing_key

ORG = "acme"
OWNER = "benchowner"
BENCH_USER = "benchuser"
TOKEN_NAME = "bench"
TEAMS = [f"squad-{i:02d}" for i in range(10)]
MEMBER_PREFIX = "member"


def seed(members: int) -> dict:
    """Create (or complete) the data set; returns what the token requests need."""
    User = get_user_model()
    unusable = make_password(None)  # one "!..." value for everyone: nothing to hash
    with transaction.atomic():
        owner, _ = User.objects.get_or_create(username=OWNER, defaults={"password": unusable})
        bench, _ = User.objects.get_or_create(username=BENCH_USER, defaults={"password": unusable})
        organization = Organization.objects.filter(name=ORG).first()
        if organization is None:
            organization = org_services.organization_create(name=ORG, creator=owner)
        teams = []
        for name in TEAMS:
            team = Team.objects.filter(organization=organization, name=name).first()
            if team is None:
                team = org_services.team_create(organization=organization, name=name)
            teams.append(team)

        names = [f"{MEMBER_PREFIX}{i:05d}" for i in range(1, members)]  # + benchuser
        have = TeamMembership.objects.filter(
            team__in=teams, user__username__startswith=MEMBER_PREFIX
        ).count()
        if have != len(names):
            User.objects.bulk_create(
                [User(username=name, password=unusable) for name in names],
                batch_size=2000,
                ignore_conflicts=True,
            )
            ids = dict(
                User.objects.filter(username__in=names).values_list("username", "id").iterator()
            )
            TeamMembership.objects.bulk_create(
                [
                    TeamMembership(team=teams[i % len(teams)], user_id=ids[name])
                    for i, name in enumerate(names)
                ],
                batch_size=5000,
                ignore_conflicts=True,
            )
        for team in teams[:2]:
            TeamMembership.objects.get_or_create(team=team, user=bench)

        policy = AccessPolicy.objects.get(organization=organization)
        wanted = {
            "enabled": True,
            "allow_official_images": True,
            "allow_verified_publishers": False,
        }
        if policy.as_dict() != wanted:
            policy_update(
                organization=organization,
                actor=owner,
                expected_version=policy.version,
                values=wanted,
            )
        Publisher.objects.update_or_create(
            namespace="bitnami", defaults={"display_name": "Bitnami by VMware", "verified": True}
        )

        AccessToken.objects.filter(user=bench, name=TOKEN_NAME).delete()
        token, secret = access_token_create(user=bench, name=TOKEN_NAME, expires_days=1)

    with connection.cursor() as cursor:  # fresh planner statistics after the bulk load
        for model in (User, Organization, Team, TeamMembership, AccessPolicy, Publisher):
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(model._meta.db_table)}")
        cursor.execute(f"ANALYZE {connection.ops.quote_name(AccessToken._meta.db_table)}")
    return {"user": bench, "secret": secret, "token": token, "organization": organization}


def membership_counts(organization: Organization) -> dict:
    """Counted in the database, not assumed."""
    in_org = TeamMembership.objects.filter(team__organization=organization)
    owners = set(in_org.filter(team__name=OWNERS_TEAM).values_list("user_id", flat=True))
    everyone = set(in_org.values_list("user_id", flat=True))
    return {
        "distinct_users": len(everyone),
        "owners": len(owners),
        "members": len(everyone - owners),
        "teams": Team.objects.filter(organization=organization).count(),
        "memberships": in_org.count(),
        "users_total": get_user_model().objects.count(),
    }


def basic_header(username: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode()


def token_request(client: Client, scope: str, authorization: str):
    return client.get(
        "/auth/token",
        {"service": settings.REGISTRY_SERVICE, "scope": scope},
        headers={"authorization": authorization},
        HTTP_HOST="127.0.0.1",
    )


def warm_up(user) -> None:
    """Run the token path's queries once without side effects (fresh catalog caches after the
    VACUUM): a request with an unknown token (401, no write) and a snapshot read."""
    request_logger = logging.getLogger("django.request")  # it would log the 401
    level = request_logger.level
    request_logger.setLevel(logging.ERROR)
    try:
        response = token_request(
            Client(),
            "repository:library/alpine:pull",
            basic_header(user.get_username(), TOKEN_PREFIX + "x" * 43),
        )
    finally:
        request_logger.setLevel(level)
    if response.status_code != 401:
        raise RuntimeError(f"an unknown token was not refused: {response.status_code}")
    pull_snapshot(user=user)


def captured_token_queries(scope: str, authorization: str) -> list[dict]:
    """One token request through the whole Django stack, with its SQL captured.

    CaptureQueriesContext records each query's time only to the millisecond; a wrapper around
    the same executions adds the precise time (cursor execute + fetch of the driver).
    """
    client = Client()
    durations: list[float] = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            durations.append(time.perf_counter() - started)

    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timed):
        response = token_request(client, scope, authorization)
    if response.status_code != 200 or "token" not in response.json():
        raise RuntimeError(f"in-process token request failed: {response.status_code} {response}")
    queries = list(captured.captured_queries)
    for query, seconds in zip(queries, durations, strict=True):
        query["us"] = seconds * 1e6
    return queries


def _measure(fn: Callable[[], object], iterations: int, budget: float = 3.0) -> dict:
    """Median wall time and mean CPU time of ``fn`` in µs (the machine may be shared)."""
    fn()
    times = []
    stop = time.monotonic() + budget
    cpu_started = time.process_time()
    for _ in range(iterations):
        started = time.perf_counter_ns()
        fn()
        times.append((time.perf_counter_ns() - started) / 1000)
        if time.monotonic() > stop:
            break
    cpu = (time.process_time() - cpu_started) / len(times) * 1e6
    return {"median": statistics.median(times), "n": len(times), "cpu": cpu}


def profile_token_path(
    scope: str, username: str, secret: str, queries: list[dict]
) -> list[tuple[str, dict]]:
    """Cost of each step of a token request, measured in this process on the bench database.

    ``queries`` are the captured steady-state queries, run again as plain SQL through Django's
    cursor to separate the ORM's cost (building and compiling the query) from the database's.
    """
    authorization = basic_header(username, secret)
    key = signing_key(str(settings.TOKEN_SIGNING_KEY_FILE), str(settings.TOKEN_SIGNING_CERT_FILE))
    reference_list = [s.reference for s in parse_scopes([scope]) if s.reference is not None]
    access = [{"type": "repository", "name": "library/alpine", "actions": ["pull"]}]
    client = Client()

    def sign():
        return issue_registry_token(
            key=key,
            issuer=settings.TOKEN_ISSUER,
            service=settings.REGISTRY_SERVICE,
            subject=username,
            access=access,
            ttl_seconds=settings.TOKEN_TTL_SECONDS,
        )

    jwt, claims = sign()

    def plain_sql(sql: str):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(sql)
                cursor.fetchall()

        return run

    def select_one():  # what CONN_HEALTH_CHECKS runs before the first query of each request
        with connection.connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    def new_connection():
        connection.close()
        connection.ensure_connection()

    password_hash = make_password("not-the-real-password")
    max_age = connection.settings_dict["CONN_MAX_AGE"]
    rows = [
        (
            "whole token request, test Client (middleware + view, no HTTP)",
            _measure(lambda: token_request(client, scope, authorization), 400),
        ),
        (
            "/healthz, test Client (for comparison)",
            _measure(lambda: client.get("/healthz", HTTP_HOST="127.0.0.1"), 400),
        ),
        (
            "token_holder_snapshot (SHA-256 + the one SQL query, 10,000-member org)",
            _measure(lambda: token_holder_snapshot(secret=secret, references=reference_list), 400),
        ),
        *(
            (
                f"  captured query {number} alone, as plain SQL (Django cursor, no ORM)",
                _measure(plain_sql(query["sql"]), 400),
            )
            for number, query in enumerate(queries, 1)
        ),
        ("'SELECT 1' (CONN_HEALTH_CHECKS, once per request)", _measure(select_one, 400)),
        (f"issue_registry_token ({key.algorithm} JWT with x5c header)", _measure(sign, 2000)),
        (
            "token_response + JsonResponse",
            _measure(lambda: JsonResponse(token_response(jwt, claims)), 2000),
        ),
        (
            "load_signing_key (once per worker thanks to functools.cache)",
            _measure(
                lambda: load_signing_key(
                    settings.TOKEN_SIGNING_KEY_FILE, settings.TOKEN_SIGNING_CERT_FILE
                ),
                200,
            ),
        ),
        (
            f"new DB connection (per worker once per CONN_MAX_AGE={max_age}s)",
            _measure(new_connection, 20),
        ),
        (
            "check_password, default hasher (Basic auth with the account password)",
            _measure(lambda: check_password("not-the-real-password", password_hash), 2, 2.0),
        ),
    ]
    connections.close_all()
    return rows
