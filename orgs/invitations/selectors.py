"""Reads for invitations."""

from django.db.models import QuerySet

from orgs.models import Invitation, Organization
from tokens.services import secret_digest

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


def organization_invitations(*, organization: Organization, past: int = 20):
    """The organisation's pending invitations (newest first) and its ``past`` most recent
    answered, withdrawn or expired ones, with who invited whom into which team."""
    invitations = Invitation.objects.filter(team__organization=organization).select_related(
        "team", "invitee", "responded_by"
    )
    pending = list(invitations.pending())
    pending_ids = [invitation.pk for invitation in pending]
    return pending, list(invitations.exclude(pk__in=pending_ids)[:past])
