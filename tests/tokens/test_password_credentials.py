"""What a password opens ends with it: registry sessions (refresh tokens) and API bearers made
with the account password stop working when the password is changed or reset, or the account
is deactivated; sessions opened with the password also expire. Those opened with an access
token live as long as the token."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.api.conftest import Api, sign_in
from tests.factories import PASSWORD
from tests.tokens.conftest import offline
from tokens.models import RefreshToken

NEW_PASSWORD = "another-Secret-4711"
PULL = "repository:library/alpine:pull"


def change_password(user):
    client = Client()
    client.force_login(user)
    response = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.content


def reset_password(user, mailoutbox):
    client = Client()
    client.post("/accounts/password_reset/", {"email": user.email})
    (mail,) = mailoutbox
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", mail.body)[1]
    form_url = client.get(link).url  # Django swaps the token for a session key
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302, response.content


def deactivate(user):
    user.is_active = False
    user.save()


ENDINGS = {
    "changed": lambda user, mailoutbox: change_password(user),
    "reset": reset_password,
    "deactivated": lambda user, mailoutbox: deactivate(user),
}


@pytest.mark.parametrize("ending", ENDINGS)
def test_a_registry_session_opened_with_the_password_ends_with_it(
    acme, ask, refresh, token_of, mailoutbox, ending
):
    by_password = offline(ask, ("mike", PASSWORD))
    by_token = offline(ask, token_of(acme.member))
    assert refresh(by_password, PULL).status_code == 200
    acme.member.email = "mike@example.com"
    acme.member.save()

    ENDINGS[ending](acme.member, mailoutbox)

    response = refresh(by_password, PULL)
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "Invalid or revoked refresh token."
    # A session opened with an access token outlives a password change (not a deactivation).
    assert refresh(by_token, PULL).status_code == (401 if ending == "deactivated" else 200)


@pytest.mark.parametrize("ending", ENDINGS)
def test_an_api_bearer_made_with_the_password_ends_with_it(acme, mailoutbox, ending):
    acme.member.email = "mike@example.com"
    acme.member.save()
    bearer = sign_in("mike", PASSWORD)
    api = Api(f"Bearer {bearer}")
    assert api.get("/api/v1/user").status_code == 200
    # What a password bearer could do: mint a never-expiring access token.
    assert (
        api.post("/v2/access-tokens", {"token_label": "ci", "scopes": ["repo:read"]}).status_code
        == 201
    )

    ENDINGS[ending](acme.member, mailoutbox)

    assert api.get("/api/v1/user").status_code == 401
    response = api.post("/v2/access-tokens", {"token_label": "ci2", "scopes": ["repo:read"]})
    assert response.status_code == 401
    if ending != "deactivated":
        assert Api(f"Bearer {sign_in('mike', NEW_PASSWORD)}").get("/api/v1/user").status_code == 200


def test_a_password_session_expires(acme, ask, refresh, settings):
    settings.REGISTRY_PASSWORD_SESSION_DAYS = 30
    secret = offline(ask, ("mike", PASSWORD))
    session = RefreshToken.objects.get()
    assert session.access_token is None
    assert timedelta(days=29, hours=23) < session.expires_at - timezone.now() <= timedelta(days=30)
    assert session.password_binding
    assert refresh(secret, PULL).status_code == 200

    RefreshToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert refresh(secret, PULL).status_code == 401


def test_a_session_opened_with_an_access_token_has_no_expiry_of_its_own(acme, ask, token_of):
    offline(ask, token_of(acme.member))
    session = RefreshToken.objects.get()
    assert session.expires_at is None and session.password_binding == ""


def test_a_session_revoked_through_its_access_token_ends(acme, ask, refresh, token_of):
    """The session reader checks the access token's own revocation, not the session's."""
    from tokens.models import AccessToken

    secret = offline(ask, token_of(acme.member))
    AccessToken.objects.update(revoked_at=timezone.now())  # e.g. through the admin
    assert RefreshToken.objects.get().revoked_at is None
    assert refresh(secret, PULL).status_code == 401
