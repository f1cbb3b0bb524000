"""Reads of the activity log: an organisation's decisions (owners), a user's own, the summary at
the top of the owners' page, and the rows of the CSV export.

An organisation's decisions are the rows filed under it (:class:`activity.models.PullDecision`'s
``filed_under`` has its id), newest first, read through the time index (and the member and
outcome indexes for those filters), keeping the rows filed under the organisation: each page
costs the same few queries whatever the size of the log.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.functional import cached_property

from activity.models import PullDecision
from orgs.models import Organization
from policies.engine import Category, Outcome

PER_PAGE = 50
#: Pages count at most this many decisions ("10,000+"): counting a large log costs more than
#: showing it; narrower filters reach older decisions.
COUNT_CAP = 10_000
#: The summary is computed at most once a minute per organisation (shared cache).
SUMMARY_CACHE_SECONDS = 60
#: The summary's windows, in days.
SUMMARY_WINDOWS = (7, 30)
TOP = 5
REFUSED = (Outcome.BLOCKED.value, Outcome.WOULD_BLOCK.value)


def filed_under(organization: Organization) -> Q:
    """The decisions filed under ``organization``: made while the user was a member of it."""
    return Q(filed_under__has_key=str(organization.pk))


def organization_activity(*, organization: Organization, filters: dict) -> QuerySet[PullDecision]:
    """The decisions filed under ``organization`` (made while the user was a member), newest
    first, narrowed by ``filters`` (:meth:`ActivityFilterForm.as_filters`)."""
    return PullDecision.objects.filter(filed_under(organization), **filters).order_by(
        "-decided_at", "-id"
    )


def member_activity(*, user, filters: dict) -> QuerySet[PullDecision]:
    """The decisions made about ``user``'s own requests, newest first."""
    return PullDecision.objects.filter(user=user, **filters).order_by("-decided_at", "-id")


class CappedPaginator(Paginator):
    """A paginator that counts at most :data:`COUNT_CAP` rows (``SELECT COUNT(*)`` over a
    ``LIMIT`` subquery, so its cost is bounded whatever the size of the log); ``capped`` says
    there are more."""

    @cached_property
    def counted(self) -> int:
        return self.object_list[: COUNT_CAP + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self.counted, COUNT_CAP)

    @property
    def capped(self) -> bool:
        return self.counted > COUNT_CAP


def activity_page(queryset: QuerySet[PullDecision], page, per_page: int = PER_PAGE) -> Page:
    """One page of ``per_page`` decisions (two queries: the capped count and the rows); a
    malformed or out-of-range ``page`` gives the nearest valid page."""
    return CappedPaginator(queryset, per_page).get_page(page)


_ANOTHER = "another organization"
_ANOTHERS_DECISION = "Decided by another organization the member belongs to."


def shown_decider(decided_by: str, organization: Organization) -> str:
    """The deciding organisation as an organisation's owners see it: theirs, or "another
    organization" (which one is that organisation's business)."""
    return decided_by if decided_by in ("", organization.name) else _ANOTHER


def shown_reason(reason: str, decided_by: str, organization: Organization) -> str:
    """The reason as an organisation's owners see it: their own organisation's part of the
    decision. Another organisation's decision is not explained (its policy is its own
    business); their own organisation's reason names no other organisation (the engine's
    rule), and the other organisations that also allowed a pull (``also_allowed_by``) are
    never shown to them."""
    if decided_by not in ("", organization.name):
        return _ANOTHERS_DECISION
    return reason


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


def activity_summary(*, organization: Organization) -> ActivitySummary:
    """The organisation's summary, from the shared cache when it was computed less than
    :data:`SUMMARY_CACHE_SECONDS` ago (its ``as_of`` says when)."""
    key = f"activity-summary:{organization.pk}"
    summary = cache.get(key)
    if summary is None:
        summary = compute_activity_summary(organization=organization)
        cache.set(key, summary, SUMMARY_CACHE_SECONDS)
    return summary


def compute_activity_summary(
    *, organization: Organization, now: datetime | None = None
) -> ActivitySummary:
    """Three queries over the organisation's rows of the last ``max(SUMMARY_WINDOWS)`` days."""
    now = now or timezone.now()
    starts = [now - timedelta(days=days) for days in SUMMARY_WINDOWS]
    recent = PullDecision.objects.filter(filed_under(organization), decided_at__gte=min(starts))
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


#: The export's columns: (header, field).
CSV_COLUMNS = (
    ("time_utc", "decided_at"),
    ("user", "username"),
    ("signed_in_with", "signed_in_with"),
    ("credential", "credential"),
    ("client_address", "client_address"),
    ("user_agent", "user_agent"),
    ("repository", "repository"),
    ("actions_asked", "actions_asked"),
    ("actions_granted", "actions_granted"),
    ("category", "category"),
    ("decided_by", "deciding_organization"),
    ("rule", "rule"),
    ("outcome", "outcome"),
    ("reason", "reason"),
    ("policy_version", "filed_under"),
)
_DECIDED_BY = [field for _, field in CSV_COLUMNS].index("deciding_organization")
_REASON = [field for _, field in CSV_COLUMNS].index("reason")
_FILED = [field for _, field in CSV_COLUMNS].index("filed_under")
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
    yield [header for header, _ in CSV_COLUMNS]
    key = str(organization.pk)
    rows = queryset.values_list(*(field for _, field in CSV_COLUMNS))
    for row in rows.iterator(chunk_size=2000):
        cells = list(row)
        decided_by = cells[_DECIDED_BY]
        cells[0] = cells[0].strftime("%Y-%m-%dT%H:%M:%SZ")
        cells[_REASON] = shown_reason(cells[_REASON], decided_by, organization)
        cells[_DECIDED_BY] = shown_decider(decided_by, organization)
        cells[_FILED] = cells[_FILED].get(key)  # this organisation's policy version only
        yield [csv_cell(cell) for cell in cells]


def namespace_pulled(namespace: str) -> bool:
    """Whether a pull decision was recorded for a repository of ``namespace`` (the reader this
    app registers with :mod:`orgs.namespaces`). No index serves it (the log is indexed by
    organisation and time), so when nothing matches it reads the whole table; organisation
    creation is rare, rate-limited, and asks this last."""
    return PullDecision.objects.filter(repository__startswith=f"{namespace}/").exists()
