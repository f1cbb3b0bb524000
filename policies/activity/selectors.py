"""Reads of the activity log: an organisation's decisions (owners), a user's own, the summary at
the top of the owners' page, and the rows of the CSV export.

An organisation's decisions are the rows filed under it (:class:`policies.models.PullDecision`),
read through the composite indexes that start with the organisation, so each page costs the same
few queries whatever the size of the log or of the organisation.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from orgs.models import Organization
from policies.engine import Category, Outcome
from policies.models import PullDecision

PER_PAGE = 50
#: The summary's windows, in days.
SUMMARY_WINDOWS = (7, 30)
TOP = 5
REFUSED = (Outcome.BLOCKED.value, Outcome.WOULD_BLOCK.value)


def organization_activity(*, organization: Organization, filters: dict) -> QuerySet[PullDecision]:
    """The decisions filed under ``organization`` (made while the user was a member), newest
    first, narrowed by ``filters`` (:meth:`ActivityFilterForm.as_filters`)."""
    return PullDecision.objects.filter(organization=organization, **filters).order_by(
        "-decided_at", "-id"
    )


def member_activity(*, user, filters: dict) -> QuerySet[PullDecision]:
    """The decisions made about ``user``'s own requests (one row each), newest first."""
    return PullDecision.objects.filter(user=user, primary=True, **filters).order_by(
        "-decided_at", "-id"
    )


def activity_page(queryset: QuerySet[PullDecision], page) -> Page:
    """One page of decisions (two queries: the count and the rows); a malformed or
    out-of-range ``page`` gives the nearest valid page."""
    return Paginator(queryset, PER_PAGE).get_page(page)


_ALSO_ALLOWED = re.compile(r" Also allowed by [^.]*\.$")


def reason_for(decision: PullDecision, organization: Organization) -> str:
    """The reason as an organisation's owners see it: another organisation's decision is not
    explained (its policy is its own business), nor are the other organisations that also
    allowed a pull."""
    if decision.deciding_organization not in ("", organization.name):
        return "Decided by another organization the member belongs to."
    return _ALSO_ALLOWED.sub("", decision.reason)


def decided_by_for(decision: PullDecision, organization: Organization) -> str:
    if decision.deciding_organization in ("", organization.name):
        return decision.deciding_organization
    return "another organization"


@dataclass(frozen=True)
class OutcomeCounts:
    """Pulls of one category with one outcome in each summary window."""

    outcome: Outcome
    counts: tuple[int, ...]  # one per SUMMARY_WINDOWS


@dataclass(frozen=True)
class CategorySummary:
    category: Category
    outcomes: tuple[OutcomeCounts, ...]

    @property
    def cells(self) -> list[int]:
        """The counts in the order of :attr:`ActivitySummary.columns`."""
        windows = len(self.outcomes[0].counts)
        return [o.counts[i] for i in range(windows) for o in self.outcomes]


@dataclass(frozen=True)
class SummaryColumn:
    days: int
    label: str
    first: bool  # the window's first column


@dataclass(frozen=True)
class BlockedImage:
    repository: str
    blocked: int
    would_block: int
    members: int


@dataclass(frozen=True)
class BlockedMember:
    username: str
    blocked: int
    would_block: int


@dataclass(frozen=True)
class ActivitySummary:
    """The top of the owners' page: pulls by category and outcome over each window, and over
    the longest window the most refused images and the members most often refused."""

    windows: tuple[int, ...]
    categories: tuple[CategorySummary, ...]
    images: tuple[BlockedImage, ...]
    members: tuple[BlockedMember, ...]
    as_of: datetime

    @property
    def outcomes(self) -> tuple[Outcome, ...]:
        return tuple(Outcome)

    @property
    def columns(self) -> list[SummaryColumn]:
        """One column per window and outcome, in the order of :attr:`CategorySummary.cells`."""
        return [
            SummaryColumn(days=days, label=outcome.label, first=index == 0)
            for days in self.windows
            for index, outcome in enumerate(Outcome)
        ]


def activity_summary(*, organization: Organization, now: datetime | None = None) -> ActivitySummary:
    """Three queries over the organisation's rows of the last ``max(SUMMARY_WINDOWS)`` days."""
    now = now or timezone.now()
    starts = [now - timedelta(days=days) for days in SUMMARY_WINDOWS]
    recent = PullDecision.objects.filter(organization=organization, decided_at__gte=min(starts))
    windows = {
        f"in_{days}": Count("id", filter=Q(decided_at__gte=start))
        for days, start in zip(SUMMARY_WINDOWS, starts, strict=True)
    }
    counts: dict[tuple[str, str], tuple[int, ...]] = {
        (row["category"], row["outcome"]): tuple(row[key] for key in windows)
        for row in recent.values("category", "outcome").annotate(**windows).order_by()
    }
    categories = tuple(
        CategorySummary(
            category=category,
            outcomes=tuple(
                OutcomeCounts(
                    outcome=outcome,
                    counts=counts.get((category.value, outcome.value), (0,) * len(windows)),
                )
                for outcome in Outcome
            ),
        )
        for category in Category
        if any(key[0] == category.value for key in counts)
    )
    refused = recent.filter(outcome__in=REFUSED)
    split = {
        "blocked": Count("id", filter=Q(outcome=Outcome.BLOCKED.value)),
        "would_block": Count("id", filter=Q(outcome=Outcome.WOULD_BLOCK.value)),
    }
    images = tuple(
        BlockedImage(**row)
        for row in refused.values("repository")
        .annotate(**split, members=Count("username", distinct=True), pulls=Count("id"))
        .order_by("-pulls", "repository")
        .values("repository", "blocked", "would_block", "members")[:TOP]
    )
    members = tuple(
        BlockedMember(**row)
        for row in refused.values("username")
        .annotate(**split, pulls=Count("id"))
        .order_by("-pulls", "username")
        .values("username", "blocked", "would_block")[:TOP]
    )
    return ActivitySummary(
        windows=SUMMARY_WINDOWS,
        categories=categories,
        images=images,
        members=members,
        as_of=now,
    )


CSV_HEADER = (
    "time_utc",
    "user",
    "signed_in_with",
    "credential",
    "client_address",
    "user_agent",
    "repository",
    "actions_asked",
    "actions_granted",
    "category",
    "decided_by",
    "rule",
    "outcome",
    "reason",
    "policy_version",
)
# Cells a spreadsheet would read as a formula (and tab/CR, which some strip before reading).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A value as a CSV cell that no spreadsheet runs: text starting with = + - @ (or a tab or
    carriage return) gets a leading apostrophe (OWASP's advice on CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def activity_csv_rows(queryset: QuerySet[PullDecision], organization: Organization) -> Iterator:
    """The header, then one list of cells per decision, read in chunks (a server-side cursor
    on PostgreSQL), so the export streams whatever its size."""
    yield list(CSV_HEADER)
    for decision in queryset.iterator(chunk_size=2000):
        yield [
            csv_cell(value)
            for value in (
                decision.decided_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                decision.username,
                decision.signed_in_with,
                decision.credential,
                decision.client_address,
                decision.user_agent,
                decision.repository,
                decision.actions_asked,
                decision.actions_granted,
                decision.category,
                decided_by_for(decision, organization),
                decision.rule,
                decision.outcome,
                reason_for(decision, organization),
                decision.policy_version,
            )
        ]
