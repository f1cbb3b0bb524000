"""Scoped access tokens at the registry's token service: a ``repo:read`` token, and every
registry session it opens, pulls what the policy allows and never pushes."""

import pytest

from policies.engine import PullSnapshot
from tests.factories import PASSWORD, make_user
from tests.tokens.conftest import offline
from tokens.grants import Requester, grant_access
from tokens.scopes import parse_scopes

PUSH_ACME = "repository:acme/app:pull,push"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_read_only_token_pulls_but_never_pushes(acme, ask, granted, token_of, method):
    auth = token_of(acme.member, scope="repo:read")
    response = ask(PUSH_ACME, "repository:library/alpine:pull", auth=auth, method=method)
    assert granted(response) == {"acme/app": ["pull"], "library/alpine": ["pull"]}
    assert response.json()["scope"] == "repository:acme/app:pull repository:library/alpine:pull"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_write_token_pushes_to_its_organisation(acme, ask, granted, token_of, method):
    response = ask(PUSH_ACME, auth=token_of(acme.member, scope="repo:write"), method=method)
    assert granted(response) == {"acme/app": ["pull", "push"]}


def test_site_staff_with_a_read_only_token_do_not_push(db, ask, granted, token_of):
    admin = make_user("admin", is_staff=True)
    response = ask("repository:someone/thing:pull,push", auth=token_of(admin, scope="repo:read"))
    assert granted(response) == {"someone/thing": ["pull"]}


def test_the_account_password_is_not_limited_by_any_token(acme, ask, granted):
    response = ask(PUSH_ACME, auth=("mike", PASSWORD))
    assert granted(response) == {"acme/app": ["pull", "push"]}


def test_a_session_opened_by_a_read_only_token_never_pushes(acme, ask, refresh, granted, token_of):
    secret = offline(ask, token_of(acme.member, scope="repo:read"))
    assert granted(refresh(secret, PUSH_ACME)) == {"acme/app": ["pull"]}


def test_a_session_opened_by_a_write_token_pushes(acme, ask, refresh, granted, token_of):
    secret = offline(ask, token_of(acme.member, scope="repo:write"))
    assert granted(refresh(secret, PUSH_ACME)) == {"acme/app": ["pull", "push"]}


def test_the_refusal_says_the_token_is_read_only():
    """The pure grant: the refused push is named with the reason, which the service logs."""
    requester = Requester(snapshot=PullSnapshot(username="mike"), is_staff=True, read_only=True)
    grant = grant_access(requester, parse_scopes([PUSH_ACME]))
    assert grant.access == [{"type": "repository", "name": "acme/app", "actions": ["pull"]}]
    assert grant.refusals == ["push acme/app: the access token is read-only (repo:read)"]
