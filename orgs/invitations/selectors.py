"""Reads for invitations."""

from django.db.models import QuerySet

from core import ratelimit
from core.secrets import secret_digest
from orgs.invitations import limits
from orgs.models import Invitation, Organization

TOKEN_LENGTH = 43  # secrets.token_urlsafe(32)


def invitation_by_token(*, token: str) -> Invitation:
    """The invitation whose link carries ``token`` (in any state); raises
    ``Invitation.DoesNotExist`` for an unknown token."""
    if len(token) != TOKEN_LENGTH:
        raise Invitation.DoesNotExist
    return Invitation.objects.select_related("team__organization", "invitee").get(
        token_hash=secret_digest(token)
    )


def pending_invitations_for(*, user) -> QuerySet[Invitation]:
    """Invitations addressed to the user's account that they can still accept, oldest first.
    (E-mail invitations are not listed: they are answered through their link.)"""
    return (
        Invitation.objects.pending()
        .filter(invitee=user)
        .select_related("team__organization")
        .order_by("created_at", "id")
    )


def pending_invitation_count(*, user) -> int:
    """How many invitations the user can still accept: one indexed query."""
    return Invitation.objects.pending().filter(invitee=user).count()


def organization_invitations(*, organization: Organization) -> QuerySet[Invitation]:
    """Every invitation into the organisation's teams, newest first, with its team, invitee
    and who answered it."""
    return Invitation.objects.filter(team__organization=organization).select_related(
        "team", "invitee", "responded_by"
    )


def pending_invitations_of(*, organization: Organization) -> QuerySet[Invitation]:
    """The organisation's invitations that can still be accepted (who invited whom into which
    team, when, until when), newest first."""
    return organization_invitations(organization=organization).pending()


def answered_invitations_of(*, organization: Organization, limit: int = 20) -> list[Invitation]:
    """The organisation's ``limit`` most recent invitations that can no longer be accepted:
    accepted, declined, revoked or expired."""
    return list(organization_invitations(organization=organization).closed()[:limit])


def invitation_allowance(*, organization: Organization) -> ratelimit.RateLimitResult | None:
    """How many invitations the organisation may still send this hour, and when the count
    starts again (``INVITATIONS_PER_ORGANIZATION_PER_HOUR``); ``None`` while the shared cache
    that counts them is down (then none can be sent)."""
    try:
        return ratelimit.peek(limits.per_organization(), str(organization.pk))
    except ratelimit.RateLimitUnavailable:
        return None
