"""Settings > Org Permissions: edit, read-only view, history, stale saves, tampered input."""

import pytest
from django.test import Client
from django.urls import reverse

from policies.models import AccessPolicy, PolicyChange
from tests.factories import PASSWORD, add_owner, make_user, set_policy

URL = reverse("policies:permissions", kwargs={"org": "acme"})
HISTORY = reverse("policies:history", kwargs={"org": "acme"})


def policy(org):
    return AccessPolicy.objects.get(organization=org)


def save(client, version, **fields):
    data = {"version": str(version), **{k: v for k, v in fields.items()}}
    return client.post(URL, data)


def test_owner_enables_management_and_it_is_recorded(acme, login):
    client = login(acme.owner)
    page = client.get(URL)
    assert b"Image Access Management is disabled" in page.content
    assert b'name="enabled"' in page.content
    response = save(client, 1, enabled="on", allow_official_images="on")
    assert response.status_code == 302
    current = policy(acme.org)
    assert current.as_dict() == {
        "enabled": True,
        "audit_only": False,
        "allow_official_images": True,
        "allow_verified_publishers": False,
    }
    assert current.version == 2
    change = PolicyChange.objects.get(organization=acme.org)
    assert change.actor == acme.owner
    assert change.actor_username == "olivia"
    assert change.changes == {
        "enabled": {"from": False, "to": True},
        "allow_official_images": {"from": False, "to": True},
    }
    page = client.get(URL)
    assert b"Image Access Management is enabled" in page.content
    # The success message says what changed.
    assert (
        "Saved. Image Access Management: Off → On; Docker Official Images: Restricted → Allowed."
        in page.content.decode()
    )
    history = client.get(HISTORY, {"kind": "policy"}).content.decode()
    history = history.split('data-testid="history"')[1]
    assert "olivia" in history
    assert "Image Access Management: Off → On" in history
    assert "Docker Official Images: Restricted → Allowed" in history


def test_saving_without_changes_records_nothing(acme, login):
    client = login(acme.owner)
    response = save(client, 1)
    assert response.status_code == 302
    assert PolicyChange.objects.count() == 0
    assert policy(acme.org).version == 1


def test_member_sees_same_state_read_only_with_history(acme, login):
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True)
    client = login(acme.member)
    page = client.get(URL)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Image Access Management is enabled" in html
    assert 'data-testid="state-official">Allowed' in html
    assert 'data-testid="state-verified">Restricted' in html
    assert "read-only" in html
    for control in ('name="enabled"', 'name="allow_official_images"', 'type="checkbox"', ">Save<"):
        assert control not in html
    html = client.get(HISTORY).content.decode()
    assert 'data-testid="history"' in html and "olivia" in html


def test_two_owners_saving_from_stale_pages(acme, login):
    gina_client = Client()
    add_owner(acme.org, acme.gina)
    assert gina_client.login(username="gina", password=PASSWORD)
    olivia_client = login(acme.owner)
    # Both loaded version 1. Olivia saves first.
    assert save(olivia_client, 1, enabled="on", allow_official_images="on").status_code == 302
    # Gina's save from her stale page is refused, and she sees the current state.
    response = save(gina_client, 1, enabled="on", allow_verified_publishers="on")
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else changed these settings" in html
    assert 'data-testid="state-official">Saved: Allowed' in html
    assert 'name="version" value="2"' in html
    current = policy(acme.org)
    assert (current.allow_official_images, current.allow_verified_publishers) == (True, False)
    assert PolicyChange.objects.count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {"version": "1", "enabled": "on", "is_superuser": "on"},
        {"version": "1", "enabled": "maybe"},
        {"version": "1", "enabled": "yes please"},
        {"version": "1", "allow_official_images": "2"},
        {"enabled": "on"},
        {"version": "one", "enabled": "on"},
        {"version": "0", "enabled": "on"},
        {"version": "-1", "enabled": "on"},
        {"version": "99999999999999999999999", "enabled": "on"},
        {"version": ["1", "1"], "enabled": "on"},
        {"version": "1", "enabled": ["on", "off"]},
        {"version": "1", "enabled": "\x00"},
    ],
)
def test_tampered_input_changes_nothing(acme, login, data):
    client = login(acme.owner)
    response = client.post(URL, data)
    assert response.status_code in (400, 409)
    assert policy(acme.org).enabled is False
    assert PolicyChange.objects.count() == 0
    refused = b"Nothing was changed" if response.status_code == 400 else b"were not saved"
    assert refused in response.content


def test_unknown_fields_are_named_in_the_error(acme, login):
    response = login(acme.owner).post(URL, {"version": "1", "enabled": "on", "role": "admin"})
    assert response.status_code == 400
    assert b"Unknown field(s): role. Nothing was changed." in response.content


def test_missing_csrf_token_is_refused(acme):
    client = Client(enforce_csrf_checks=True)
    client.login(username="olivia", password=PASSWORD)
    response = client.post(URL, {"version": "1", "enabled": "on"})
    assert response.status_code == 403
    assert b"CSRF" in response.content
    assert policy(acme.org).enabled is False


def test_boolean_api_values_are_accepted(acme, login):
    client = login(acme.owner)
    response = save(
        client, 1, enabled="true", allow_official_images="false", allow_verified_publishers="1"
    )
    assert response.status_code == 302
    current = policy(acme.org)
    assert current.as_dict() == {
        "enabled": True,
        "audit_only": False,
        "allow_official_images": False,
        "allow_verified_publishers": True,
    }


@pytest.mark.parametrize(
    ("who", "image", "verdict", "words"),
    [
        (
            "member",
            "bitnami/redis",
            "Blocked",
            "Docker Verified Publisher images are blocked by acme",
        ),
        ("member", "ubuntu", "Allowed", "Docker Official Images are allowed by acme"),
        ("member", "acme/app", "Allowed", "Organization images"),
        ("member", "someone/thing", "Blocked", "Community images are blocked by acme"),
        ("member", "ghcr.io/someone/thing", "Allowed", "not Docker Hub"),
        ("owner", "someone/thing", "Allowed", "owners team"),
    ],
)
def test_check_an_image(acme, login, who, image, verdict, words):
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True)
    user = acme.member if who == "member" else acme.owner
    response = login(user).get(URL, {"image": image})
    html = response.content.decode()
    assert response.status_code == 200
    mark = "✔" if verdict == "Allowed" else "✖"
    assert f'<p class="verdict">{mark} {verdict}' in html
    assert words in html.replace("&#x27;", "'")


def test_check_an_image_shows_the_parser_message(acme, login):
    response = login(acme.member).get(URL, {"image": "Ubuntu"})
    assert response.status_code == 200
    assert "repository name must be lowercase" in response.content.decode()
    assert 'data-testid="decision"' not in response.content.decode()


def test_policy_changes_by_staff_in_admin_are_recorded(acme, client):
    admin = make_user("admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    current = policy(acme.org)
    url = reverse("admin:policies_accesspolicy_change", args=[current.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"enabled": "on", "allow_verified_publishers": "on", "expected_version": "1"}
    )
    assert response.status_code == 302
    change = PolicyChange.objects.get()
    assert change.actor_username == "admin"
    assert policy(acme.org).allow_verified_publishers is True
    # A stale admin form is refused too.
    client.post(url, {"expected_version": "1"})
    assert policy(acme.org).enabled is True
    assert PolicyChange.objects.count() == 1


def test_owner_also_sees_what_a_member_would_get(acme, login):
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True)
    html = login(acme.owner).get(URL, {"image": "bitnami/redis"}).content.decode()
    mine = html.split('data-testid="decision"')[1].split("</div>")[0]
    member = html.split('data-testid="member-decision"')[1].split("</div>")[0]
    assert "✔ Allowed" in mine and "owners team" in mine
    assert "✖ Blocked" in member
    assert "Docker Verified Publisher images are blocked by acme" in member.replace("&#x27;", "'")
    # Members see only their own answer.
    html = login(acme.member).get(URL, {"image": "bitnami/redis"}).content.decode()
    assert 'data-testid="member-decision"' not in html


def test_the_rule_is_named_once_in_words(acme, login):
    """The check names the deciding rule by its label, not its label followed by its code
    ("Rule: Image category category")."""
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True)
    html = login(acme.member).get(URL, {"image": "someone/tool"}).content.decode()
    rule = html.split('data-testid="decision-rule"')[1].split("</p>")[0]
    assert "Image category" in rule
    assert "category</code>" not in rule and rule.count("ategory") == 1
