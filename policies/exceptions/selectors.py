"""Reads of exception requests: an organisation's pending ones, one of them, a member's own,
and the owners' inbox (what waits for them in the organisations they own)."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from orgs.models import OWNERS_TEAM, Invitation, Organization
from policies.models import ExceptionRequest


def pending_exception_requests(*, organization: Organization) -> QuerySet[ExceptionRequest]:
    """The organisation's requests waiting for an owner, oldest first."""
    return (
        ExceptionRequest.objects.filter(
            organization=organization, status=ExceptionRequest.Status.PENDING
        )
        .select_related("requester")
        .order_by("created_at", "id")
    )


def exception_request_of(*, organization: Organization, pk: int) -> ExceptionRequest:
    """The organisation's request ``pk``; raises ``ExceptionRequest.DoesNotExist`` (also for
    another organisation's request)."""
    return ExceptionRequest.objects.select_related("requester", "entry", "organization").get(
        organization=organization, pk=pk
    )


def exception_requests_by(*, user) -> QuerySet[ExceptionRequest]:
    """The requests ``user`` made, in every organisation, newest first."""
    return ExceptionRequest.objects.filter(requester=user).select_related("organization")


def pending_request_for(*, user, organization: str, repository: str) -> ExceptionRequest | None:
    """``user``'s pending request to the organisation named ``organization`` for
    ``repository``, if there is one (at most one: a database constraint)."""
    return ExceptionRequest.objects.filter(
        organization__name=organization,
        requester=user,
        repository=repository,
        status=ExceptionRequest.Status.PENDING,
    ).first()


#: How many organisations the inbox lists at most (the top navigation shows their total).
INBOX_LIMIT = 50


@dataclass(frozen=True)
class InboxRow:
    """One organisation the user owns with something waiting: its pending exception requests
    (the owners' to answer; the oldest's time) and its invitations nobody has answered yet."""

    organization: str
    requests: int
    oldest_request: datetime | None
    invitations: int


@dataclass(frozen=True)
class Inbox:
    """What waits in the organisations a user owns (:func:`owner_inbox`)."""

    rows: tuple[InboxRow, ...] = ()

    @property
    def requests(self) -> int:
        """Pending exception requests in all of them."""
        return sum(row.requests for row in self.rows)

    def of(self, organization: str) -> InboxRow | None:
        return next((row for row in self.rows if row.organization == organization), None)


def owner_inbox(*, user) -> Inbox:
    """The organisations ``user`` owns where exception requests or invitations are pending, by
    name (at most :data:`INBOX_LIMIT`): one query, with a counting subquery each."""
    requests = (
        ExceptionRequest.objects.filter(
            organization=OuterRef("pk"), status=ExceptionRequest.Status.PENDING
        )
        .order_by()
        .values("organization")
    )
    invitations = (
        Invitation.objects.pending()
        .filter(team__organization=OuterRef("pk"))
        .order_by()
        .values("team__organization")
    )
    rows = (
        Organization.objects.filter(teams__name=OWNERS_TEAM, teams__memberships__user=user)
        .annotate(
            requests=Coalesce(Subquery(requests.annotate(n=Count("pk")).values("n")), 0),
            oldest=Subquery(requests.annotate(first=Min("created_at")).values("first")),
            invitations=Coalesce(Subquery(invitations.annotate(n=Count("pk")).values("n")), 0),
        )
        .filter(Q(requests__gt=0) | Q(invitations__gt=0))
        .order_by("name")
        .values_list("name", "requests", "oldest", "invitations")[:INBOX_LIMIT]
    )
    return Inbox(tuple(InboxRow(*row) for row in rows))
