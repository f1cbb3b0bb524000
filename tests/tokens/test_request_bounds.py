"""A token request is bounded: its body, its number of scopes and their text are checked
before any work that grows with them, and credentials before any scope is parsed. Past a
bound the answer is the protocol's JSON 400, cheaply."""

import tracemalloc
from urllib.parse import urlencode

import pytest
from django.test import RequestFactory

from tests.factories import PASSWORD
from tests.tokens.conftest import SERVICE, URL, basic, post_form
from tokens import scopes as scope_module
from tokens.endpoint import MAX_BODY_BYTES, registry_token
from tokens.scopes import MAX_SCOPE_BYTES, MAX_SCOPES


def hostile_form(count: int, **extra) -> dict:
    return {
        "grant_type": "password",
        "username": "mike",
        "password": PASSWORD,
        "service": SERVICE,
        "scope": " ".join(f"repository:acme/app{i}:pull" for i in range(count)),
        **extra,
    }


def assert_json_400(response, code="TOO_LARGE"):
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"][0]["code"] == code
    assert "token" not in response.json()


def test_a_huge_scope_list_is_refused_before_the_body_is_read(
    acme, client, signing, django_assert_num_queries
):
    """25,000 scopes (the attack: 736 KB, 12.9 s of a worker) answer a 400 with no query, no
    scope parsed, and no memory kept."""
    body = urlencode(hostile_form(25_000))
    assert len(body) > 700_000
    parsed_before = scope_module._parse_kept.cache_info()
    encoded = body.encode()

    def attack() -> int:
        request = RequestFactory().generic(
            "POST", URL, encoded, content_type="application/x-www-form-urlencoded"
        )
        return registry_token(request).status_code

    attack()  # what a first request sets up once
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        with django_assert_num_queries(0):
            statuses = {attack() for _ in range(20)}
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert statuses == {400}
    response = client.post(URL, body, content_type="application/x-www-form-urlencoded")
    assert_json_400(response)
    assert f"at most {MAX_BODY_BYTES} bytes" in response.json()["errors"][0]["message"]
    assert kept < 200_000  # 20 requests of 736 KB: nothing of them stays
    assert scope_module._parse_kept.cache_info().currsize <= parsed_before.currsize + 1


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_more_scopes_than_the_bound_are_refused(acme, client, signing, method):
    count = MAX_SCOPES + 1
    if method == "POST":
        response = post_form(client, hostile_form(count))
    else:
        response = client.get(
            URL,
            {"service": SERVICE, "scope": [f"repository:acme/app{i}:pull" for i in range(count)]},
            HTTP_AUTHORIZATION=basic("mike", PASSWORD),
        )
    assert_json_400(response)
    assert response.json()["errors"][0]["message"] == (
        f"Too many scopes: at most {MAX_SCOPES} in one request."
    )


def test_the_bound_itself_is_served(acme, ask, token_of):
    scopes = [f"repository:acme/app{i}:pull" for i in range(MAX_SCOPES)]
    response = ask(*scopes, auth=token_of(acme.member))
    assert response.status_code == 200
    assert len(response.json()["scope"].split()) == MAX_SCOPES


def test_too_much_scope_text_is_refused_before_credentials_and_parsing(acme, client, signing):
    text = "repository:acme/" + "a" * MAX_SCOPE_BYTES + ":pull"
    response = client.get(URL, {"service": SERVICE, "scope": text})  # not even signed in
    assert_json_400(response)
    assert f"at most {MAX_SCOPE_BYTES} bytes" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_credentials_are_checked_before_any_scope(acme, ask, method):
    """Wrong credentials with too many (or malformed) scopes: 401, the scopes never parsed."""
    too_many = [f"repository:acme/x{i}:pull" for i in range(MAX_SCOPES + 5)]
    parsed_before = scope_module._parse_kept.cache_info()
    response = ask(*too_many, auth=("mike", "iamp_" + "x" * 43), method=method)
    assert response.status_code == 401
    assert ask("repository:Bad:pull", auth=("mike", "wrong"), method=method).status_code == 401
    assert ask("repository:Bad:pull", method=method).status_code == 401  # anonymous, not allowed
    after = scope_module._parse_kept.cache_info()
    assert (after.hits, after.misses) == (parsed_before.hits, parsed_before.misses)


def test_a_form_of_too_many_fields_is_a_json_400(acme, client, signing):
    body = "&".join(["a="] * 5000)
    assert len(body) < MAX_BODY_BYTES
    response = client.post(URL, body, content_type="application/x-www-form-urlencoded")
    assert_json_400(response, code="INVALID_REQUEST")


def test_a_length_that_is_not_a_number_is_a_json_400(acme, client, signing):
    response = client.generic(
        "POST",
        URL,
        "grant_type=password",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH="lots",
    )
    assert_json_400(response)


def test_token_answers_carry_no_content_security_policy_but_pages_do(db, client):
    """The token service answers JSON to registries: the policy, which costs more to build than
    a token request's own work, is not built for it; every page still has it."""
    token = client.get("/auth/token", {"service": "nowhere"})
    assert token["Content-Type"] == "application/json"
    assert "Content-Security-Policy" not in token
    assert "Content-Security-Policy-Report-Only" not in token
    page = client.get("/accounts/login/")
    assert "default-src" in page["Content-Security-Policy"]
