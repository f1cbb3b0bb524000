"""The impact preview: what an owner's unsaved settings would have done to the pulls the
organisation's members made in the last :data:`IMPACT_DAYS` days.

Each distinct (member, repository) pair recorded under the organisation in that window is
replayed through :func:`policies.engine.pull_decide` twice, once with the saved settings and once
with the draft, as the member stands in the organisation today (their teams' grants, the
organisation's allowlist in force now), read by the policies' snapshot reader
(:func:`policies.selectors.organization_member_snapshots`). Only this organisation's policy is
replayed: another organisation the member belongs to may refuse the pull anyway, and the draft
changes nothing there. The work is bounded: the :data:`MAX_PAIRS` most-requested pairs are
replayed, and the preview says when there were more. Four queries, whatever the size of the log
(the pairs, then the snapshots' three).
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.db.models import Count, Max
from django.utils import timezone

from activity.models import PullDecision
from activity.selectors import filed_under
from orgs.models import Organization
from policies.engine import Category, Outcome, pull_decide
from policies.references import ImageReference, InvalidReference, parse_repository_name
from policies.selectors import organization_member_snapshots

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
            filed_under(organization), decided_at__gte=since, user__isnull=False
        )
        .values("user_id", "repository")
        .annotate(pulls=Count("id"), username=Max("username"))
        .order_by("-pulls", "repository", "user_id")[: MAX_PAIRS + 1]
    )
    return [_Pair(**row) for row in rows]


def draft_impact(
    *, organization: Organization, draft: Mapping[str, bool], now: datetime | None = None
) -> Impact:
    """Replay the window's recorded (member, repository) pairs with the saved settings and
    with ``draft`` (settings of :data:`policies.models.POLICY_FIELDS`)."""
    now = now or timezone.now()
    pairs = _pairs(organization, now - timedelta(days=IMPACT_DAYS))
    capped = len(pairs) > MAX_PAIRS
    pairs = pairs[:MAX_PAIRS]
    references: dict[str, ImageReference | None] = {}
    wanted: dict[int, list[ImageReference]] = {}  # every member with a pair, for their snapshot
    for pair in pairs:
        if pair.repository not in references:
            try:
                references[pair.repository] = parse_repository_name(pair.repository)
            except InvalidReference:
                references[pair.repository] = None
        asked = wanted.setdefault(pair.user_id, [])
        if references[pair.repository] is not None:
            asked.append(references[pair.repository])
    snapshots = (
        organization_member_snapshots(organization=organization, references=wanted, as_of=now)
        if pairs
        else {}
    )
    refused = {Outcome.BLOCKED: [], Outcome.WOULD_BLOCK: []}
    gone = 0
    for pair in pairs:
        snapshot = snapshots.get(pair.user_id)
        if snapshot is None:
            gone += 1
            continue
        reference = references[pair.repository]
        if reference is None:
            continue
        (saved,) = snapshot.organizations
        drafted = replace(snapshot, organizations=(replace(saved, **draft),))
        after = pull_decide(drafted, reference)
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
