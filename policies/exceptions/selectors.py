"""Reads of exception requests: an organisation's pending ones, one of them, a member's own."""

from django.db.models import QuerySet

from orgs.models import Organization
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
