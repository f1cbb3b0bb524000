"""The WSGI entry point gunicorn serves: the token endpoint through its lean handler, every
other path through the full middleware stack."""

import io
import json
import sys

import jwt
import pytest
from cryptography import x509

from portal.wsgi import application
from tests.conftest import REGISTRY_SERVICE, TOKEN_ISSUER
from tests.tokens.conftest import basic
from tokens.services import access_token_create

# The real handler closes the connection at request start and end unless it is reusable, as
# in production (Django's test client turns that off); so each test commits for real.
pytestmark = pytest.mark.django_db(transaction=True)


def call(path, *, query="", method="GET", headers=None, body=b"", host="127.0.0.1"):
    """One request through ``portal.wsgi.application``: ``(status code, headers, body)``."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        **{
            f"HTTP_{name.upper().replace('-', '_')}": value
            for name, value in (headers or {}).items()
        },
    }
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"], answer["headers"] = int(status.split()[0]), dict(response_headers)

    content = b"".join(application(environ, start_response))
    return answer["status"], answer["headers"], content


@pytest.fixture
def member_secret(acme, token_keys):
    return access_token_create(user=acme.member, name="ci")[1]


@pytest.fixture
def member_token(member_secret):
    return basic("mike", member_secret)


def granted_access(content: bytes, certificate) -> list:
    token = json.loads(content)["access_token"]
    public_key = x509.load_pem_x509_certificate(certificate.read_bytes()).public_key()
    claims = jwt.decode(
        token, public_key, algorithms=["ES256"], audience=REGISTRY_SERVICE, issuer=TOKEN_ISSUER
    )
    return claims["access"]


def test_the_token_endpoint_answers_through_its_lean_handler(member_token, token_keys):
    query = f"service={REGISTRY_SERVICE}&scope=repository:library/alpine:pull"
    status, headers, content = call(
        "/auth/token", query=query, headers={"Authorization": member_token}
    )
    assert status == 200
    assert granted_access(content, token_keys) == [
        {"type": "repository", "name": "library/alpine", "actions": ["pull"]}
    ]
    assert headers["Cache-Control"] == "no-store"
    # None of the page middleware ran: no CSP, no session or CSRF cookie, no framing header.
    assert "Content-Security-Policy" not in headers
    assert "Set-Cookie" not in headers and "X-Frame-Options" not in headers
    assert headers["X-Content-Type-Options"] == "nosniff"  # the security middleware did


def test_the_oauth2_post_flow_answers_through_the_lean_handler(member_secret, token_keys):
    body = (
        f"grant_type=password&username=mike&password={member_secret}"
        f"&service={REGISTRY_SERVICE}&scope=repository:library/alpine:pull&client_id=test"
    ).encode()
    status, headers, content = call("/auth/token", method="POST", body=body)
    assert status == 200, content
    assert granted_access(content, token_keys) == [
        {"type": "repository", "name": "library/alpine", "actions": ["pull"]}
    ]
    assert "Set-Cookie" not in headers


def test_the_token_endpoint_still_checks_the_host(member_token):
    status, _, _ = call(
        "/auth/token",
        query="scope=repository:alpine:pull",
        host="evil.example",
        headers={"Authorization": member_token},
    )
    assert status == 400


def test_pages_still_get_the_full_stack(acme):
    status, headers, _ = call("/accounts/login/")
    assert status == 200
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert "csrftoken=" in headers.get("Set-Cookie", "")
