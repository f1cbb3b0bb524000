"""Several nodes on one database: two gunicorn nodes (as `make serve` runs them: a web pool and a
token pool each) on the test PostgreSQL and a shared Redis, behind nginx with the shipped TLS
reverse-proxy configuration.

They must behave as one: a settings change made through one node governs the next decision on
the other, tokens from both verify with the one certificate, the decisions both record (each
worker's writer, behind the answers) appear in the owners' activity read through either, failed
sign-ins count across both, and the proxy spreads requests over both. The proxy sends the
registry's token requests to the token pools and nothing else. The systemd units are checked by
systemd-analyze.
"""

import base64
import json
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import jwt
import pytest
from cryptography import x509
from django.db import connection

from tests.conftest import REGISTRY_SERVICE, TOKEN_ISSUER, require_tool
from tests.e2e.deployment import (
    NGINX_CONF,
    REPO,
    SYSTEMD_UNITS,
    find_nginx,
    gunicorn_node,
    nginx_proxy,
)
from tests.factories import make_org, make_user
from tokens.services import access_token_create

pytestmark = [pytest.mark.registry, pytest.mark.django_db(transaction=True)]
REDIS_URL = "redis://127.0.0.1:6379/15"
FAILURE_LIMIT = 4


def redis_flushed() -> bool:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).flushdb()
    except redis.RedisError:
        return False
    return True


def request(url, *, method="GET", headers=None, body=None, context=None):
    """``(status, headers, body)``; HTTP errors are answers too."""
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=20, context=context) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def deployment(tmp_path, token_keys):
    """Two nodes (a web pool and a token pool each) and the proxy; yields ``(node_a, node_b,
    proxy_url, proxy_certificate, logs)``: node_a and node_b are the web pools' URLs, logs
    ``{"web": [node a's, node b's], "token": [...]}``."""
    if connection.vendor != "postgresql":
        pytest.skip("several nodes share one PostgreSQL (the SQLite test database is in memory)")
    require_tool(find_nginx() is not None, "nginx (the reverse proxy of the deployment recipe)")
    require_tool(redis_flushed(), f"Redis at {REDIS_URL} (shared cache and counters)")
    db = connection.settings_dict
    env = {
        "PATH": os.environ["PATH"],
        "DATABASE_URL": (
            f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "CACHE_URL": REDIS_URL,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "BEHIND_TLS_PROXY": "true",
        "SECURE_SSL_REDIRECT": "true",
        "SECURE_COOKIES": "true",
        "TRUSTED_PROXY_COUNT": "1",
        "TOKEN_SIGNING_KEY_FILE": str(token_keys.parent / "token.key"),
        "TOKEN_SIGNING_CERT_FILE": str(token_keys),
        "TOKEN_ISSUER": TOKEN_ISSUER,
        "REGISTRY_SERVICE": REGISTRY_SERVICE,
        "LOGIN_FAILURE_LIMIT": str(FAILURE_LIMIT),
        "LOG_FORMAT": "json",
    }
    # As `make serve` does first: the pages' stylesheet and scripts come from the manifest.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=REPO,
        env=env,
        check=True,
        timeout=120,
    )
    with (
        gunicorn_node("node-a", env, tmp_path) as (node_a, log_a),
        gunicorn_node("node-b", env, tmp_path) as (node_b, log_b),
        gunicorn_node("token-a", env, tmp_path, pool="token") as (token_a, token_log_a),
        gunicorn_node("token-b", env, tmp_path, pool="token") as (token_b, token_log_b),
        nginx_proxy([node_a, node_b], [token_a, token_b], tmp_path) as (proxy, certificate),
    ):
        logs = {"web": [log_a, log_b], "token": [token_log_a, token_log_b]}
        yield node_a, node_b, proxy, certificate, logs
    redis_flushed()


# A node behind the proxy trusts X-Forwarded-Proto and the last X-Forwarded-For entry; tests
# that talk to a node directly say what the proxy would.
FROM_PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}


def basic(username: str, secret: str) -> dict:
    value = base64.b64encode(f"{username}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {value}"}


def user_agent(node: str) -> str:
    """The user agent of the test's registry client on ``node`` (it tells in the activity log
    which node decided)."""
    return f"e2e-client via {node}"


def pull_access(node: str, credentials: dict, certificate, repository="library/alpine"):
    query = urllib.parse.urlencode(
        {"service": REGISTRY_SERVICE, "scope": f"repository:{repository}:pull"}
    )
    headers = {**FROM_PROXY, **credentials, "User-Agent": user_agent(node)}
    status, _, body = request(f"{node}/auth/token?{query}", headers=headers)
    assert status == 200, body
    public_key = x509.load_pem_x509_certificate(certificate.read_bytes()).public_key()
    claims = jwt.decode(
        json.loads(body)["token"],
        public_key,
        algorithms=["ES256"],
        audience=REGISTRY_SERVICE,
        issuer=TOKEN_ISSUER,
    )
    return claims["access"]


def put_settings(node: str, bearer: str, **restricted_images) -> None:
    status, _, body = request(
        f"{node}/v2/orgs/acme/settings",
        method="PUT",
        headers={
            **FROM_PROXY,
            "Authorization": f"Bearer {bearer}",
            "Content-Type": "application/json",
        },
        body=json.dumps({"restricted_images": restricted_images}),
    )
    assert status == 200, body


def activity(node: str, bearer: str, *, expected: int, timeout: float = 10) -> list[dict]:
    """acme's activity through ``node``'s API (mike's decisions, newest first), read again
    until it has ``expected`` decisions or ``timeout`` seconds have passed: each node's workers
    write their decisions behind the answers, at most ``DECISION_LOG_FLUSH_SECONDS`` (0.5 s)
    later."""
    deadline = time.monotonic() + timeout
    while True:
        status, _, body = request(
            f"{node}/api/v1/orgs/acme/activity?member=mike&page_size=100",
            headers={**FROM_PROXY, "Authorization": f"Bearer {bearer}"},
        )
        assert status == 200, body
        decisions = json.loads(body)["results"]
        if len(decisions) >= expected or time.monotonic() > deadline:
            return decisions
        time.sleep(0.1)


def test_two_nodes_behind_the_proxy_behave_as_one(deployment, token_keys):
    node_a, node_b, proxy, proxy_certificate, logs = deployment
    olivia, mike = make_user("olivia"), make_user("mike")
    make_org("acme", owner=olivia, members=[mike])
    owner_bearer = access_token_create(user=olivia, name="automation", scope="repo:write")[1]
    mike_credentials = basic("mike", access_token_create(user=mike, name="laptop")[1])
    pull = [{"type": "repository", "name": "library/alpine", "actions": ["pull"]}]

    # A change through node A governs the very next decision on node B, and back.
    assert pull_access(node_b, mike_credentials, token_keys) == pull
    put_settings(
        node_a,
        owner_bearer,
        enabled=True,
        allow_official_images=False,
        allow_verified_publishers=False,
    )
    assert pull_access(node_b, mike_credentials, token_keys) == []
    put_settings(
        node_b,
        owner_bearer,
        enabled=True,
        allow_official_images=True,
        allow_verified_publishers=False,
    )
    # Tokens from both nodes verify with the one certificate the registry trusts.
    assert pull_access(node_a, mike_credentials, token_keys) == pull
    assert pull_access(node_b, mike_credentials, token_keys) == pull

    # The decisions of both nodes appear in the owners' activity, read through one of them.
    decisions = activity(node_a, owner_bearer, expected=4)
    assert [(d["user_agent"], d["outcome"]) for d in decisions] == [
        (user_agent(node_b), "allowed"),
        (user_agent(node_a), "allowed"),
        (user_agent(node_b), "blocked"),
        (user_agent(node_b), "allowed"),
    ]
    assert {d["client_address"] for d in decisions} == {"198.51.100.7"}  # as the proxy saw it

    # Failed sign-ins count across nodes (Redis): the limit is reached by both together.
    wrong = basic("mike", "not-the-password")
    query = f"service={REGISTRY_SERVICE}&scope=repository:library/alpine:pull"
    statuses = [
        request(f"{node}/auth/token?{query}", headers={**FROM_PROXY, **wrong})[0]
        for node in [node_a, node_b] * (FAILURE_LIMIT // 2)
    ]
    # The attempt that makes the limit-th failure is answered with the lock-out already.
    assert statuses == [401] * (FAILURE_LIMIT - 1) + [429]
    for node in (node_a, node_b):
        status, headers, _ = request(f"{node}/auth/token?{query}", headers={**FROM_PROXY, **wrong})
        assert status == 429 and int(headers["Retry-After"]) > 0
    # ...for that account and address only: another address is not locked out.
    other = {**FROM_PROXY, "X-Forwarded-For": "203.0.113.9", **wrong}
    assert request(f"{node_a}/auth/token?{query}", headers=other)[0] == 401

    # The proxy terminates TLS, redirects plain HTTP, and spreads requests over both nodes.
    context = ssl.create_default_context(cafile=str(proxy_certificate))
    for _ in range(6):
        status, _, body = request(f"{proxy}/healthz", context=context)
        assert (status, body) == (200, b"ok\n")
    status, _, body = request(f"{proxy}/readyz", context=context)
    assert status == 200, body
    assert pull_access_through(proxy, context, mike_credentials, token_keys) == pull
    for log in logs["web"]:
        requests = logged_requests(log)
        assert any(line["path"] == "/healthz" for line in requests), log.name
        # Behind the proxy, the logged client is the one the proxy saw, not the proxy.
        assert {line["remote"] for line in requests} <= {"127.0.0.1", "198.51.100.7", "203.0.113.9"}


def logged_requests(log) -> list[dict]:
    """The portal's request lines (LOG_FORMAT=json) in a pool's log."""
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("logger") == "portal.requests"]


def pull_access_through(proxy, context, credentials, certificate, agent="e2e-client"):
    query = urllib.parse.urlencode(
        {"service": REGISTRY_SERVICE, "scope": "repository:library/alpine:pull"}
    )
    headers = {**credentials, "User-Agent": agent}
    status, _, body = request(f"{proxy}/auth/token?{query}", headers=headers, context=context)
    assert status == 200, body
    public_key = x509.load_pem_x509_certificate(certificate.read_bytes()).public_key()
    return jwt.decode(
        json.loads(body)["token"],
        public_key,
        algorithms=["ES256"],
        audience=REGISTRY_SERVICE,
        issuer=TOKEN_ISSUER,
    )["access"]


def test_the_proxy_sends_token_requests_to_the_token_pools(deployment, token_keys):
    """/auth/token (GET and the OAuth2 POST) is answered by the nodes' token pools, over both;
    every other path, the Hub-compatible API's /v2/auth/token included, by the web pools. An
    export or a slow page holding the web pools' workers then leaves the registry's pool free."""
    _, _, proxy, proxy_certificate, logs = deployment
    mike = make_user("mike")
    secret = access_token_create(user=mike, name="laptop")[1]
    context = ssl.create_default_context(cafile=str(proxy_certificate))
    agent = "routing-check"
    pull = [{"type": "repository", "name": "library/alpine", "actions": ["pull"]}]
    for _ in range(4):
        assert pull_access_through(proxy, context, basic("mike", secret), token_keys, agent) == pull
    form = urllib.parse.urlencode(
        {
            "grant_type": "password",
            "username": "mike",
            "password": secret,
            "service": REGISTRY_SERVICE,
            "client_id": "routing-check",
            "scope": "repository:library/alpine:pull",
        }
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": agent}
    status, _, body = request(
        f"{proxy}/auth/token", method="POST", headers=headers, body=form, context=context
    )
    assert status == 200, body
    status, _, _ = request(
        f"{proxy}/v2/auth/token",
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": agent},
        body=json.dumps({"identifier": "mike", "secret": secret}),
        context=context,
    )
    assert status in (200, 401), status  # answered (by whichever pool), not a proxy error
    for path in ("/healthz", "/accounts/login/"):
        request(f"{proxy}{path}", headers={"User-Agent": agent}, context=context)

    def seen(pool: str) -> list[list[tuple[str, str]]]:
        return [
            [
                (line["method"], line["path"])
                for line in logged_requests(log)
                if line["user_agent"] == agent
            ]
            for log in logs[pool]
        ]

    expected_token = [("GET", "/auth/token")] * 4 + [("POST", "/auth/token")]
    expected_web = [("GET", "/accounts/login/"), ("GET", "/healthz"), ("POST", "/v2/auth/token")]
    # A pool writes a request's line once it has answered: the last one may land a moment later.
    deadline = time.monotonic() + 10
    while True:
        token_pools, web_pools = seen("token"), seen("web")
        token_seen = sorted(request for pool in token_pools for request in pool)
        web_seen = sorted(request for pool in web_pools for request in pool)
        if (token_seen, web_seen) == (expected_token, expected_web):
            break
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert all(requests for requests in token_pools), "the proxy spreads over both token pools"
    assert token_seen == expected_token
    assert web_seen == expected_web


def test_the_proxy_limits_token_requests_per_address_in_the_protocol_s_json(deployment, tmp_path):
    """The shipped per-address limit on /auth/token (with a small rate and burst here, so that a
    test reaches it): past it nginx answers 429 in the token protocol's JSON, with Retry-After,
    before any worker is involved; other paths are not limited."""
    node_a, node_b, _, _, _ = deployment
    shipped = NGINX_CONF.read_text()
    limits = {"rate=50r/s": "rate=1r/s", "burst=500 nodelay": "burst=3 nodelay"}
    assert all(old in shipped for old in limits), "the shipped limit changed"
    workdir = tmp_path / "limited-proxy"
    workdir.mkdir()
    with nginx_proxy([node_a, node_b], [node_a, node_b], workdir, limits) as (proxy, cert):
        context = ssl.create_default_context(cafile=str(cert))
        answers = [request(f"{proxy}/auth/token", context=context) for _ in range(12)]
        statuses = [status for status, _, _ in answers]
        assert statuses[:4] == [401] * 4, statuses  # the burst reaches the portal (no credentials)
        limited = [(headers, body) for status, headers, body in answers if status == 429]
        assert len(limited) >= 6, statuses
        headers, body = limited[0]
        assert headers["Content-Type"] == "application/json"
        assert headers["Retry-After"] == "1"
        assert json.loads(body) == {
            "errors": [
                {
                    "code": "TOOMANYREQUESTS",
                    "message": "Too many token requests from your address. Try again in a moment.",
                }
            ]
        }
        for _ in range(5):
            assert request(f"{proxy}/healthz", context=context)[0] == 200
    # An address listed as not limited (one's own build farm) is never refused by the proxy.
    unlimited = {**limits, "    # 10.20.0.0/16 1;": "    127.0.0.1 1;"}
    workdir = tmp_path / "unlimited-proxy"
    workdir.mkdir()
    with nginx_proxy([node_a, node_b], [node_a, node_b], workdir, unlimited) as (proxy, cert):
        context = ssl.create_default_context(cafile=str(cert))
        statuses = [request(f"{proxy}/auth/token", context=context)[0] for _ in range(12)]
        assert statuses == [401] * 12, statuses


def test_the_systemd_units_are_valid(tmp_path):
    """systemd-analyze checks each unit's syntax and that its programs exist (here: this
    checkout standing in for /opt/iam-portal)."""
    analyze = shutil.which("systemd-analyze")
    require_tool(analyze is not None, "systemd-analyze")
    env_file = tmp_path / "env"
    env_file.write_text("")
    units = [tmp_path / shipped.name for shipped in SYSTEMD_UNITS]
    for shipped, unit in zip(SYSTEMD_UNITS, units, strict=True):
        unit.write_text(
            shipped.read_text()
            .replace("/opt/iam-portal", str(REPO))
            .replace("/etc/iam-portal/env", str(env_file))
        )
    for unit in units:
        result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True)
        assert result.returncode == 0, (unit.name, result.stderr)
        # Parse warnings name the unit.
        assert not any(u.name in result.stderr for u in units), result.stderr
