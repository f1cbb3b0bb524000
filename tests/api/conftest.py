"""Fixtures for the API's tests: a JSON client that signs in as someone, several ways."""

import json

import pytest
from django.test import Client

from tests.factories import PASSWORD
from tokens.services import access_token_create


class Api:
    """Django's test client speaking JSON with one ``Authorization`` header (or none)."""

    def __init__(self, authorization: str | None = None, client: Client | None = None):
        self.client = client or Client()
        self.headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    def call(self, method: str, url: str, body=None, **headers):
        kwargs = {**self.headers, **headers}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        return getattr(self.client, method.lower())(url, **kwargs)

    def get(self, url, **headers):
        return self.call("GET", url, **headers)

    def post(self, url, body=None, **headers):
        return self.call("POST", url, {} if body is None else body, **headers)

    def put(self, url, body=None, **headers):
        return self.call("PUT", url, {} if body is None else body, **headers)

    def patch(self, url, body=None, **headers):
        return self.call("PATCH", url, {} if body is None else body, **headers)

    def delete(self, url, **headers):
        return self.call("DELETE", url, **headers)


def sign_in(identifier: str, secret: str) -> str:
    """The bearer ``POST /v2/auth/token`` returns for these credentials."""
    response = Api().post("/v2/auth/token", {"identifier": identifier, "secret": secret})
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


@pytest.fixture
def api():
    """``api(user, how="password"|"repo:read"|"repo:write"|"token:repo:read"|...)`` -> an
    :class:`Api` signed in as ``user``: with a bearer from ``POST /v2/auth/token`` made from
    the password (default) or from an access token of that scope, or (``token:<scope>``) with
    the access token itself as the bearer; ``api(None)``: anonymous."""

    def _api(user, how: str = "password") -> Api:
        if user is None:
            return Api()
        if how == "password":
            return Api(f"Bearer {sign_in(user.username, PASSWORD)}")
        direct = how.startswith("token:")
        scope = how.removeprefix("token:")
        _, secret = access_token_create(user=user, name=f"api-{how}", scope=scope)
        if direct:
            return Api(f"Bearer {secret}")
        return Api(f"Bearer {sign_in(user.username, secret)}")

    return _api


@pytest.fixture
def owner_api(acme, api):
    return api(acme.owner)


@pytest.fixture
def member_api(acme, api):
    return api(acme.member)
