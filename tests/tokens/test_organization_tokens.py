"""Organisation access tokens at the registry's token service: they sign in with the
organisation's name, pull as a plain member of that organisation alone (no owner bypass, no
team grant), push only to its namespace and only with ``repo:write``, never outside their
patterns, stop at expiry or revocation, and outlive the person who made them."""

import logging
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from activity.models import PullDecision
from orgs.services import organization_member_remove
from policies.models import PolicyChange
from tests.factories import (
    add_entry,
    add_owner,
    make_org_token,
    make_team,
    make_user,
    set_grant,
    set_policy,
    set_token_policy,
)
from tokens.models import OrganizationToken
from tokens.services import (
    access_token_create,
    organization_token_create,
    organization_token_revoke,
)

UBUNTU = "repository:library/ubuntu:pull"
PUSH_ACME = "repository:acme/app:pull,push"


@pytest.fixture
def pull_only(acme):
    token, secret = make_org_token(acme.org, by=acme.owner)
    return ("acme", secret)


@pytest.fixture
def pull_push(acme):
    token, secret = make_org_token(acme.org, by=acme.owner, name="release", scope="repo:write")
    return ("acme", secret)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_signs_in_with_the_organisation_name_and_pulls(acme, ask, granted, pull_only, method):
    response = ask(UBUNTU, "repository:acme/app:pull", auth=pull_only, method=method)
    assert granted(response) == {"library/ubuntu": ["pull"], "acme/app": ["pull"]}


@pytest.mark.parametrize("username", ["olivia", "globex", "mike"])
def test_another_username_is_refused(acme, ask, pull_only, username):
    response = ask(UBUNTU, auth=(username, pull_only[1]))
    assert response.status_code == 401
    assert "organization" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_pull_only_token_asking_to_push_gets_no_push(acme, ask, granted, pull_only, method):
    assert granted(ask(PUSH_ACME, auth=pull_only, method=method)) == {"acme/app": ["pull"]}


def test_a_pull_and_push_token_pushes_to_its_organisation_only(acme, ask, granted, pull_push):
    response = ask(
        PUSH_ACME, "repository:globex/app:pull,push", "repository:someone/x:push", auth=pull_push
    )
    assert granted(response) == {"acme/app": ["pull", "push"], "globex/app": ["pull"]}


def test_a_token_limited_by_patterns_touches_nothing_outside_them(acme, ask, granted, caplog):
    _token, secret = make_org_token(
        acme.org, by=acme.owner, scope="repo:write", repositories="acme/app\nlibrary/*"
    )
    with caplog.at_level(logging.INFO, logger="tokens.endpoint"):
        response = ask(
            PUSH_ACME,
            "repository:acme/other:pull,push",
            "repository:library/ubuntu:pull",
            "repository:bitnami/redis:pull",
            auth=("acme", secret),
        )
    assert granted(response) == {"acme/app": ["pull", "push"], "library/ubuntu": ["pull"]}
    assert "push acme/other: outside the organization token's repositories" in caplog.text


def test_a_pattern_limited_refusal_is_told_to_docker(acme, ask, pull_only):
    _token, secret = make_org_token(acme.org, by=acme.owner, name="p", repositories="acme/app")
    response = ask(
        "repository:acme/other:pull", auth=("acme", secret), headers={"User-Agent": "docker/27"}
    )
    assert response.status_code == 403
    assert "outside the organization token's repositories" in response.json()["details"]


def test_the_organisations_policy_applies_with_no_owner_bypass(acme, ask, granted, pull_only):
    """The token was made by an owner, who may pull anything: the token may not."""
    set_policy(acme.org, actor=acme.owner, enabled=True, official=False)
    scopes = (UBUNTU, "repository:acme/app:pull", "repository:bitnami/redis:pull")
    assert granted(ask(*scopes, auth=pull_only)) == {"acme/app": ["pull"]}
    assert granted(
        ask(*scopes, auth=("olivia", access_token_create(user=acme.owner, name="t")[1]))
    ) == {
        "library/ubuntu": ["pull"],
        "acme/app": ["pull"],
        "bitnami/redis": ["pull"],
    }


def test_team_grants_and_team_entries_do_not_count_organisation_wide_ones_do(
    acme, ask, granted, pull_only
):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    team = make_team(acme.org, "platform", acme.member)
    set_grant(team, actor=acme.owner, official=True)
    add_entry(acme.org, "someone/tool", actor=acme.owner, team=team)
    add_entry(acme.org, "other/thing", actor=acme.owner)
    scopes = (UBUNTU, "repository:someone/tool:pull", "repository:other/thing:pull")
    assert granted(ask(*scopes, auth=pull_only)) == {"other/thing": ["pull"]}


def test_audit_only_refusals_are_recorded_not_enforced(acme, ask, granted, pull_only):
    set_policy(acme.org, actor=acme.owner, enabled=True, audit_only=True)
    assert granted(ask(UBUNTU, auth=pull_only)) == {"library/ubuntu": ["pull"]}
    assert PullDecision.objects.get().outcome == "would_block"


def test_recorded_in_the_activity_log_under_the_tokens_name(acme, ask, pull_only):
    ask(UBUNTU, auth=pull_only, headers={"User-Agent": "skopeo/1.13"})
    row = PullDecision.objects.get()
    assert (row.user_id, row.username, row.signed_in_with, row.credential) == (
        None,
        "acme/ci-pipeline",
        "org_token",
        "ci-pipeline",
    )
    assert list(row.filed_under) == [str(acme.org.pk)]
    assert row.policy_version_for(acme.org.pk) == acme.org.access_policy.version
    assert OrganizationToken.objects.get().last_used_at is not None


def test_no_registry_session_is_opened(acme, ask, pull_only):
    response = ask(UBUNTU, auth=pull_only, method="POST", access_type="offline")
    assert response.status_code == 200
    assert "refresh_token" not in response.json()


def test_expired_and_revoked_tokens_are_refused(acme, ask, pull_only):
    token = OrganizationToken.objects.get()
    OrganizationToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert ask(UBUNTU, auth=pull_only).status_code == 401
    OrganizationToken.objects.filter(pk=token.pk).update(expires_at=None)
    assert ask(UBUNTU, auth=pull_only).status_code == 200
    organization_token_revoke(token=token, actor=acme.owner)
    assert ask(UBUNTU, auth=pull_only).status_code == 401


def test_survives_its_creator_leaving_then_being_deactivated_then_deleted(
    acme, ask, granted, pull_push
):
    add_owner(acme.org, acme.member)
    organization_member_remove(organization=acme.org, user=acme.owner)
    assert granted(ask(PUSH_ACME, auth=pull_push)) == {"acme/app": ["pull", "push"]}
    acme.owner.is_active = False
    acme.owner.save()
    assert granted(ask(PUSH_ACME, auth=pull_push)) == {"acme/app": ["pull", "push"]}
    acme.owner.delete()
    token = OrganizationToken.objects.get(name="release")
    assert (token.created_by, token.created_by_username) == (None, "olivia")
    assert granted(ask(PUSH_ACME, auth=pull_push)) == {"acme/app": ["pull", "push"]}


def test_a_token_of_another_organisation_does_not_push_here(acme, ask, granted):
    _token, secret = make_org_token(acme.globex, by=acme.gina, scope="repo:write")
    assert granted(ask(PUSH_ACME, auth=("globex", secret))) == {"acme/app": ["pull"]}


# --- the service ------------------------------------------------------------------------------


def test_never_expiring_only_where_the_organisation_allows_it(acme):
    with pytest.raises(ValidationError, match="does not allow tokens that never expire"):
        make_org_token(acme.org, by=acme.owner, expires_days=None)
    set_token_policy(acme.org, by=acme.owner, allow_non_expiring=True)
    token, _secret = make_org_token(acme.org, by=acme.owner, expires_days=None)
    assert token.expires_at is None


@pytest.mark.parametrize("days", [1, 7, 60, 366, 3650])
def test_the_expiry_comes_from_the_list(acme, days):
    with pytest.raises(ValidationError, match="30 days, 90 days, 1 year"):
        make_org_token(acme.org, by=acme.owner, expires_days=days)


@pytest.mark.parametrize("pattern", ["*", "acme/*/x", "Acme/App", "registry.io/acme/app"])
def test_bad_patterns_are_refused(acme, pattern):
    with pytest.raises(ValidationError):
        make_org_token(acme.org, by=acme.owner, repositories=pattern)


def test_patterns_are_stored_normalised(acme):
    token, _ = make_org_token(acme.org, by=acme.owner, repositories="ubuntu, acme/**  ubuntu")
    assert token.patterns == ("library/ubuntu", "acme/**")


def test_one_active_token_per_name(acme):
    make_org_token(acme.org, by=acme.owner)
    with pytest.raises(ValidationError, match="already has an active token"):
        make_org_token(acme.org, by=acme.owner)


def test_creation_and_revocation_are_in_the_history(acme):
    token, _ = organization_token_create(
        organization=acme.org,
        actor=acme.owner,
        name="ci",
        scope="repo:write",
        repositories="acme/app",
        expires_days=30,
    )
    organization_token_revoke(token=token, actor=acme.owner)
    organization_token_revoke(token=token, actor=acme.owner)
    lines = [line for change in PolicyChange.objects.all() for line in change.described()]
    assert len(lines) == 2
    assert lines[0].startswith(f"Organization token 'ci' (iamo_…{token.hint}) revoked")
    assert lines[1].startswith("Organization token 'ci'")
    assert "created: pull and push, limited to 'acme/app', expires" in lines[1]


def test_a_new_person_in_the_creators_name_gets_nothing(acme, ask, pull_only):
    """The token is the organisation's: whoever is called olivia later cannot use it."""
    acme.owner.delete()
    make_user("olivia")
    assert ask(UBUNTU, auth=("olivia", pull_only[1])).status_code == 401
