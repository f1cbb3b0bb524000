"""Reads of SCIM provisioning: a token by its secret, an organisation's tokens, and the users
and teams a token's holder may see (nothing of another organisation)."""

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet

from core.secrets import secret_digest
from orgs.models import Organization, Team, TeamMembership
from policies.models import PolicyChange
from provisioning.models import ProvisionedAccount, ScimToken

User = get_user_model()


def scim_token_by_secret(*, secret: str) -> ScimToken | None:
    """The working (not revoked) SCIM token with this secret, with its organisation; ``None``
    for any other secret."""
    if not secret or len(secret) > 200:
        return None
    return (
        ScimToken.objects.select_related("organization")
        .filter(secret_hash=secret_digest(secret), revoked_at__isnull=True)
        .first()
    )


def scim_tokens_of(*, organization: Organization) -> QuerySet[ScimToken]:
    """The organisation's SCIM tokens, newest first, revoked ones included."""
    return ScimToken.objects.filter(organization=organization).select_related("created_by")


def scim_users(*, organization: Organization) -> QuerySet:
    """The organisation's SCIM Users: its members, and the accounts its identity provider
    provisioned and has not deleted (deprovisioned ones included), by id."""
    members = TeamMembership.objects.filter(team__organization=organization, user=OuterRef("pk"))
    provisioned = ProvisionedAccount.objects.filter(
        organization=organization, user=OuterRef("pk"), removed_at__isnull=True
    )
    return User.objects.filter(Q(Exists(members)) | Q(Exists(provisioned))).order_by("pk")


def scim_groups(*, organization: Organization) -> QuerySet[Team]:
    """The organisation's SCIM Groups: all its teams, by id."""
    return Team.objects.filter(organization=organization).order_by("pk")


def provisioned_accounts(*, organization: Organization, user_ids) -> dict[int, ProvisionedAccount]:
    """The organisation's provisioning rows of these users, by user id."""
    rows = ProvisionedAccount.objects.filter(organization=organization, user_id__in=user_ids)
    return {row.user_id: row for row in rows}


def team_memberships(*, organization: Organization, user_ids=None, team_ids=None):
    """``(user_id, team_id, team name)`` of the organisation's memberships, narrowed to these
    users or teams."""
    memberships = TeamMembership.objects.filter(team__organization=organization)
    if user_ids is not None:
        memberships = memberships.filter(user_id__in=user_ids)
    if team_ids is not None:
        memberships = memberships.filter(team_id__in=team_ids)
    return memberships.order_by("team__name", "user_id").values_list(
        "user_id", "team_id", "team__name"
    )


def provisioning_history(*, organization: Organization, limit: int = 20) -> QuerySet[PolicyChange]:
    """The organisation's most recent provisioning records (SCIM tokens, users, teams), newest
    first: the ``provisioning`` entries of its settings history."""
    return PolicyChange.objects.filter(organization=organization, changes__has_key="provisioning")[
        :limit
    ]
