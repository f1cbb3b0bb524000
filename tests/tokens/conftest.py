"""Fixtures for the token service's tests: its signing key and a client that asks it."""

import base64
from urllib.parse import urlencode

import jwt
import pytest
from cryptography import x509

from tests.conftest import REGISTRY_SERVICE, TOKEN_ISSUER
from tokens.services import access_token_create

URL = "/auth/token"
ISSUER, SERVICE = TOKEN_ISSUER, REGISTRY_SERVICE


def post_form(client, data: dict, **kwargs):
    """POST ``data`` to the token service as the OAuth2 flow does: a URL-encoded form."""
    return client.post(
        URL, urlencode(data), content_type="application/x-www-form-urlencoded", **kwargs
    )


def basic(username: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode()


@pytest.fixture
def signing(token_keys):
    """The certificate of the token service's fresh signing key."""
    return x509.load_pem_x509_certificate(token_keys.read_bytes())


@pytest.fixture
def ask(client, signing):
    """``ask(*scopes, auth=(user, secret) | None, service=SERVICE, method="GET", headers=None)``
    -> the response. GET sends Basic credentials and one ``scope`` parameter per scope, as
    skopeo does; POST sends the OAuth2 password grant with the scopes space-separated in one
    parameter, as containerd does. Other keywords are request parameters."""

    def _ask(*scopes, auth=None, service=SERVICE, method="GET", headers=None, **params):
        if method == "POST":
            form = {"grant_type": "password", "client_id": "containerd-client", **params}
            if auth:
                form.update(username=auth[0], password=auth[1])
            if scopes:
                form["scope"] = " ".join(scopes)
            if service is not None:
                form["service"] = service
            return post_form(client, form, headers=headers)
        query = {"account": auth[0] if auth else "", "scope": list(scopes), **params}
        if service is not None:
            query["service"] = service
        authorization = {"HTTP_AUTHORIZATION": basic(*auth)} if auth else {}
        return client.get(URL, query, headers=headers, **authorization)

    return _ask


@pytest.fixture
def claims_of(signing):
    """Verify a successful response's JWT against the certificate; return its claims."""

    def _claims_of(response) -> dict:
        assert response.status_code == 200, response.content
        return jwt.decode(
            response.json()["token"],
            signing.public_key(),
            algorithms=["ES256"],
            audience=SERVICE,
            issuer=ISSUER,
            options={"require": ["exp", "nbf", "iat", "iss", "aud", "sub", "jti"]},
        )

    return _claims_of


@pytest.fixture
def granted(claims_of):
    """``granted(response)`` -> ``{repository name: [actions]}`` from the verified token."""

    def _granted(response) -> dict[str, list[str]]:
        access = claims_of(response)["access"]
        assert all(entry["type"] == "repository" for entry in access)
        return {entry["name"]: entry["actions"] for entry in access}

    return _granted


@pytest.fixture
def token_of():
    def _token_of(user, **extra) -> tuple[str, str]:
        return user.username, access_token_create(user=user, name="registry", **extra)[1]

    return _token_of


@pytest.fixture
def refresh(client, signing):
    """``refresh(secret, *scopes, **form)`` -> the response of a refresh-token grant."""

    def _refresh(secret, *scopes, **form):
        data = {
            "grant_type": "refresh_token",
            "refresh_token": secret,
            "service": SERVICE,
            "client_id": "docker",
            **form,
        }
        if scopes:
            data["scope"] = " ".join(scopes)
        return post_form(client, data)

    return _refresh


def offline(ask, auth, *scopes) -> str:
    """Sign in by POST with ``access_type=offline``; the refresh token."""
    response = ask(*scopes, auth=auth, method="POST", access_type="offline", client_id="docker")
    assert response.status_code == 200, response.content
    return response.json()["refresh_token"]
