"""The owners' Single sign-on page: Require single sign-on, and groups mapped to teams after a
confirmation; and the sign-in page's buttons."""

import pytest

from identity.config import Provider
from identity.models import GroupMapping
from policies.models import PolicyChange

CORP = Provider(id="corp", label="Corp IdP", issuer="https://idp", client_id="c", client_secret="s")
LAB = Provider(
    id="lab", label="Lab Keycloak", issuer="https://kc", client_id="c", client_secret="s"
)


@pytest.fixture
def providers(settings):
    settings.OIDC_PROVIDERS = (CORP, LAB)


def test_sign_in_page_has_a_button_per_provider_and_the_password_form(client, db, providers):
    page = client.get("/accounts/login/?next=/orgs/acme/").content.decode()
    assert 'href="/sso/corp/login/?next=/orgs/acme/"' in page
    assert "Sign in with Lab Keycloak" in page
    assert 'name="password"' in page


def test_mapping_is_confirmed_before_it_is_made(acme, login, providers):
    client = login(acme.owner)
    url = "/orgs/acme/sso/mappings/add/?provider=corp&group=platform&team=owners"
    page = client.get(url).content.decode()
    assert "Map group &#x27;platform&#x27; of Corp IdP to team owners?" in page
    assert "It is the owners team" in page
    assert not GroupMapping.objects.exists()
    assert client.post(url).status_code == 302
    mapping = GroupMapping.objects.get()
    assert (mapping.provider, mapping.group, mapping.team.name) == ("corp", "platform", "owners")
    assert PolicyChange.objects.filter(organization=acme.org).first().described() == [
        "Group 'platform' of Corp IdP: mapped to team owners"
    ]
    listed = client.get("/orgs/acme/sso/").content.decode()
    assert "platform" in listed
    assert client.post(url).status_code == 400  # already mapped


@pytest.mark.parametrize(
    "query",
    [
        "provider=corp&group=platform&team=nosuchteam",
        "provider=nope&group=platform&team=owners",
        "provider=corp&group=&team=owners",
    ],
)
def test_a_wrong_mapping_is_refused(acme, login, providers, query):
    client = login(acme.owner)
    url = f"/orgs/acme/sso/mappings/add/?{query}"
    assert "Check the mapping" in client.get(url).content.decode()
    assert client.post(url).status_code == 400
    assert not GroupMapping.objects.exists()


def test_a_team_is_looked_up_in_the_owners_organisation_only(acme, login, providers):
    client = login(acme.gina)  # owns globex, which has a team "developers" too
    url = "/orgs/globex/sso/mappings/add/?provider=corp&group=x&team=developers"
    assert client.post(url).status_code == 302
    assert GroupMapping.objects.get().team.organization == acme.globex


def test_owner_requires_sso_and_lifts_it(acme, login, providers):
    client = login(acme.owner)
    page = client.get("/orgs/acme/sso/require/").content.decode()
    assert "their passwords will be refused" in page
    assert "You have never signed in through single sign-on" in page
    assert client.post("/orgs/acme/sso/require/").status_code == 302
    acme.org.refresh_from_db()
    assert acme.org.require_sso
    assert "Required." in client.get("/orgs/acme/sso/").content.decode()
    assert client.post("/orgs/acme/sso/require/").status_code == 302
    acme.org.refresh_from_db()
    assert not acme.org.require_sso
    assert [c.described() for c in PolicyChange.objects.filter(organization=acme.org)] == [
        ["Single sign-on: Required → Not required"],
        ["Single sign-on: Not required → Required"],
    ]
