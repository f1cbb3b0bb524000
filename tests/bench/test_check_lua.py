"""The bench's wrk check (bench/wrk/check.lua) fails answers that do not grant the pull."""

import base64
import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import wrk
from bench.scenarios import HEALTHZ, Grant, token_scenario
from tests.conftest import require_tool

GRANT = Grant(subject="benchuser", repository="library/alpine", action="pull")
SCENARIO = token_scenario(
    name="token",
    description="test",
    username="benchuser",
    secret="iamp_secret",
    service="test-registry",
    grant=GRANT,
)


def _segment(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def token_body(*, access: list[dict], sub: str = "benchuser") -> bytes:
    """A token-service answer; the signature is not checked by the load check."""
    claims = {"iss": "test", "sub": sub, "aud": "test-registry", "access": access}
    jwt = f"{_segment({'alg': 'ES256'})}.{_segment(claims)}.c2lnbmF0dXJl"
    return json.dumps({"token": jwt, "access_token": jwt, "expires_in": 300}).encode()


def serve(status: int, body: bytes):
    """A throwaway HTTP server answering every request with ``status`` and ``body``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def answered_by():
    require_tool(shutil.which("wrk") is not None, "wrk")
    servers = []

    def run(scenario, status: int, body: bytes) -> wrk.WrkResult:
        server = serve(status, body)
        servers.append(server)
        url = f"http://127.0.0.1:{server.server_address[1]}"
        return wrk.run(scenario, url, seconds=1, connections=2, threads=1)

    yield run
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_token_granting_the_pull_passes(answered_by):
    result = answered_by(SCENARIO, 200, token_body(access=GRANT.access))

    assert result.good > 0
    assert result.tokens_checked == result.good
    assert result.failures == 0


@pytest.mark.parametrize(
    ("access", "sub"),
    [
        pytest.param([], "benchuser", id="empty access"),
        pytest.param(
            [{"type": "repository", "name": "library/alpine", "actions": ["push"]}],
            "benchuser",
            id="another action",
        ),
        pytest.param(
            [{"type": "repository", "name": "library/alpine2", "actions": ["pull"]}],
            "benchuser",
            id="another repository",
        ),
        pytest.param(GRANT.access, "someoneelse", id="another subject"),
    ],
)
def test_a_token_not_granting_the_pull_fails(answered_by, access, sub):
    result = answered_by(SCENARIO, 200, token_body(access=access, sub=sub))

    assert result.requests > 0
    assert result.failures == result.requests
    assert result.first_failure


def test_a_refusal_fails(answered_by):
    result = answered_by(SCENARIO, 401, b'{"errors": []}')

    assert result.requests > 0
    assert result.failures == result.requests
    assert result.first_failure.startswith("status 401")


def test_healthz_checks_the_body(answered_by):
    assert answered_by(HEALTHZ, 200, b"ok\n").failures == 0
    assert answered_by(HEALTHZ, 200, b"not ok\n").failures > 0
