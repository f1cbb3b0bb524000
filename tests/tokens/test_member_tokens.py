"""Owners' control over their members' personal access tokens: a cap on their lifetime for the
organisation's repositories, enforced at the token service, and revocation with the member
told."""

import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from orgs.models import Organization
from policies.models import PolicyChange
from tests.factories import make_org, make_user, set_token_policy
from tests.tokens.conftest import offline
from tokens.models import AccessToken
from tokens.selectors import member_tokens_of
from tokens.services import access_token_create, member_token_revoke

PUSH_ACME = "repository:acme/app:pull,push"
UBUNTU = "repository:library/ubuntu:pull"


def aged(token_id: int, days: float) -> None:
    AccessToken.objects.filter(pk=token_id).update(created_at=timezone.now() - timedelta(days=days))


@pytest.fixture
def mikes_token(acme):
    token, secret = access_token_create(user=acme.member, name="laptop", scope="repo:write")
    return token, ("mike", secret)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_token_older_than_the_cap_is_refused_for_the_organisations_repositories(
    acme, ask, granted, mikes_token, caplog, method
):
    token, auth = mikes_token
    set_token_policy(acme.org, by=acme.owner, personal_token_max_days=30)
    aged(token.pk, 29)
    assert granted(ask(PUSH_ACME, UBUNTU, auth=auth, method=method)) == {
        "acme/app": ["pull", "push"],
        "library/ubuntu": ["pull"],
    }
    aged(token.pk, 31)
    with caplog.at_level(logging.INFO, logger="tokens.endpoint"):
        response = ask(PUSH_ACME, UBUNTU, auth=auth, method=method)
    assert granted(response) == {"library/ubuntu": ["pull"]}
    assert (
        "pull acme/app: the access token is older than acme's maximum lifetime for personal "
        "tokens (30 days): create a new token"
    ) in caplog.text


def test_docker_is_told_why(acme, ask, mikes_token):
    token, auth = mikes_token
    set_token_policy(acme.org, by=acme.owner, personal_token_max_days=90)
    aged(token.pk, 91)
    response = ask("repository:acme/app:pull", auth=auth, headers={"User-Agent": "docker/27.0"})
    assert response.status_code == 403
    assert (
        "older than acme's maximum lifetime for personal tokens (90 days)"
        in (response.json()["details"])
    )


def test_the_cap_binds_the_registry_sessions_the_token_opened(acme, ask, refresh, granted):
    token, secret = access_token_create(user=acme.member, name="ci", scope="repo:write")
    session = offline(ask, ("mike", secret))
    set_token_policy(acme.org, by=acme.owner, personal_token_max_days=30)
    aged(token.pk, 40)
    assert granted(refresh(session, PUSH_ACME, UBUNTU)) == {"library/ubuntu": ["pull"]}


def test_another_organisations_cap_does_not_apply(acme, ask, granted):
    """mike is in acme only; globex's cap is globex's business."""
    token, secret = access_token_create(user=acme.member, name="ci")
    set_token_policy(acme.globex, by=acme.gina, personal_token_max_days=30)
    aged(token.pk, 400)
    assert granted(ask(PUSH_ACME, auth=("mike", secret))) == {"acme/app": ["pull", "push"]}


def test_a_member_of_two_organisations_is_capped_per_organisation(acme, ask, granted):
    make_org("initech", owner=acme.gina, members=[acme.member])
    set_token_policy(acme.org, by=acme.owner, personal_token_max_days=365)
    set_token_policy(
        Organization.objects.get(name="initech"), by=acme.gina, personal_token_max_days=30
    )
    token, secret = access_token_create(user=acme.member, name="ci")
    aged(token.pk, 60)
    response = ask(PUSH_ACME, "repository:initech/app:pull,push", auth=("mike", secret))
    assert granted(response) == {"acme/app": ["pull", "push"]}


def test_the_password_is_not_capped(acme, ask, granted):
    set_token_policy(acme.org, by=acme.owner, personal_token_max_days=30)
    assert granted(ask(PUSH_ACME, auth=("mike", "test-pass-123"))) == {"acme/app": ["pull", "push"]}


def test_lifting_the_cap_lets_the_token_work_again(acme, ask, granted, mikes_token):
    token, auth = mikes_token
    set_token_policy(acme.org, by=acme.owner, personal_token_max_days=30)
    aged(token.pk, 31)
    assert granted(ask(PUSH_ACME, auth=auth)) == {}
    set_token_policy(acme.org, by=acme.owner, personal_token_max_days=None)
    assert granted(ask(PUSH_ACME, auth=auth)) == {"acme/app": ["pull", "push"]}
    lines = [line for change in PolicyChange.objects.all() for line in change.described()]
    assert lines[:2] == [
        "Maximum lifetime of members' personal tokens: 30 days → no limit",
        "Maximum lifetime of members' personal tokens: no limit → 30 days",
    ]


def test_owners_see_their_members_working_tokens_only(acme):
    mine, _ = access_token_create(user=acme.member, name="laptop")
    access_token_create(user=acme.outsider, name="elsewhere")
    old, _ = access_token_create(user=acme.member, name="old")
    old.revoked_at = timezone.now()
    old.save()
    assert list(member_tokens_of(organization=acme.org)) == [mine]


def test_revoking_a_members_token_ends_it_and_mails_the_member(
    acme, ask, mikes_token, django_capture_on_commit_callbacks
):
    token, auth = mikes_token
    acme.member.email = "mike@example.com"
    acme.member.save()
    session = offline(ask, auth)
    with django_capture_on_commit_callbacks(execute=True):
        member_token_revoke(organization=acme.org, token=token, actor=acme.owner)
    assert ask(UBUNTU, auth=auth).status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by_organization == "acme"
    assert ask(UBUNTU, auth=auth).status_code == 401
    assert token.refresh_tokens.get().revoked_at is not None
    assert session
    (sent,) = mail.outbox
    assert sent.to == ["mike@example.com"]
    assert sent.subject == "An owner of acme revoked your access token 'laptop'"
    assert "olivia, an owner of acme, revoked your personal access token 'laptop'" in sent.body
    (change,) = PolicyChange.objects.filter(changes__has_key="member_token_revoked")
    assert change.described() == [
        f"Personal access token 'laptop' (iamp_…{token.hint}) of mike revoked"
    ]


def test_no_mail_when_the_revocation_fails(acme, django_capture_on_commit_callbacks):
    token, _ = access_token_create(user=acme.outsider, name="elsewhere")
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ValidationError, match="not a member's"),
    ):
        member_token_revoke(organization=acme.org, token=token, actor=acme.owner)
    assert mail.outbox == []
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_revoked_token_cannot_be_revoked_again(acme, mikes_token):
    token, _ = mikes_token
    member_token_revoke(organization=acme.org, token=token, actor=acme.owner)
    with pytest.raises(ValidationError, match="already revoked"):
        member_token_revoke(organization=acme.org, token=token, actor=acme.owner)


def test_cap_read_costs_no_extra_query(acme, ask, mikes_token, django_assert_max_num_queries):
    """The cap comes with the token's row: one query for the token, its memberships and their
    caps, and the decision's INSERT."""
    token, auth = mikes_token
    set_token_policy(acme.org, by=acme.owner, personal_token_max_days=30)
    make_user("someone")
    ask(UBUNTU, auth=auth)  # last_used_at written once
    with django_assert_max_num_queries(2):
        ask(UBUNTU, auth=auth)
