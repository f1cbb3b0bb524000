"""Single sign-on against a real OpenID provider (Canaille, in-process, spoken to over HTTP):
accounts created just in time, linked by a verified e-mail address, username collisions,
teams following the groups claim, and every bad answer refused with a page and no writes."""

import time
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model

from identity.config import Provider
from identity.models import SsoIdentity
from identity.services import group_mapping_create
from orgs.models import Team, TeamMembership
from policies.models import PolicyChange
from tests.factories import make_org, make_user
from tests.identity.conftest import PROVIDER_ID

User = get_user_model()


def usernames():
    return set(User.objects.values_list("username", flat=True))


def test_first_sign_in_creates_the_account_just_in_time(idp, client, db):
    alice = idp.person("alice", given_name="Alice", family_name="Liddell")
    response = idp.sign_in(client, alice)
    assert response.status_code == 302, response.content[:500]
    user = User.objects.get(username="alice")
    assert (user.email, user.first_name, user.last_name) == (
        "alice@corp.example",
        "Alice",
        "Liddell",
    )
    assert not user.has_usable_password()
    assert SsoIdentity.objects.get(user=user).provider == PROVIDER_ID
    assert client.get("/orgs/").context["user"] == user
    # The next sign-in finds the same account through (provider, sub).
    client.post("/accounts/logout/")
    assert "_auth_user_id" not in client.session
    assert idp.sign_in(client, alice).status_code == 302
    assert User.objects.filter(username__startswith="alice").count() == 1
    assert client.session["_auth_user_id"] == str(user.pk)


def test_unverified_address_is_kept_off_a_new_account(idp, client, db):
    idp.verify_emails(False)
    idp.sign_in(client, idp.person("nadia"))
    assert User.objects.get(username="nadia").email == ""


def test_existing_account_is_linked_by_a_verified_address_of_an_allowed_domain(idp, client, db):
    local = make_user("robert", email="bob@corp.example")
    response = idp.sign_in(client, idp.person("bob"))
    assert response.status_code == 302
    assert SsoIdentity.objects.get(provider=PROVIDER_ID).user == local
    assert client.session["_auth_user_id"] == str(local.pk)
    assert "bob" not in usernames()


@pytest.mark.parametrize(
    ("verified", "address"),
    [(False, "bob@corp.example"), (True, "bob@elsewhere.example")],
    ids=["unverified", "foreign-domain"],
)
def test_an_existing_account_is_never_taken_over(idp, client, db, verified, address):
    make_user("robert", email=address)
    idp.verify_emails(verified)
    before = usernames()
    response = idp.sign_in(client, idp.person("bob", email=address))
    assert response.status_code == 403
    assert "already exists" in response.content.decode()
    assert usernames() == before
    assert not SsoIdentity.objects.exists()
    assert "_auth_user_id" not in client.session


def test_username_collision_gets_a_free_name_and_never_the_other_account(idp, client, db):
    carol = make_user("Carol", email="carol@home.example")
    response = idp.sign_in(client, idp.person("carol"))
    new = User.objects.get(username="carol-2")
    assert client.session["_auth_user_id"] == str(new.pk) != str(carol.pk)
    page = client.get(response["Location"]).content.decode()
    assert "The username carol was taken by another account, so yours is carol-2." in page


@pytest.fixture
def mapped(idp, db):
    """acme (owner olivia) maps group devs to developers and admins to owners; globex maps
    nothing."""
    olivia, gina = make_user("olivia"), make_user("gina")
    acme = make_org("acme", owner=olivia, members=[make_user("mike")])
    make_org("globex", owner=gina)
    developers = Team.objects.get(organization=acme, name="developers")
    owners = Team.objects.get(organization=acme, name="owners")
    group_mapping_create(team=developers, provider=idp.provider, group="devs", actor=olivia)
    group_mapping_create(team=owners, provider=idp.provider, group="admins", actor=olivia)
    return acme


def teams_of(username):
    return set(
        TeamMembership.objects.filter(user__username=username).values_list(
            "team__organization__name", "team__name"
        )
    )


def test_teams_follow_the_groups_claim_and_the_history_records_it(idp, client, mapped):
    dave = idp.person("dave", groups=["devs", "admins", "globex-people"])
    idp.sign_in(client, dave)
    assert teams_of("dave") == {("acme", "developers"), ("acme", "owners")}
    joined = PolicyChange.objects.filter(organization=mapped).first()
    assert joined.actor_username == "dave"
    assert joined.described() == [
        "Single sign-on: dave joined team developers (group 'devs' in their groups claim)",
        "Single sign-on: dave joined team owners (group 'admins' in their groups claim)",
    ]
    client.post("/accounts/logout/")
    idp.set_groups(dave, ["admins"])
    idp.sign_in(client, dave)
    assert teams_of("dave") == {("acme", "owners")}
    assert PolicyChange.objects.filter(organization=mapped).first().described() == [
        "Single sign-on: dave left team developers (group 'devs' no longer in their groups claim)"
    ]


def test_the_last_owner_is_never_removed_by_the_claim(idp, client, mapped):
    erin = idp.person("erin", groups=["admins"])
    idp.sign_in(client, erin)
    olivia = User.objects.get(username="olivia")
    TeamMembership.objects.filter(user=olivia, team__name="owners").delete()
    client.post("/accounts/logout/")
    idp.set_groups(erin, [])
    history = PolicyChange.objects.count()
    idp.sign_in(client, erin)
    assert teams_of("erin") == {("acme", "owners")}
    assert PolicyChange.objects.count() == history


def test_only_organisations_that_mapped_a_group_are_joined(idp, client, mapped):
    idp.sign_in(client, idp.person("frank", groups=["globex-people"]))
    assert teams_of("frank") == set()


# --- bad answers: a page that says why, no account, no session ------------------------------


def refused(response, status=400, words=""):
    assert response.status_code == status, response.content[:500]
    assert words in response.content.decode()
    assert "_auth_user_id" not in response.client.session
    return True


def test_a_wrong_state_is_refused(idp, client, db):
    callback = idp.authorize(client, idp.person("gus"))
    path, query = callback.split("?")
    params = dict(parse_qsl(query))
    params["state"] = "forged"
    assert refused(client.get(f"{path}?{urlencode(params)}"), words="already used")
    assert "gus" not in usernames()


def test_a_callback_is_used_once(idp, client, db):
    callback = idp.authorize(client, idp.person("hank"))
    assert client.get(callback).status_code == 302
    client.post("/accounts/logout/")
    assert refused(client.get(callback), words="already used")


def test_a_wrong_nonce_is_refused(idp, client, db):
    start = client.get(f"/sso/{PROVIDER_ID}/login/")
    url = urlsplit(start["Location"])
    params = dict(parse_qsl(url.query))
    params["nonce"] = "not-the-one-in-the-session"
    person = idp.person("ivan")
    idp.server.login(person)
    idp.server.consent(person, idp.oidc_client)
    try:
        answer = requests.get(
            url._replace(query=urlencode(params)).geturl(), allow_redirects=False, timeout=10
        )
    finally:
        idp.server.logout()
    back = urlsplit(answer.headers["Location"])
    assert refused(client.get(f"{back.path}?{back.query}"), words="could not be verified")
    assert "ivan" not in usernames()


def test_an_id_token_for_another_audience_is_refused(idp, client, db):
    """The provider issues the ID token to another client (its ``aud`` is not our client id):
    refused, though its signature, issuer and nonce are right."""
    with idp.server.app.app_context():
        other = idp.server.models.Client(
            client_id="another-portal", client_name="Another", redirect_uris=["http://x/"]
        )
        idp.server.backend.save(other)
        idp.oidc_client.audience = [other]
        idp.server.backend.save(idp.oidc_client)
    assert refused(idp.sign_in(client, idp.person("jane")), words="could not be verified")
    assert "jane" not in usernames()


def test_a_code_for_another_client_is_refused(idp, client, db, settings):
    """The code is exchanged with credentials the provider did not issue it to."""
    callback = idp.authorize(client, idp.person("jill"))
    other = Provider(**{**idp.provider.__dict__, "client_id": "someone-else"})
    settings.OIDC_PROVIDERS = (other,)
    assert refused(client.get(callback), words="did not sign you in")
    assert "jill" not in usernames()


def test_an_error_from_the_provider_is_shown(idp, client, db):
    start = client.get(f"/sso/{PROVIDER_ID}/login/")
    state = dict(parse_qsl(urlsplit(start["Location"]).query))["state"]
    response = client.get(
        f"/sso/{PROVIDER_ID}/callback/",
        {"error": "access_denied", "error_description": "The user said no", "state": state},
    )
    assert refused(response, words="The user said no")


def test_a_provider_that_is_down_gives_a_clear_page(db, client, settings):
    settings.OIDC_PROVIDERS = (
        Provider(
            id="down",
            label="Down IdP",
            issuer="http://127.0.0.1:9",
            client_id="c",
            client_secret="s",
        ),
    )
    assert refused(
        client.get("/sso/down/login/"), status=502, words="Down IdP could not be reached"
    )


def test_a_missing_claim_creates_nothing(idp, client, db):
    person = idp.person("kim", display_name=None, emails=[])
    assert refused(idp.sign_in(client, person), words="neither a preferred_username nor an email")
    assert not User.objects.exists()


def test_an_unknown_provider_is_404(client, db):
    assert client.get("/sso/nope/login/").status_code == 404
    assert client.get("/sso/nope/callback/").status_code == 404


def test_a_username_is_made_valid_and_next_is_followed(idp, client, db):
    """'Ann Smith' is not a valid username: the account is AnnSmith (no collision message),
    and the sign-in comes back to the page it started from."""
    person = idp.person("ann", display_name="Ann Smith")
    callback = idp.authorize(client, person, path="/sso/corp/login/?next=/settings/tokens/")
    response = client.get(callback)
    assert response["Location"] == "/settings/tokens/"
    assert "was taken" not in client.get("/settings/tokens/").content.decode()
    assert User.objects.filter(username="AnnSmith").exists()


def test_next_may_not_leave_the_portal(idp, client, db):
    callback = idp.authorize(
        client, idp.person("otto"), path="/sso/corp/login/?next=https://evil.example/"
    )
    assert client.get(callback)["Location"] == "/orgs/"


def test_an_account_is_linked_to_one_identity_per_provider(idp, client, db):
    local = make_user("robert", email="bob@corp.example")
    idp.sign_in(client, idp.person("bob"))
    client.post("/accounts/logout/")
    other = idp.person("bobby", email="BOB@corp.example")
    assert refused(idp.sign_in(client, other), status=403, words="linked to another")
    assert SsoIdentity.objects.get().user == local


def test_the_client_secret_is_not_in_the_providers_repr(idp):
    assert idp.provider.client_secret not in repr(idp.provider)


def test_an_expired_id_token_is_refused(idp, client, db, monkeypatch):
    """The provider signs an ID token that expired an hour ago (its clock is wrong, or the
    answer was replayed): refused, nothing created."""
    from canaille.oidc.provider import OIDCGrantMixin

    issued_claims = OIDCGrantMixin.get_client_claims

    def expired(self, oidc_client):
        now = int(time.time())
        return {**issued_claims(self, oidc_client), "iat": now - 7200, "exp": now - 3600}

    monkeypatch.setattr(OIDCGrantMixin, "get_client_claims", expired)
    assert refused(idp.sign_in(client, idp.person("lena")), words="answer has expired")
    assert "lena" not in usernames()


def test_a_provider_down_at_the_callback_gives_a_clear_page(idp, client, db, settings):
    callback = idp.authorize(client, idp.person("mona"))
    down = Provider(**{**idp.provider.__dict__, "issuer": "http://127.0.0.1:9"})
    settings.OIDC_PROVIDERS = (down,)
    assert refused(client.get(callback), status=502, words="could not be reached")
    assert "mona" not in usernames()


def test_a_provider_configured_in_the_admin(idp, client, db, settings):
    from identity.models import IdentityProvider

    settings.OIDC_PROVIDERS = ()
    row = IdentityProvider.objects.create(
        slug=PROVIDER_ID,
        label="Corp from the admin",
        issuer=idp.provider.issuer,
        client_id=idp.provider.client_id,
        client_secret=idp.provider.client_secret,
        scope=idp.provider.scope,
    )
    assert "Sign in with Corp from the admin" in client.get("/accounts/login/").content.decode()
    assert idp.sign_in(client, idp.person("nora")).status_code == 302
    assert User.objects.filter(username="nora").exists()
    client.post("/accounts/logout/")
    row.enabled = False
    row.save()
    assert "Sign in with" not in client.get("/accounts/login/").content.decode()
    assert client.get(f"/sso/{PROVIDER_ID}/login/").status_code == 404
