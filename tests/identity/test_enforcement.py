"""Passwords refused where single sign-on is required (an organisation's "Require single
sign-on", or the operator's SSO_ONLY), in the portal, at /auth/token (Basic and the OAuth2
password grant) and at POST /v2/auth/token; access tokens keep working."""

import pytest
from django.test import Client

from identity.config import Provider
from identity.services import organization_require_sso_set
from policies.models import PolicyChange
from tests.factories import PASSWORD, make_user
from tests.tokens.conftest import basic, post_form
from tokens.selectors import password_binding
from tokens.services import access_token_create, refresh_token_create

SSO_MESSAGE = "single sign-on"
PROVIDER = Provider(
    id="corp", label="Corp", issuer="https://idp.invalid", client_id="c", client_secret="s"
)


@pytest.fixture
def required(acme, settings, token_keys):
    settings.OIDC_PROVIDERS = (PROVIDER,)
    organization_require_sso_set(organization=acme.org, required=True, actor=acme.owner)
    return acme


def portal_login(username, password=PASSWORD):
    return Client(REMOTE_ADDR="10.1.0.1").post(
        "/accounts/login/", {"username": username, "password": password}
    )


def registry_get(username, secret):
    return Client(REMOTE_ADDR="10.1.0.2").get(
        "/auth/token",
        {"service": "test-registry", "scope": "repository:library/alpine:pull"},
        HTTP_AUTHORIZATION=basic(username, secret),
    )


def registry_post(username, secret):
    return post_form(
        Client(REMOTE_ADDR="10.1.0.3"),
        {
            "grant_type": "password",
            "username": username,
            "password": secret,
            "service": "test-registry",
            "scope": "repository:library/alpine:pull",
        },
    )


def api_token(username, secret):
    return Client(REMOTE_ADDR="10.1.0.4").post(
        "/v2/auth/token",
        {"identifier": username, "secret": secret},
        content_type="application/json",
    )


def test_require_sso_is_recorded_in_the_history(required):
    change = PolicyChange.objects.filter(organization=required.org).first()
    assert change.described() == ["Single sign-on: Not required → Required"]


def test_portal_refuses_a_members_password_and_says_to_use_sso(required):
    response = portal_login("mike")
    assert response.status_code == 200
    assert SSO_MESSAGE in response.content.decode()
    assert "acme requires single sign-on" in response.content.decode()
    assert "_auth_user_id" not in response.client.session
    assert portal_login("oscar").status_code == 302  # globex does not require it


def test_wrong_password_is_still_just_wrong(required):
    response = portal_login("mike", "wrong-password")
    assert SSO_MESSAGE not in response.content.decode()


@pytest.mark.parametrize("ask", [registry_get, registry_post, api_token])
def test_token_endpoints_refuse_the_password_and_accept_an_access_token(required, ask):
    refused = ask("mike", PASSWORD)
    assert refused.status_code == 401
    assert "acme requires single sign-on" in refused.content.decode()
    assert "access token" in refused.content.decode()
    _, secret = access_token_create(user=required.member, name="ci")
    assert ask("mike", secret).status_code == 200
    assert ask("oscar", PASSWORD).status_code == 200  # not in acme


def test_stopping_the_requirement_lets_passwords_in_again(required):
    organization_require_sso_set(organization=required.org, required=False, actor=required.owner)
    assert portal_login("mike").status_code == 302


def test_require_sso_needs_a_configured_provider(acme, settings):
    from django.core.exceptions import ValidationError

    settings.OIDC_PROVIDERS = ()
    with pytest.raises(ValidationError):
        organization_require_sso_set(organization=acme.org, required=True, actor=acme.owner)


@pytest.fixture
def sso_only(acme, settings, token_keys):
    settings.OIDC_PROVIDERS = (PROVIDER,)
    settings.SSO_ONLY = True
    settings.SSO_BREAK_GLASS_USERS = ["breakglass"]
    return make_user("breakglass", is_staff=True, is_superuser=True)


def test_sso_only_refuses_every_password_but_the_break_glass_admins(sso_only, acme):
    response = portal_login("oscar")
    assert "Passwords are turned off" in response.content.decode()
    assert registry_get("oscar", PASSWORD).status_code == 401
    assert api_token("oscar", PASSWORD).status_code == 401
    admin = Client(REMOTE_ADDR="10.1.0.5").post(
        "/admin/login/?next=/admin/", {"username": "oscar", "password": PASSWORD}
    )
    assert "Passwords are turned off" in admin.content.decode()
    assert portal_login("breakglass").status_code == 302
    glass = Client(REMOTE_ADDR="10.1.0.6")
    answer = glass.post(
        "/admin/login/?next=/admin/", {"username": "breakglass", "password": PASSWORD}
    )
    assert answer.status_code == 302
    assert glass.get("/admin/").status_code == 200


def test_sso_only_sign_in_page_shows_only_the_buttons(sso_only, client):
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with Corp" in page
    assert 'name="password"' not in page


def refresh(secret):
    return post_form(
        Client(REMOTE_ADDR="10.1.0.7"),
        {
            "grant_type": "refresh_token",
            "refresh_token": secret,
            "client_id": "containerd-client",
            "service": "test-registry",
            "scope": "repository:library/alpine:pull",
        },
    )


def test_a_registry_session_opened_with_the_password_ends_with_the_requirement(
    acme, settings, token_keys
):
    mike = acme.member
    token, _ = access_token_create(user=mike, name="ci")
    _, by_password = refresh_token_create(
        user_id=mike.pk,
        access_token_id=None,
        client_id="containerd-client",
        password_binding=password_binding(password_hash=mike.password),
    )
    _, by_token = refresh_token_create(
        user_id=mike.pk, access_token_id=token.pk, client_id="containerd-client"
    )
    assert refresh(by_password).status_code == 200
    settings.OIDC_PROVIDERS = (PROVIDER,)
    organization_require_sso_set(organization=acme.org, required=True, actor=acme.owner)
    refused = refresh(by_password)
    assert refused.status_code == 401
    assert "acme requires single sign-on" in refused.content.decode()
    assert refresh(by_token).status_code == 200
