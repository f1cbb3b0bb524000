"""The impact preview: what an owner's unsaved settings would have done to the pulls the
organisation's members made in the last :data:`IMPACT_DAYS` days.

Each distinct (member, repository) pair recorded under the organisation in that window is
replayed through :func:`policies.engine.pull_decide` twice, once with the saved settings and once
with the draft, as the member stands in the organisation today (their teams' grants, the
organisation's allowlist in force now). Only this organisation's policy is replayed: another
organisation the member belongs to may refuse the pull anyway, and the draft changes nothing
there. The work is bounded: the :data:`MAX_PAIRS` most-requested pairs are replayed, and the
preview says when there were more. Five queries, whatever the size of the log.
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.db.models import Count, Max, Q
from django.utils import timezone

from activity.models import PullDecision
from orgs.models import Organization, TeamMembership
from policies.engine import Category, ListEntry, Outcome, PullSnapshot, pull_decide
from policies.models import AllowlistEntry, Publisher
from policies.patterns import candidates
from policies.references import InvalidReference, parse_repository_name
from policies.selectors import membership_columns, organization_policies

IMPACT_DAYS = 30
MAX_PAIRS = 5000
TOP_IMAGES = 10
SHOWN_MEMBERS = 20


@dataclass(frozen=True)
class ImageImpact:
    repository: str
    pulls: int
    members: int


@dataclass(frozen=True)
class CategoryImpact:
    category: Category
    pulls: int
    members: int


@dataclass(frozen=True)
class ImpactGroup:
    """The recorded pulls that the draft would give one outcome (blocked, or would-block in
    audit-only mode): how many requests, by how many members, of which categories and images,
    and how many of those requests the saved settings let through."""

    pulls: int = 0
    pairs: int = 0
    newly: int = 0  # requests the saved settings let through (pulled) that this would refuse
    members: tuple[str, ...] = ()
    member_count: int = 0
    categories: tuple[CategoryImpact, ...] = ()
    images: tuple[ImageImpact, ...] = ()


@dataclass(frozen=True)
class Impact:
    """What the draft settings would have done to the window's recorded pulls."""

    days: int
    pairs: int  # distinct (member, repository) pairs replayed
    capped: bool  # more pairs were recorded than were replayed
    blocked: ImpactGroup
    would_block: ImpactGroup
    members_gone: int  # pairs of people who are no longer members (not replayed)
    as_of: datetime

    @property
    def needs_confirmation(self) -> bool:
        """Saving would block pulls that members made and that the saved settings allow."""
        return self.blocked.newly > 0


@dataclass(frozen=True)
class _Pair:
    user_id: int
    username: str
    repository: str
    pulls: int


def _pairs(organization: Organization, since: datetime) -> list[_Pair]:
    rows = (
        PullDecision.objects.filter(
            organization=organization, decided_at__gte=since, user__isnull=False
        )
        .values("user_id", "repository")
        .annotate(pulls=Count("id"), username=Max("username"))
        .order_by("-pulls", "repository", "user_id")[: MAX_PAIRS + 1]
    )
    return [_Pair(**row) for row in rows]


def _standing(organization: Organization) -> dict:
    """Each member's :class:`OrgPolicy` in the organisation with the saved settings: one query
    for the organisation's memberships, policy and grants."""
    columns = membership_columns()
    rows = TeamMembership.objects.filter(team__organization=organization).values_list(
        "user_id", *columns.values()
    )
    by_user = defaultdict(list)
    for user_id, *values in rows:
        by_user[user_id].append(dict(zip(columns, values, strict=True)))
    return {user_id: organization_policies(rows)[0] for user_id, rows in by_user.items()}


def _entries(organization: Organization, as_of: datetime) -> dict[str, list[ListEntry]]:
    """The organisation's entries in force at ``as_of``, by pattern (at most 1,000)."""
    by_pattern = defaultdict(list)
    for row in (
        AllowlistEntry.objects.filter(organization=organization)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=as_of))
        .values("pattern", "team__name", "added_by_username", "expires_at", "reason")
    ):
        by_pattern[row["pattern"]].append(
            ListEntry(
                pattern=row["pattern"],
                organization=organization.name,
                team=row["team__name"],
                added_by=row["added_by_username"],
                expires_at=row["expires_at"],
                reason=row["reason"],
            )
        )
    return by_pattern


def draft_impact(
    *, organization: Organization, draft: Mapping[str, bool], now: datetime | None = None
) -> Impact:
    """Replay the window's recorded (member, repository) pairs with the saved settings and
    with ``draft`` (settings of :data:`policies.models.POLICY_FIELDS`)."""
    now = now or timezone.now()
    pairs = _pairs(organization, now - timedelta(days=IMPACT_DAYS))
    capped = len(pairs) > MAX_PAIRS
    pairs = pairs[:MAX_PAIRS]
    standing = _standing(organization) if pairs else {}
    entries = _entries(organization, now) if pairs else {}
    publishers = (
        frozenset(Publisher.objects.filter(verified=True).values_list("namespace", flat=True))
        if pairs
        else frozenset()
    )
    references, refused = {}, {Outcome.BLOCKED: [], Outcome.WOULD_BLOCK: []}
    gone = 0
    for pair in pairs:
        saved = standing.get(pair.user_id)
        if saved is None:
            gone += 1
            continue
        if pair.repository not in references:
            try:
                references[pair.repository] = parse_repository_name(pair.repository)
            except InvalidReference:
                references[pair.repository] = None
        reference = references[pair.repository]
        if reference is None:
            continue
        snapshot = PullSnapshot(
            username=pair.username,
            organizations=(saved,),
            verified_publishers=publishers,
            entries=tuple(e for p in candidates(reference.path) for e in entries.get(p, ())),
            as_of=now,
        )
        after = pull_decide(replace(snapshot, organizations=(replace(saved, **draft),)), reference)
        if after.outcome is Outcome.ALLOWED:
            continue
        before = pull_decide(snapshot, reference)
        refused[after.outcome].append((pair, after.category, before.granted))
    return Impact(
        days=IMPACT_DAYS,
        pairs=len(pairs),
        capped=capped,
        blocked=_group(refused[Outcome.BLOCKED]),
        would_block=_group(refused[Outcome.WOULD_BLOCK]),
        members_gone=gone,
        as_of=now,
    )


def _group(items: list[tuple[_Pair, Category, bool]]) -> ImpactGroup:
    if not items:
        return ImpactGroup()
    members = sorted({pair.username for pair, _, _ in items})
    by_category, by_image = defaultdict(lambda: [0, set()]), defaultdict(lambda: [0, set()])
    for pair, category, _ in items:
        for key, table in ((category, by_category), (pair.repository, by_image)):
            table[key][0] += pair.pulls
            table[key][1].add(pair.user_id)
    images = sorted(by_image.items(), key=lambda item: (-item[1][0], item[0]))[:TOP_IMAGES]
    return ImpactGroup(
        pulls=sum(pair.pulls for pair, _, _ in items),
        pairs=len(items),
        newly=sum(pair.pulls for pair, _, pulled in items if pulled),
        members=tuple(members[:SHOWN_MEMBERS]),
        member_count=len(members),
        categories=tuple(
            CategoryImpact(category=c, pulls=n, members=len(who))
            for c, (n, who) in sorted(by_category.items(), key=lambda item: -item[1][0])
        ),
        images=tuple(
            ImageImpact(repository=r, pulls=n, members=len(who)) for r, (n, who) in images
        ),
    )
