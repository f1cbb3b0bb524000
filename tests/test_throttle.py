"""Throttled sign-in: failures per (account, client address) on the web and admin sign-in forms
and at the token service (GET and POST), counted in the shared cache."""

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client

from tests.conftest import require_tool
from tests.factories import PASSWORD, make_user
from tests.tokens.conftest import SERVICE, URL, basic, post_form
from tokens.services import access_token_create

LIMIT = 3
BASE_DIR = Path(__file__).resolve().parent.parent
LOCKED = "Too many failed sign-ins for this account from your address."


class CountingHasher(MD5PasswordHasher):
    """The tests' fast hasher, counting the passwords it checks."""

    checks = 0

    def verify(self, password, encoded):
        CountingHasher.checks += 1
        return super().verify(password, encoded)


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.LOGIN_FAILURE_LIMIT = LIMIT
    settings.LOGIN_FAILURE_WINDOW = 15 * 60
    settings.PASSWORD_HASHERS = ["tests.test_throttle.CountingHasher"]
    CountingHasher.checks = 0


@pytest.fixture
def users(db, token_keys):
    mike, olivia = make_user("mike"), make_user("olivia")
    return {"mike": mike, "olivia": olivia}


def web_sign_in(path, username, password, address="10.0.0.1"):
    client = Client(REMOTE_ADDR=address)
    response = client.post(path, {"username": username, "password": password})
    return response, "_auth_user_id" in client.session


def token_request(method, username, secret, address="10.0.0.1"):
    client = Client(REMOTE_ADDR=address)
    scope = "repository:library/alpine:pull"
    if method == "GET":
        return client.get(
            URL, {"service": SERVICE, "scope": scope}, HTTP_AUTHORIZATION=basic(username, secret)
        )
    return post_form(
        client,
        {
            "grant_type": "password",
            "username": username,
            "password": secret,
            "service": SERVICE,
            "scope": scope,
            "client_id": "containerd-client",
        },
    )


def assert_locked_json(response):
    assert response.status_code == 429, response.content
    assert response.json()["errors"][0]["code"] == "TOOMANYREQUESTS"
    assert LOCKED in response.json()["errors"][0]["message"]
    assert 0 < int(response["Retry-After"]) <= 15 * 60


# --- web sign-in --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_web_sign_in_is_refused_after_the_limit_even_with_the_password(users, path):
    users["mike"].is_staff = True  # the admin signs in staff only
    users["mike"].save()
    for attempt in range(LIMIT):
        response, signed_in = web_sign_in(path, "mike", "wrong")
        assert not signed_in
        # The last counted failure already says so.
        assert (LOCKED in response.content.decode()) == (attempt == LIMIT - 1)
    checks = CountingHasher.checks

    response, signed_in = web_sign_in(path, "mike", PASSWORD)
    assert not signed_in
    page = response.content.decode()
    assert LOCKED in page and "Try again in 15 minutes." in page
    assert CountingHasher.checks == checks  # refused before the password was hashed

    # Other accounts from that address, and the account from elsewhere, are unaffected.
    users["olivia"].is_staff = True
    users["olivia"].save()
    assert web_sign_in(path, "olivia", PASSWORD)[1]
    assert web_sign_in(path, "mike", PASSWORD, address="10.0.0.2")[1]


def test_any_sign_in_with_a_request_is_refused_while_locked(users):
    """The one backend refuses first: whatever calls ``authenticate`` with a request is refused
    before the password is hashed."""
    from django.contrib.auth import authenticate
    from django.test import RequestFactory

    for _ in range(LIMIT):
        web_sign_in("/accounts/login/", "mike", "wrong")
    checks = CountingHasher.checks
    request = RequestFactory().post("/elsewhere/", REMOTE_ADDR="10.0.0.1")
    assert authenticate(request, username="mike", password=PASSWORD) is None
    assert CountingHasher.checks == checks
    other = RequestFactory().post("/elsewhere/", REMOTE_ADDR="10.0.0.2")
    assert authenticate(other, username="mike", password=PASSWORD) == users["mike"]


def test_one_pair_cannot_lock_another_whose_name_and_address_join_the_same(users):
    """ "mike1" at 27.0.0.1 and "mike" at 127.0.0.1 spell the same when joined."""
    make_user("mike1")
    for _ in range(LIMIT):
        token_request("POST", "mike1", "wrong", address="27.0.0.1")
    assert_locked_json(token_request("POST", "mike1", PASSWORD, address="27.0.0.1"))
    assert token_request("POST", "mike", PASSWORD, address="127.0.0.1").status_code == 200
    assert web_sign_in("/accounts/login/", "mike", PASSWORD, address="127.0.0.1")[1]


def test_a_successful_sign_in_resets_the_count(users):
    for _ in range(LIMIT - 1):
        web_sign_in("/accounts/login/", "mike", "wrong")
    assert web_sign_in("/accounts/login/", "mike", PASSWORD)[1]
    for _ in range(LIMIT - 1):
        web_sign_in("/accounts/login/", "mike", "wrong")
    assert web_sign_in("/accounts/login/", "mike", PASSWORD)[1]


def test_the_lock_ends_when_the_window_has_passed(users, settings):
    settings.LOGIN_FAILURE_WINDOW = 2
    for _ in range(LIMIT):
        web_sign_in("/accounts/login/", "mike", "wrong")
    response, signed_in = web_sign_in("/accounts/login/", "mike", PASSWORD)
    assert not signed_in and "Try again in 1 minute." in response.content.decode()
    time.sleep(1)
    web_sign_in("/accounts/login/", "mike", "wrong")  # refused: does not extend the lock
    time.sleep(1.2)
    assert web_sign_in("/accounts/login/", "mike", PASSWORD)[1]


# --- the token service ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_token_service_answers_429_after_the_limit(users, method):
    mike_token = access_token_create(user=users["mike"], name="ci")[1]
    for attempt in range(LIMIT):
        response = token_request(method, "mike", f"wrong-{attempt}")
        assert response.status_code == (429 if attempt == LIMIT - 1 else 401)
    checks = CountingHasher.checks

    for fail_method in ("GET", "POST"):  # both methods share the count
        assert_locked_json(token_request(fail_method, "mike", PASSWORD))
        # The account's access token is never locked: it can't be guessed, and anyone behind
        # the same address could otherwise lock the member out of the registry.
        assert token_request(fail_method, "mike", mike_token).status_code == 200
    assert CountingHasher.checks == checks

    # The web sign-in is locked too: one count per account and address.
    assert not web_sign_in("/accounts/login/", "mike", PASSWORD)[1]

    # Another account from that address, the account from another address: unaffected.
    assert token_request(method, "olivia", PASSWORD).status_code == 200
    assert token_request(method, "mike", PASSWORD, address="10.0.0.2").status_code == 200
    assert token_request(method, "mike", mike_token, address="10.0.0.2").status_code == 200


def test_token_service_success_resets_the_count(users):
    for _ in range(LIMIT - 1):
        token_request("POST", "mike", "wrong")
    assert token_request("GET", "mike", PASSWORD).status_code == 200
    for _ in range(LIMIT - 1):
        assert token_request("POST", "mike", "wrong").status_code == 401
    assert token_request("GET", "mike", PASSWORD).status_code == 200


def test_wrong_access_tokens_are_not_counted(users):
    """A token can't be guessed and refusing one costs no hash; a forgotten job with a revoked
    token must not lock its owner out."""
    for _ in range(LIMIT * 3):
        assert token_request("GET", "mike", "iamp_" + "x" * 43).status_code == 401
    assert token_request("POST", "mike", PASSWORD).status_code == 200
    assert CountingHasher.checks == 1


def test_the_client_address_behind_trusted_proxies(users, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client = Client(REMOTE_ADDR="192.0.2.1")

    def attempt(forwarded, password="wrong"):
        return post_form(
            client,
            {"grant_type": "password", "username": "mike", "password": password},
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    for _ in range(LIMIT):
        attempt("10.9.9.9, 198.51.100.7")  # the client forged the first entry
    assert attempt("10.1.1.1, 198.51.100.7", PASSWORD).status_code == 429
    assert attempt("198.51.100.8", PASSWORD).status_code == 200


def test_with_the_cache_down_tokens_work_and_passwords_are_counted_in_the_process(
    users, settings, caplog
):
    """The shared cache is no single point of failure: access tokens never touch it, and
    password sign-ins are counted in this process's memory until it is back."""
    from core import throttle

    use_redis(settings, closed_port())
    mike_token = access_token_create(user=users["mike"], name="ci")[1]
    assert token_request("GET", "mike", mike_token).status_code == 200
    assert token_request("POST", "mike", PASSWORD).status_code == 200
    for _ in range(LIMIT):
        assert token_request("POST", "mike", "wrong").status_code in (401, 429)
    assert_locked_json(token_request("POST", "mike", PASSWORD))
    assert not web_sign_in("/accounts/login/", "mike", PASSWORD)[1]
    assert token_request("POST", "mike", mike_token).status_code == 200
    assert "counting in this process" in caplog.text
    throttle.local_counters.clear()


def use_redis(settings, port: int) -> None:
    """The shared cache is the Redis on ``port`` (a closed one: down), with this process's
    fallback counters emptied."""
    from core import throttle

    throttle.local_counters.clear()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
        }
    }


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the counters are shared by every process ---------------------------------------------------

RECORD_FAILURES = """
import django
django.setup()
from django.test import RequestFactory
from core import throttle
for _ in range({limit}):
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="10.0.0.1")
    throttle.password_failed(request, "mike")
"""


def redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.parametrize("kind", ["default file cache", "redis"])
def test_failures_counted_by_another_process_lock_here(users, settings, tmp_path, kind):
    """What one gunicorn worker counts, the others see: another process records the failures,
    this one refuses the sign-in."""
    if kind == "redis":
        require_tool(redis_available(), "Redis on 127.0.0.1:6379")
        cache_url = f"redis://127.0.0.1:6379/0?key_prefix=iam-test-{os.getpid()}-{time.time()}"
    else:
        cache_url = ""  # the default, with the location set below
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "CACHE_URL": cache_url,
        "REDIS_URL": "",
        "LOGIN_FAILURE_LIMIT": str(LIMIT),
    }
    if kind != "redis":
        env["CACHE_URL"] = f"filecache://{tmp_path / 'shared-cache'}"
    subprocess.run(
        [sys.executable, "-c", RECORD_FAILURES.format(limit=LIMIT)],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    from portal.settings import env as environ

    config = environ.cache_url_config(env["CACHE_URL"])
    if "key_prefix" in config:  # as portal/settings.py reads it
        config["KEY_PREFIX"] = config.pop("key_prefix")
    settings.CACHES = {"default": config}
    assert_locked_json(token_request("POST", "mike", PASSWORD))
    assert token_request("POST", "olivia", PASSWORD).status_code == 200


# --- settings -----------------------------------------------------------------------------------


def cache_setting(key: str = "BACKEND", **variables) -> str:
    code = f"from django.conf import settings; print(settings.CACHES['default'].get({key!r}))"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "CACHE_URL": "",
            "REDIS_URL": "",
            **variables,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout.strip() or result.stderr.strip().splitlines()[-1]


def test_cache_settings():
    assert cache_setting() == "django.core.cache.backends.filebased.FileBasedCache"
    redis = "django.core.cache.backends.redis.RedisCache"
    assert cache_setting(REDIS_URL="redis://127.0.0.1:6379/0") == redis
    assert cache_setting(CACHE_URL="redis://127.0.0.1:6379/1") == redis
    assert "CACHE_URL must be shared" in cache_setting(CACHE_URL="locmemcache://")
    # ?key_prefix= is Django's KEY_PREFIX (django-environ alone would leave it unused).
    url = "redis://127.0.0.1:6379/1?key_prefix=node-a"
    assert cache_setting("KEY_PREFIX", CACHE_URL=url) == "node-a"


# --- floods across accounts, hashing slots, a Redis that goes away ------------------------------


def test_a_flood_of_rotating_usernames_is_refused_per_address_before_any_hash(users, settings):
    """Wrong passwords for ever new (mostly unknown) usernames from one address spend the
    address's budget; then every password from there is refused before a hash, while the
    address's access tokens and other addresses are served."""
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 5
    mike_token = access_token_create(user=users["mike"], name="ci")[1]
    statuses = [
        token_request("POST", f"nx{secrets.token_hex(4)}", "wrongpass").status_code
        for _ in range(5)
    ]
    assert statuses == [401] * 4 + [429]
    checks = CountingHasher.checks
    for method in ("GET", "POST"):
        response = token_request(method, f"nx{secrets.token_hex(4)}", "wrongpass")
        assert response.status_code == 429
        assert "for any account from your address" in response.json()["errors"][0]["message"]
        assert token_request(method, "olivia", PASSWORD).status_code == 429
        assert token_request(method, "mike", mike_token).status_code == 200
    assert CountingHasher.checks == checks  # no hash once the budget is spent
    assert token_request("POST", "olivia", PASSWORD, address="10.0.0.9").status_code == 200
    response, signed_in = web_sign_in("/accounts/login/", "olivia", PASSWORD)
    assert not signed_in and "for any account from your address" in response.content.decode()


def test_password_hashes_are_bounded_per_process(users, settings):
    """With every hashing slot taken, a password sign-in is refused at once (503 with
    Retry-After), while access tokens are served."""
    from core import throttle

    settings.PASSWORD_HASH_CONCURRENCY = 1
    settings.PASSWORD_HASH_WAIT = 0
    mike_token = access_token_create(user=users["mike"], name="ci")[1]
    with throttle.hashing_slot():  # another request is hashing
        response = token_request("POST", "mike", PASSWORD)
        assert response.status_code == 503
        assert response["Retry-After"] == "1"
        assert "Try again in a moment" in response.json()["errors"][0]["message"]
        assert token_request("GET", "mike", mike_token).status_code == 200
        page, signed_in = web_sign_in("/accounts/login/", "mike", PASSWORD)
        assert not signed_in and "Try again in a moment" in page.content.decode()
    assert token_request("POST", "mike", PASSWORD).status_code == 200


@pytest.fixture
def own_redis(tmp_path):
    """A Redis server this test starts (and stops) itself."""
    import shutil

    require_tool(shutil.which("redis-server") is not None, "redis-server")
    port = closed_port()
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield process, port
    process.kill()
    process.wait(timeout=10)


def test_pulls_with_access_tokens_go_on_when_redis_stops(users, settings, own_redis):
    from core import throttle

    process, port = own_redis
    use_redis(settings, port)
    mike_token = access_token_create(user=users["mike"], name="ci")[1]
    token_request("POST", "mike", "wrong")  # counted in Redis
    assert token_request("GET", "mike", mike_token).status_code == 200
    assert token_request("POST", "mike", PASSWORD).status_code == 200
    assert Client().get("/readyz").json()["status"] == "ready"

    process.kill()
    process.wait(timeout=10)
    # The node stays in rotation, degraded: a load balancer must not take every node out.
    ready = Client().get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert ready.json()["checks"]["cache"] == "failed"
    for method in ("GET", "POST"):
        assert token_request(method, "mike", mike_token).status_code == 200
    # Passwords: still served, and still throttled, in this process.
    assert token_request("POST", "mike", PASSWORD).status_code == 200
    for _ in range(LIMIT):
        token_request("POST", "mike", "wrong")
    assert_locked_json(token_request("POST", "mike", PASSWORD))
    assert token_request("POST", "mike", mike_token).status_code == 200
    throttle.local_counters.clear()
