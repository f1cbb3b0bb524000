"""The attack of issue 8, replayed: a stranger creates an organisation, "adds" a victim and
turns Image Access Management on. Until the victim accepts, that organisation's policy must not
touch the victim's pulls, whether decided by ``check_pull`` or by the registry's token service.

The attacker works through the portal's pages, as in the report: mike creates evilorg1, invites
gina (owner of globex) and enables management with nothing allowed.
"""

import json
from datetime import timedelta

import jwt
import pytest
from cryptography import x509
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from orgs.invitations import services as invitations
from orgs.models import Invitation, TeamMembership
from tests.conftest import REGISTRY_SERVICE, TOKEN_ISSUER
from tests.tokens.conftest import basic
from tokens.services import access_token_create

# gina's own organisation's image, an official image, a verified publisher's, a stranger's.
REFERENCES = ["globex/app", "library/alpine", "bitnami/redis", "someone/thing"]


@pytest.fixture
def attack(acme, login, settings):
    """mike (member of acme) creates evilorg1 in the portal (where anyone may), invites gina
    into it and turns Image Access Management on (nothing allowed). Returns gina's pending
    invitation."""
    settings.ORGANIZATION_CREATION = "any"
    client = login(acme.member)
    assert client.post(reverse("orgs:list"), {"name": "evilorg1"}).status_code == 302
    members = TeamMembership.objects.get(user=acme.member, team__organization__name="evilorg1")
    team = members.team.organization.teams.get(name="members")
    url = reverse("orgs:invitations", kwargs={"org": "evilorg1"})
    assert client.post(url, {"invitee": "gina", "team": team.pk}).status_code == 302
    url = reverse("policies:permissions", kwargs={"org": "evilorg1"})
    assert client.post(url, {"enabled": "on", "version": "1"}).status_code == 302
    return Invitation.objects.get(invitee=acme.gina)


def settle(invitation, state: str, user) -> None:
    """Leave gina's invitation in ``state``."""
    if state == "accepted":
        invitations.invitation_accept(invitation=invitation, user=user)
    elif state == "declined":
        invitations.invitation_decline(invitation=invitation, user=user)
    elif state == "revoked":
        invitations.invitation_revoke(invitation=invitation, actor=invitation.invited_by)
    elif state == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    elif state == "uninvited":
        invitation.delete()


def check_pull(capsys, username, reference) -> dict:
    with pytest.raises(SystemExit) as excinfo:
        call_command("check_pull", username, reference)
    decision = json.loads(capsys.readouterr().out)
    assert excinfo.value.code == (0 if decision["allowed"] else 3)
    return decision


def pulls_granted(client, cert, username, secret) -> set[str]:
    """The repositories whose pull the token service grants ``username`` for REFERENCES."""
    response = client.get(
        "/auth/token",
        {"service": REGISTRY_SERVICE, "scope": [f"repository:{r}:pull" for r in REFERENCES]},
        HTTP_AUTHORIZATION=basic(username, secret),
    )
    assert response.status_code == 200, response.content
    public_key = x509.load_pem_x509_certificate(cert.read_bytes()).public_key()
    claims = jwt.decode(
        response.json()["token"],
        public_key,
        algorithms=["ES256"],
        audience=REGISTRY_SERVICE,
        issuer=TOKEN_ISSUER,
    )
    return {entry["name"] for entry in claims["access"] if "pull" in entry["actions"]}


UNACCEPTED = ["uninvited", "pending", "declined", "expired", "revoked"]


@pytest.mark.parametrize("state", UNACCEPTED)
def test_check_pull_ignores_an_organisation_the_user_did_not_join(acme, attack, capsys, state):
    settle(attack, state, acme.gina)
    for reference in REFERENCES:
        decision = check_pull(capsys, "gina", reference)
        assert decision["allowed"] is True, (reference, decision)
        assert decision["organization"] != "evilorg1"


@pytest.mark.parametrize("state", UNACCEPTED)
def test_token_service_ignores_an_organisation_the_user_did_not_join(
    acme, attack, client, token_keys, state
):
    _, secret = access_token_create(user=acme.gina, name="laptop")
    settle(attack, state, acme.gina)
    assert pulls_granted(client, token_keys, "gina", secret) == set(REFERENCES)


def test_once_accepted_the_policy_applies(acme, attack, capsys, client, token_keys):
    """The other side of the rule (and proof that the tests above can fail): after gina
    accepts, evilorg1's policy decides her pulls, her own organisation's images included."""
    _, secret = access_token_create(user=acme.gina, name="laptop")
    settle(attack, "accepted", acme.gina)
    decision = check_pull(capsys, "gina", "globex/app")
    assert (decision["allowed"], decision["organization"]) == (False, "evilorg1")
    assert pulls_granted(client, token_keys, "gina", secret) == set()
    # ... and she can leave again, which lifts it.
    url = reverse("orgs:leave", kwargs={"org": "evilorg1"})
    client.force_login(acme.gina)
    assert client.post(url).status_code == 302
    assert pulls_granted(client, token_keys, "gina", secret) == set(REFERENCES)
