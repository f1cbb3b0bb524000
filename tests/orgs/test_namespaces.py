"""Who may claim a namespace: who may create organisations (ORGANIZATION_CREATION), names the
portal already knows (allowlists, exception requests, recorded pulls: staff only), and personal
namespaces (usernames), as the page, the admin, sign-up and the token service see them."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from orgs import services
from orgs.invitations.services import account_create
from orgs.models import Organization
from policies.selectors import namespace_is_referenced
from tests.factories import (
    PASSWORD,
    add_entry,
    ask_exception,
    make_user,
    record_pulls,
    set_policy,
)

CREATE = reverse("orgs:list")


@pytest.fixture
def anyone(settings):
    """Any signed-in user may create organisations (the default with DEBUG, `make run`)."""
    settings.ORGANIZATION_CREATION = "any"


def references(acme, kind: str) -> None:
    """Make the portal name someone/tool (``kind`` of reference), acme being the referrer."""
    if kind.startswith("allowlist "):
        add_entry(acme.org, kind.removeprefix("allowlist "), actor=acme.owner)
    elif kind == "exception request":
        set_policy(acme.org, actor=acme.owner, enabled=True)
        ask_exception(acme.org, acme.member, "someone/tool")
    else:
        record_pulls(acme.member, "someone/tool")


KINDS = [
    "allowlist someone/tool",
    "allowlist someone/*",
    "allowlist someone/**",
    "exception request",
    "recorded pull",
]


# --- the attack of issue #21 -------------------------------------------------------------


def test_an_outsider_cannot_claim_an_allowlisted_namespace_nor_push_into_it(
    acme, anyone, login, ask, granted
):
    """acme allowlists someone/tool; oscar (outsider) tries to create `someone` to push his own
    someone/tool: refused, and his token for it grants pull only."""
    add_entry(acme.org, "someone/tool", actor=acme.owner)
    response = login(acme.outsider).post(CREATE, {"name": "someone"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "The namespace &#x27;someone&#x27; is already in use on this portal" in html
    assert "only site staff can create the organization someone" in html
    assert not Organization.objects.filter(name="someone").exists()
    token = ask("repository:someone/tool:pull,push", auth=("oscar", PASSWORD))
    assert granted(token) == {"someone/tool": ["pull"]}


@pytest.mark.parametrize("kind", KINDS)
def test_a_referenced_namespace_is_refused_to_a_user(acme, anyone, login, kind):
    references(acme, kind)
    response = login(acme.outsider).post(CREATE, {"name": "someone"})
    assert response.status_code == 400
    assert "ask a staff member to create it for you" in response.content.decode()
    assert not Organization.objects.filter(name="someone").exists()


@pytest.mark.parametrize("kind", KINDS)
def test_site_staff_may_claim_a_referenced_namespace(acme, anyone, client, kind):
    references(acme, kind)
    staff = make_user("stella", is_staff=True)
    client.force_login(staff)
    response = client.post(CREATE, {"name": "someone"})
    assert response.status_code == 302
    owners = Organization.objects.get(name="someone").teams.get(name="owners")
    assert list(owners.members.all()) == [staff]


def test_the_admin_still_creates_a_referenced_namespace(acme, admin_client):
    add_entry(acme.org, "someone/*", actor=acme.owner)
    response = admin_client.post(reverse("admin:orgs_organization_add"), {"name": "someone"})
    assert response.status_code == 302
    assert Organization.objects.filter(name="someone").exists()


@pytest.mark.parametrize(
    "pattern",
    ["someonex/tool", "library/someone", "other/someone/*", "someon/*"],
)
def test_only_the_first_path_component_is_the_namespace(acme, pattern):
    add_entry(acme.org, pattern, actor=acme.owner)
    assert namespace_is_referenced("someone") is False
    assert namespace_is_referenced(pattern.split("/")[0]) is True


def test_a_namespace_nobody_names_is_free(acme, anyone, login):
    record_pulls(acme.member, "library/ubuntu", "someonex/tool")
    assert namespace_is_referenced("someone") is False
    assert login(acme.outsider).post(CREATE, {"name": "someone"}).status_code == 302


# --- who may create organisations ------------------------------------------------------------


def test_staff_only_hides_the_form_and_refuses_others_with_a_403(acme, login, settings):
    settings.ORGANIZATION_CREATION = "staff"
    client = login(acme.member)
    html = client.get(CREATE).content.decode()
    assert "Only site staff can create organizations on this portal." in html
    assert 'name="name"' not in html
    response = client.post(CREATE, {"name": "mikesorg"})
    assert response.status_code == 403
    assert "Only site staff can create organizations" in response.content.decode()
    assert not Organization.objects.filter(name="mikesorg").exists()


def test_staff_only_still_lets_staff_create(acme, client, settings):
    settings.ORGANIZATION_CREATION = "staff"
    client.force_login(make_user("stella", is_staff=True))
    assert 'name="name"' in client.get(CREATE).content.decode()
    assert client.post(CREATE, {"name": "stellaorg"}).status_code == 302
    assert Organization.objects.filter(name="stellaorg").exists()


def test_any_shows_everyone_the_form(acme, anyone, login):
    html = login(acme.member).get(CREATE).content.decode()
    assert 'name="name"' in html
    assert "Only site staff" not in html


def test_the_service_refuses_a_user_who_may_not_create(acme, settings):
    settings.ORGANIZATION_CREATION = "staff"
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.organization_create_checked(name="mikesorg", creator=acme.member)


# --- personal namespaces ---------------------------------------------------------------------


@pytest.mark.parametrize("username", ["someone", "SomeOne"])
def test_no_organisation_takes_a_username(acme, anyone, login, username):
    make_user(username)
    response = login(acme.member).post(CREATE, {"name": "someone"})
    assert response.status_code == 400
    assert "it is a user&#x27;s personal namespace" in response.content.decode()
    assert not Organization.objects.filter(name="someone").exists()


def test_not_even_staff_in_the_admin_takes_a_username(acme, admin_client):
    response = admin_client.post(reverse("admin:orgs_organization_add"), {"name": "olivia"})
    assert response.status_code == 200
    assert "personal namespace" in response.content.decode()
    assert not Organization.objects.filter(name="olivia").exists()


@pytest.mark.parametrize("username", ["acme", "ACME"])
def test_no_account_takes_an_organisations_name(acme, username):
    with pytest.raises(ValidationError, match="it is an organization's name"):
        account_create(username=username, password=PASSWORD)


def test_sign_up_says_an_organisations_name_is_taken(acme, client, settings):
    settings.SIGNUP_OPEN = True
    password = "a-long-pass-phrase-9"
    data = {"username": "globex", "password1": password, "password2": password}
    response = client.post(reverse("invitations:signup"), data)
    assert response.status_code == 400
    assert "it is an organization&#x27;s name" in response.content.decode()


def test_a_user_is_not_granted_push_to_their_own_namespace(acme, ask, granted):
    """Pushes go to organisations' namespaces only (tokens/grants.py): a personal namespace is
    kept from organisations, but nobody pushes to it (site staff excepted)."""
    response = ask("repository:oscar/tool:pull,push", auth=("oscar", PASSWORD))
    assert granted(response) == {"oscar/tool": ["pull"]}


# --- enumeration: answers per user per hour --------------------------------------------------


def test_creation_attempts_are_rate_limited_per_user(acme, anyone, login, settings):
    settings.ORGANIZATION_CREATE_ATTEMPTS_PER_USER_PER_HOUR = 2
    client = login(acme.member)
    assert client.post(CREATE, {"name": "acme"}).status_code == 400  # taken: 1
    assert client.post(CREATE, {"name": "globex"}).status_code == 400  # taken: 2
    response = client.post(CREATE, {"name": "freename"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "You have made 2 attempts to create an organization within the hour" in html
    assert "try again in" in html
    assert not Organization.objects.filter(name="freename").exists()
    # Another user has their own count.
    assert login(acme.outsider).post(CREATE, {"name": "freename"}).status_code == 302


def test_creation_is_refused_while_the_shared_cache_is_down(acme, anyone, client, settings):
    client.force_login(acme.member)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing listens
        }
    }
    response = client.post(CREATE, {"name": "freename"})
    assert response.status_code == 400
    assert "the portal&#x27;s rate-limit store (its shared cache) is unavailable" in (
        response.content.decode()
    )
    assert not Organization.objects.filter(name="freename").exists()
