"""A refused pull tells the member why, where the client can show it: Docker Engine prints a
403's ``details`` from the token service, so a request refused as a whole by a ``docker/``
client gets a 403 with the policy's reason; every other case keeps the spec's 200 with the
refused scopes left out of the token."""

import pytest

from activity.models import PullDecision
from policies.hub_cache import restriction_check
from tests.factories import add_entry, make_org, make_user, set_policy

ENGINE = "docker/20.10.24+dfsg1 go/go1.19.8 git-commit/5d6db84 kernel/6.1.0 os/linux arch/amd64"
SKOPEO = "skopeo/1.9.3"
ACTIVITY = "http://127.0.0.1:8000/settings/activity/"  # SITE_URL's default


def pulls(*names):
    return [f"repository:{name}:pull" for name in names]


@pytest.fixture
def enforcing(acme):
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True)
    return acme


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_docker_engine_is_told_the_policys_reason(enforcing, ask, token_of, method):
    response = ask(
        *pulls("someone/thing"),
        auth=token_of(enforcing.member),
        method=method,
        headers={"User-Agent": ENGINE},
    )
    assert response.status_code == 403
    body = response.json()
    message = (
        "pull of someone/thing refused: Community images are blocked by acme's Image Access "
        f"Management. Your pull activity says why: {ACTIVITY}"
    )
    assert body == {"errors": [{"code": "DENIED", "message": message}], "details": message}
    assert response["Cache-Control"] == "no-store"
    assert response.wsgi_request.refusal_logged  # logged once, not again by django.request


def test_the_refusal_is_recorded_like_any_other(enforcing, ask, token_of):
    ask(*pulls("someone/thing"), auth=token_of(enforcing.member), headers={"User-Agent": ENGINE})
    decision = PullDecision.objects.get(username="mike")
    assert (decision.repository, decision.outcome, decision.user_agent) == (
        "someone/thing",
        "blocked",
        ENGINE,
    )


@pytest.mark.parametrize("agent", [SKOPEO, "containerd/1.6.20", "", "Docker-Client/28.2.2"])
def test_other_clients_get_the_specs_token_without_the_scope(
    enforcing, ask, token_of, granted, agent
):
    response = ask(
        *pulls("someone/thing"), auth=token_of(enforcing.member), headers={"User-Agent": agent}
    )
    assert granted(response) == {}


def test_a_request_with_a_granted_scope_is_not_refused(enforcing, ask, token_of, granted):
    response = ask(
        *pulls("library/alpine", "someone/thing"),
        auth=token_of(enforcing.member),
        headers={"User-Agent": ENGINE},
    )
    assert granted(response) == {"library/alpine": ["pull"]}


def test_audit_only_refusals_are_not_enforced(acme, ask, token_of, granted):
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True, audit_only=True)
    response = ask(
        *pulls("someone/thing"), auth=token_of(acme.member), headers={"User-Agent": ENGINE}
    )
    assert granted(response) == {"someone/thing": ["pull"]}


def test_a_sign_in_without_scopes_is_not_refused(enforcing, ask, token_of, claims_of):
    response = ask(auth=token_of(enforcing.member), headers={"User-Agent": ENGINE})
    assert claims_of(response)["access"] == []


def test_the_reason_names_no_other_organization_nor_allowlist_entry(enforcing, ask, token_of):
    """mike is also in initech (management off), and globex has an allowlist entry for the
    image: neither appears, only what acme's policy refuses."""
    make_org("initech", owner=make_user("irene"), members=[enforcing.member])
    add_entry(enforcing.globex, actor=enforcing.gina, pattern="someone/thing", reason="secret")
    set_policy(enforcing.globex, actor=enforcing.gina, enabled=True)
    response = ask(
        *pulls("someone/thing"), auth=token_of(enforcing.member), headers={"User-Agent": ENGINE}
    )
    message = response.json()["details"]
    assert "acme" in message
    for other in ("initech", "globex", "gina", "secret"):
        assert other not in message


def test_the_sign_in_pages_check_expects_what_docker_engine_is_told(enforcing, ask, token_of):
    """The Enforce sign-in page's expected output (a plain member's refusal, decided by the
    engine) is what the token service tells Docker Engine for the same pull."""
    check = restriction_check(host="cache.example.com", organization="acme", activity_url=ACTIVITY)
    response = ask(
        *pulls("someone/tool"), auth=token_of(enforcing.member), headers={"User-Agent": ENGINE}
    )
    assert check.expected_output == f"denied: {response.json()['details']}"
