"""Bodies Python or Django refuse to read (JSON nested 1,100 deep, a body over
``DATA_UPLOAD_MAX_MEMORY_SIZE``) are the API's JSON 400 on every endpoint, never an HTML page
or a server error."""

import pytest
from django.conf import settings
from django.test import Client, RequestFactory

from api.errors import server_error
from tests.factories import PASSWORD

DEPTH = 1_100
DEEP_BODIES = {
    "array": "[" * DEPTH + "]" * DEPTH,
    "object": '{"a":' * DEPTH + "1" + "}" * DEPTH,
    "inside a field": '{"identifier": "mike", "secret": ' + "[" * DEPTH + "]" * DEPTH + "}",
}
# (role, method, URL): endpoints that read a JSON body, anonymous and signed in.
ENDPOINTS = [
    (None, "post", "/v2/auth/token"),
    ("member", "post", "/api/v1/check"),
    ("owner", "put", "/v2/orgs/acme/settings"),
    ("owner", "patch", "/api/v1/orgs/acme/settings"),
    ("owner", "post", "/api/v1/orgs/acme/allowlist"),
    ("member", "post", "/api/v1/orgs/acme/exception-requests"),
]


def call(acme, api, role, method, url, body, content_type="application/json"):
    client = api(getattr(acme, role)) if role else api(None)
    return getattr(client.client, method)(url, body, content_type=content_type, **client.headers)


def assert_json_400(response, words):
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert words in response.json()["detail"]


@pytest.mark.parametrize("kind", DEEP_BODIES)
@pytest.mark.parametrize(("role", "method", "url"), ENDPOINTS)
def test_deeply_nested_json_is_a_json_400(acme, api, role, method, url, kind):
    response = call(acme, api, role, method, url, DEEP_BODIES[kind])
    assert_json_400(response, "nested too deeply")


@pytest.mark.parametrize(("role", "method", "url"), ENDPOINTS)
def test_a_body_over_the_upload_limit_is_a_json_400(acme, api, role, method, url):
    body = '{"a": "' + "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + '"}'
    assert_json_400(call(acme, api, role, method, url, body), "DATA_UPLOAD_MAX_MEMORY_SIZE")


def test_a_form_with_too_many_fields_is_refused_in_json(acme):
    """The API reads JSON only: a form, even one over ``DATA_UPLOAD_MAX_NUMBER_FIELDS``
    fields sent with a session and its CSRF cookie, is refused (415) in JSON before Django
    counts its fields."""
    client = Client(enforce_csrf_checks=True)
    client.login(username=acme.member.username, password=PASSWORD)
    client.cookies[settings.CSRF_COOKIE_NAME] = "a" * 32
    fields = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1
    body = "&".join(f"f{index}=1" for index in range(fields))
    response = client.post("/api/v1/check", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert "Unsupported media type" in response.json()["detail"]


def test_a_request_refused_before_the_api_is_a_json_400(db):
    """A request Django refuses before any view (here an unknown Host) is JSON on the API's
    paths and the 400 page elsewhere."""
    client = Client(raise_request_exception=False, HTTP_HOST="evil.example")
    api_answer = client.get("/api/v1/user")
    assert api_answer.status_code == 400
    assert api_answer.json() == {"detail": "Bad request."}
    page = client.get("/orgs/")
    assert page.status_code == 400
    assert page["Content-Type"].startswith("text/html")


def test_a_server_error_on_the_api_is_json():
    factory = RequestFactory()
    answer = server_error(factory.get("/api/v1/user"))
    assert answer.status_code == 500
    assert answer["Content-Type"] == "application/json"
    assert server_error(factory.get("/orgs/"))["Content-Type"].startswith("text/html")


def test_a_query_string_with_too_many_fields_is_a_json_400(acme, api):
    """Past ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` query parameters Django refuses to read the query
    string (before any view): JSON on the API, the 400 page elsewhere."""
    query = "&".join(f"f{index}=1" for index in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    member = api(acme.member)
    member.client.raise_request_exception = False
    answer = member.get(f"/api/v1/orgs?{query}")
    assert answer.status_code == 400
    assert answer.json() == {"detail": "Bad request."}
    page = member.client.get(f"/orgs/?{query}")
    assert page.status_code == 400
    assert page["Content-Type"].startswith("text/html")
