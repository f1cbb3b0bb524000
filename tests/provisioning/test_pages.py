"""The owners' Provisioning page: a SCIM token shown once, revoked, and the history."""

import pytest
from django.urls import reverse

from policies.models import PolicyChange
from provisioning.models import ScimToken
from provisioning.selectors import scim_token_by_secret


@pytest.fixture
def owner_client(acme, client, login):
    login(acme.owner)
    return client


def test_a_token_is_shown_once_and_works_until_revoked(acme, owner_client):
    url = reverse("provisioning:organization", args=["acme"])
    page = owner_client.post(url, {"name": "Okta"})
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    secret = page.context["secret"]
    assert secret.startswith("iams_") and secret.encode() in page.content
    token = ScimToken.objects.get(organization=acme.org, name="Okta")
    assert token.secret_hash != secret and token.created_by == acme.owner
    assert scim_token_by_secret(secret=secret) == token
    again = owner_client.get(url)
    assert secret.encode() not in again.content and b"iams_\xe2\x80\xa6" + token.hint.encode() in (
        again.content
    )
    assert b"http://testserver/scim/v2" in again.content or b"/scim/v2" in again.content

    duplicate = owner_client.post(url, {"name": "Okta"})
    assert duplicate.status_code == 400 and b"already named" in duplicate.content

    revoke = reverse("provisioning:token_revoke", args=["acme", token.pk])
    assert owner_client.post(revoke).status_code == 302
    assert scim_token_by_secret(secret=secret) is None
    lines = [line for change in PolicyChange.objects.all() for line in change.described()]
    assert "Provisioning (SCIM): SCIM token 'Okta' created" in lines
    assert "Provisioning (SCIM): SCIM token 'Okta' revoked" in lines
    assert b"SCIM token &#x27;Okta&#x27; revoked" in owner_client.get(url).content


def test_the_history_is_in_the_api(acme, owner_client):
    from provisioning.services import scim_token_create

    scim_token_create(organization=acme.org, name="Okta", actor=acme.owner)
    answer = owner_client.get("/api/v1/orgs/acme/settings/history")
    assert answer.status_code == 200, answer.content
    assert "SCIM token 'Okta' created" in answer.content.decode()


def test_the_settings_link_is_for_owners(acme, client, login):
    login(acme.owner)
    url = reverse("provisioning:organization", args=["acme"]).encode()
    assert url in client.get(reverse("identity:organization", args=["acme"])).content
    login(acme.member)
    assert url not in client.get(reverse("policies:permissions", args=["acme"])).content


def test_staff_see_tokens_and_provisioned_accounts_read_only(acme, client, login):
    from provisioning.services import UserData, scim_token_create, scim_user_create
    from tests.factories import make_user

    token, secret = scim_token_create(organization=acme.org, name="Okta", actor=acme.owner)
    scim_user_create(organization=acme.org, token=token, data=UserData(username="alice"))
    login(make_user("admin", is_staff=True, is_superuser=True))
    for model in ("scimtoken", "provisionedaccount", "provisionedteam"):
        page = client.get(reverse(f"admin:provisioning_{model}_changelist"))
        assert page.status_code == 200
        assert client.get(reverse(f"admin:provisioning_{model}_add")).status_code == 403
    page = client.get(reverse("admin:provisioning_scimtoken_change", args=[token.pk]))
    assert page.status_code == 200 and token.secret_hash.encode() not in page.content
    assert (
        b"alice" in client.get(reverse("admin:provisioning_provisionedaccount_changelist")).content
    )
