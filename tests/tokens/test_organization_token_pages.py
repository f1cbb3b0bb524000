"""The owners' token pages: the organisation's tokens (create with the secret shown once,
revoke), its token rules, and its members' personal tokens (revoke, the member told)."""

import pytest
from django.core import mail
from django.urls import reverse

from policies.models import PolicyChange
from tests.factories import make_org_token, make_user, set_token_policy
from tokens.models import AccessToken, OrganizationToken
from tokens.services import access_token_create

ORG = {"org": "acme"}


@pytest.fixture
def owner(acme, login):
    return login(acme.owner)


def create(client, **data):
    form = {"name": "ci-pipeline", "scope": "repo:write", "expires_days": "90", **data}
    return client.post(reverse("tokens:organization", kwargs=ORG), form)


def test_the_secret_is_shown_once_with_the_login_command(acme, owner):
    response = create(owner, repositories="acme/app\nlibrary/*")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = OrganizationToken.objects.get()
    secret = response.context["secret"]
    assert secret.startswith("iamo_") and secret.endswith(token.hint)
    page = response.content.decode()
    assert secret in page
    assert "docker login" in page and "-u acme" in page
    assert token.patterns == ("acme/app", "library/*")
    assert token.created_by == acme.owner
    again = owner.get(reverse("tokens:organization", kwargs=ORG)).content.decode()
    assert secret not in again
    assert "ci-pipeline" in again and f"iamo_…{token.hint}" in again
    assert "Organization token &#x27;ci-pipeline&#x27;" in again  # the history


def test_never_is_offered_only_where_allowed(acme, owner):
    response = create(owner, expires_days="never")
    assert response.status_code == 400
    assert "never" not in dict(response.context["form"].fields["expires_days"].choices)
    assert not OrganizationToken.objects.exists()
    set_token_policy(acme.org, by=acme.owner, allow_non_expiring=True)
    assert create(owner, expires_days="never").status_code == 200
    assert OrganizationToken.objects.get().expires_at is None


def test_a_bad_pattern_is_said(acme, owner):
    response = create(owner, repositories="acme/*/app")
    assert response.status_code == 400
    assert "a wildcard can only end the pattern" in response.content.decode()


def test_revoking_through_the_page(acme, owner):
    create(owner)
    token = OrganizationToken.objects.get()
    url = reverse("tokens:organization_revoke", kwargs={**ORG, "pk": token.pk})
    assert "Revoke organization token" in owner.get(url).content.decode()
    assert owner.post(url).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by_username == "olivia"
    assert owner.post(url).status_code == 302  # twice: nothing more
    assert PolicyChange.objects.filter(changes__has_key="org_token_revoked").count() == 1


def test_the_token_rules_page_saves_and_records(acme, owner):
    url = reverse("tokens:policy", kwargs=ORG)
    response = owner.post(url, {"allow_non_expiring": "on", "personal_token_max_days": "90"})
    assert response.status_code == 302
    policy = acme.org.token_policy
    assert (policy.allow_non_expiring, policy.personal_token_max_days) == (True, 90)
    assert owner.post(url, {"personal_token_max_days": "7"}).status_code == 400
    (change,) = PolicyChange.objects.filter(changes__has_key="token_policy")
    assert change.described() == [
        "Organization tokens that never expire: Not allowed → Allowed",
        "Maximum lifetime of members' personal tokens: no limit → 90 days",
    ]


def test_owners_see_members_tokens_never_secrets(acme, owner):
    token, secret = access_token_create(user=acme.member, name="laptop")
    access_token_create(user=acme.outsider, name="elsewhere")
    page = owner.get(reverse("tokens:member_tokens", kwargs=ORG)).content.decode()
    assert "laptop" in page and f"iamp_…{token.hint}" in page
    assert "elsewhere" not in page
    assert secret not in page and token.secret_hash not in page


def test_revoking_a_members_token_mails_them_and_they_see_it(
    acme, owner, client, login, django_capture_on_commit_callbacks
):
    acme.member.email = "mike@example.com"
    acme.member.save()
    token, _ = access_token_create(user=acme.member, name="laptop")
    url = reverse("tokens:member_revoke", kwargs={**ORG, "pk": token.pk})
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(url)
    assert response.status_code == 302
    assert AccessToken.objects.get().revoked_by_organization == "acme"
    (sent,) = mail.outbox
    assert sent.to == ["mike@example.com"]
    assert "/settings/tokens/" in sent.body
    assert owner.get(url).status_code == 404  # no longer a working token
    mine = login(acme.member).get(reverse("tokens:list")).content.decode()
    assert "An owner of acme revoked your token 'laptop'" in mine


def test_a_stale_edit_of_the_token_rules_is_refused(acme, owner):
    url = reverse("tokens:policy", kwargs=ORG)
    assert owner.get(url).context["form"].initial["expected_version"] == 0
    set_token_policy(acme.org, by=acme.owner, personal_token_max_days=30)  # another owner
    response = owner.post(url, {"allow_non_expiring": "on", "expected_version": "0"})
    assert response.status_code == 400
    assert "Someone else changed the token rules" in response.content.decode()
    policy = acme.org.token_policy
    policy.refresh_from_db()
    assert (policy.allow_non_expiring, policy.personal_token_max_days, policy.version) == (
        False,
        30,
        1,
    )


def test_staff_see_organisation_tokens_in_the_admin_read_only(acme, client):
    token, secret = make_org_token(acme.org, by=acme.owner, repositories="acme/app")
    admin = make_user("admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    listing = client.get("/admin/tokens/organizationtoken/")
    assert listing.status_code == 200 and "ci-pipeline" in listing.content.decode()
    page = client.get(f"/admin/tokens/organizationtoken/{token.pk}/change/")
    assert page.status_code == 200
    assert secret not in page.content.decode()
    assert client.get("/admin/tokens/organizationtoken/add/").status_code == 403
