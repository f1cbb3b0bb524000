"""Reads for Image Access Management: policies, grants, the allowlist, their history, and the
decision snapshot (exception requests: :mod:`policies.exceptions.selectors`).

The snapshot (:class:`policies.engine.PullSnapshot`) is read in three places: here, for a user
(the Org Permissions page, ``check_pull``) and for each member of one organisation (the impact
preview, :func:`organization_member_snapshots`), and in :mod:`tokens.selectors`, for the holder
of an access token in the same query that finds the token. All select the columns named by
:func:`membership_columns` (as :data:`Membership` tuples) and turn them into organisations
with :func:`organization_policies`, and read the allowlist through :func:`in_force`, so a new
policy or grant setting, or a change of when an entry applies, reaches all of them without
being named in any. At most three queries
make a snapshot, whatever the size of the organisations, of their allowlists or the number of
teams: the memberships (with policies and grants), the verified publishers, and the allowlist
entries that could match (only when some organisation refuses a requested image without them).
"""

import functools
from collections import defaultdict, namedtuple
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from core.prepared import AnyOf, CompiledRead
from orgs.models import OWNERS_TEAM, Organization, Team, TeamMembership
from orgs.team_extensions import TeamSection
from policies.engine import (
    ListEntry,
    OrgPolicy,
    PullSnapshot,
    TeamPolicy,
    as_plain_member,
    pull_decide,
)
from policies.models import (
    GRANT_FIELDS,
    POLICY_FIELDS,
    AccessPolicy,
    AllowlistEntry,
    ExceptionRequest,
    PolicyChange,
    Publisher,
    TeamGrant,
    policy_field_label,
)
from policies.patterns import candidates
from policies.references import OFFICIAL_NAMESPACE, ImageReference


def policy_for_organization(*, organization: Organization) -> AccessPolicy:
    """The organisation's policy (every organisation has one, made with it)."""
    return AccessPolicy.objects.get(organization=organization)


#: The kinds of recorded change the History page filters by: {kind: (label, keys of
#: ``PolicyChange.changes`` that make a change of that kind)}.
HISTORY_KINDS = {
    "policy": ("Policy", POLICY_FIELDS),
    "grants": ("Team grants", ("team_grant",)),
    "allowlist": ("Allowlist", ("allowlist_added", "allowlist_removed")),
    "requests": (
        "Exception requests",
        ("exception_requested", "exception_approved", "exception_declined"),
    ),
    "sso": ("Single sign-on", ("sso_required", "sso_group_mapping", "sso_memberships")),
    "provisioning": ("Provisioning", ("provisioning",)),
    "teams": ("Teams", ("team_deleted",)),
    "tokens": (
        "Access tokens",
        ("token_policy", "org_token_created", "org_token_revoked", "member_token_revoked"),
    ),
}


def policy_history(
    *, organization: Organization, kind: str | None = None, limit: int | None = 20
) -> QuerySet[PolicyChange]:
    """The recorded changes of the organisation's settings, newest first: of one ``kind`` of
    :data:`HISTORY_KINDS` (None: every kind), the ``limit`` most recent (None: all)."""
    changes = PolicyChange.objects.filter(organization=organization)
    if kind is not None:
        changes = changes.filter(changes__has_any_keys=list(HISTORY_KINDS[kind][1]))
    return changes if limit is None else changes[:limit]


def organization_grants(*, organization: Organization) -> QuerySet[Team]:
    """The organisation's teams other than owners (who need no grant), by name, each with its
    grant (``team.grant``, absent when it has none) in the same query."""
    return (
        Team.objects.filter(organization=organization)
        .exclude(name=OWNERS_TEAM)
        .select_related("grant")
        .order_by("name")
    )


def team_allowed_categories(*, team: Team) -> list[str]:
    """The categories ``team``'s grant allows, by their labels (none without a grant)."""
    grant = TeamGrant.objects.filter(team=team).first()
    if grant is None:
        return []
    return [policy_field_label(f, TeamGrant) for f in GRANT_FIELDS if getattr(grant, f)]


def team_section(team: Team) -> TeamSection:
    """The team's page's Image Access Management section: what its grant allows and the
    allowlist entries for it, and what goes when it is deleted (registered with
    :mod:`orgs.team_extensions` from ``PoliciesConfig.ready``)."""
    link = reverse("policies:grants", kwargs={"org": team.organization.name})
    if team.is_owners:
        return TeamSection(
            title="Image access",
            lines=("The owners team can pull any image: it needs no grant.",),
            link_text="Org Permissions",
            link_url=link,
        )
    allowed = team_allowed_categories(team=team)
    entries = list(team.allowlist_entries.order_by("pattern"))
    lines = [f"Grant: {', '.join(allowed)} allowed" if allowed else "Grant: nothing extra"]
    lines.extend(
        f"Allowlist: '{entry.pattern}' ({entry.expiry_text}): {entry.reason}" for entry in entries
    )
    gone = []
    if allowed:
        gone.append(f"its grant ({', '.join(allowed)})")
    if entries:
        gone.append(f"{len(entries)} allowlist entr{'y' if len(entries) == 1 else 'ies'} for it")
    return TeamSection(
        title="Image access",
        lines=tuple(lines),
        link_text="Change the grant in Org Permissions",
        link_url=link,
        deleted_with=(
            f"Image Access Management: {' and '.join(gone)} "
            f"{'are' if len(gone) > 1 or len(entries) > 1 else 'is'} deleted; its members keep "
            "only what the organization's policy and their other teams allow."
            if gone
            else ""
        ),
    )


def allowlist_of(*, organization: Organization) -> QuerySet[AllowlistEntry]:
    """The organisation's allowlist entries (expired ones included), by pattern, with teams."""
    return (
        AllowlistEntry.objects.filter(organization=organization)
        .select_related("team")
        .order_by("pattern", "team__name", "id")
    )


def allowlist_entry_of(*, organization: Organization, pk: int) -> AllowlistEntry:
    """The organisation's allowlist entry ``pk``; raises ``AllowlistEntry.DoesNotExist`` (also
    for another organisation's entry)."""
    return AllowlistEntry.objects.select_related("team").get(organization=organization, pk=pk)


def membership_columns(prefix: str = "") -> dict[str, str]:
    """``{name: lookup}`` of what the snapshot needs about one team membership: the
    organisation, the team, the organisation's policy (its version and every setting) and the
    team's grant (every setting, ``grant_<field>``; None when the team has no grant). ``prefix``
    is the path from the queried model to ``TeamMembership``."""
    organization = f"{prefix}team__organization__"
    policy = f"{organization}access_policy__"
    grant = f"{prefix}team__grant__"
    return {
        "organization": f"{organization}name",
        "organization_id": f"{prefix}team__organization_id",
        "team": f"{prefix}team__name",
        "team_id": f"{prefix}team_id",
        "policy_version": f"{policy}version",
        **{field: f"{policy}{field}" for field in POLICY_FIELDS},
        **{f"grant_{field}": f"{grant}{field}" for field in GRANT_FIELDS},
    }


#: One team membership as the snapshot readers return it: the values of
#: :func:`membership_columns`, in their order (``membership.organization``, ``.team_id``,
#: ``.enabled``, ``.grant_allow_official_images``, ...). A plain tuple underneath: the readers
#: make one from the end of a database row without naming its values.
Membership = namedtuple("Membership", membership_columns())
_POLICY_AT = Membership._fields.index(POLICY_FIELDS[0])
_GRANT_AT = Membership._fields.index(f"grant_{GRANT_FIELDS[0]}")


@functools.lru_cache(maxsize=4096)
def _team_policy(name: str, grants: tuple[bool, ...]) -> TeamPolicy:
    """A team with these grant values (frozen, so one instance serves every snapshot: a member
    of many organisations reads a row per team on every token request)."""
    return TeamPolicy(name=name, **dict(zip(GRANT_FIELDS, grants, strict=True)))


def organization_policies(memberships: Iterable[Membership]) -> tuple[OrgPolicy, ...]:
    """One :class:`OrgPolicy` per organisation from a user's memberships (one per team the user
    is in), with the user's teams and their grants; memberships without an organisation (a user
    in no team, read through an outer join) are skipped. Sorted by name, teams too.

    The policies are made of the memberships' values only, so they are memoised on them: a
    registry asks again for every image it pulls, and a member of many organisations would
    otherwise rebuild the same policies (most of the work of such a request) each time. Nothing
    else goes into the result, so a memoised one is the one that would be built: a changed
    policy, grant, team or membership changes the values, and with them the key."""
    return _organization_policies(tuple(memberships))


@functools.lru_cache(maxsize=512)
def _organization_policies(memberships: tuple[Membership, ...]) -> tuple[OrgPolicy, ...]:
    first: dict[str, Membership] = {}
    teams: dict[str, list[TeamPolicy]] = {}
    for membership in memberships:
        name = membership.organization
        if name is None:
            continue
        grants = tuple([bool(value) for value in membership[_GRANT_AT:]])
        team = _team_policy(membership.team, grants)
        if name in teams:
            teams[name].append(team)
        else:
            first[name] = membership
            teams[name] = [team]
    policies = []
    for name in sorted(first):
        membership, mine = first[name], teams[name]
        if len(mine) > 1:
            mine.sort(key=_team_name)
        policies.append(
            OrgPolicy(
                name=name,
                id=membership.organization_id,
                is_owner=any(team.name == OWNERS_TEAM for team in mine),
                version=membership.policy_version,
                teams=tuple(mine),
                **dict(zip(POLICY_FIELDS, membership[_POLICY_AT:_GRANT_AT], strict=True)),
            )
        )
    return tuple(policies)


def _team_name(team: TeamPolicy) -> str:
    return team.name


def publisher_candidates(references: Iterable[ImageReference]) -> list[str]:
    """Namespaces whose Verified Publisher status could matter for these references."""
    return sorted(
        {
            ref.namespace
            for ref in references
            if ref.is_docker_hub and ref.namespace != OFFICIAL_NAMESPACE
        }
    )


def _verified_among(namespaces: Sequence[str]) -> QuerySet:
    return Publisher.objects.filter(AnyOf(F("namespace"), namespaces), verified=True).order_by()


_VERIFIED_PUBLISHERS = CompiledRead(
    lambda namespaces: _verified_among(namespaces).values_list("namespace"), ["namespace"]
)


def verified_publishers(references: Iterable[ImageReference]) -> frozenset[str]:
    """The verified publishers among the references' namespaces: no query when none could be
    one (official images, other registries)."""
    candidates = publisher_candidates(references)
    if not candidates:
        return frozenset()
    return frozenset(row["namespace"] for row in _VERIFIED_PUBLISHERS.rows(candidates))


def in_force(as_of: datetime) -> Q:
    """The allowlist entries that apply at ``as_of``: no expiry, or an expiry after it. The
    database's form of :func:`policies.engine.entry_in_force` (a test pins the two to each
    other); every read of entries for a decision goes through it."""
    return Q(expires_at__isnull=True) | Q(expires_at__gt=as_of)


_ENTRY_COLUMNS = {
    "pattern": "pattern",
    "organization_id": "organization_id",
    "team_id": "team_id",
    "added_by": "added_by_username",
    "expires_at": "expires_at",
    "reason": "reason",
}


def _allowlist(
    organization_ids: Sequence[int],
    team_ids: Sequence[int],
    as_of: datetime,
    patterns: Sequence[str] | None = None,
) -> QuerySet:
    """The entries of these organisations, organisation-wide or for one of these teams, in
    force at ``as_of`` (and, unless None, with one of ``patterns``), as the columns of
    :data:`_ENTRY_COLUMNS`."""
    entries = AllowlistEntry.objects.filter(
        Q(team__isnull=True) | AnyOf(F("team_id"), team_ids),
        in_force(as_of),
        AnyOf(F("organization_id"), organization_ids),
    )
    if patterns is not None:
        entries = entries.filter(AnyOf(F("pattern"), patterns))
    return entries.order_by().values_list(*_ENTRY_COLUMNS.values())


_ALLOWLIST = CompiledRead(
    lambda organization_ids, team_ids, patterns, as_of: _allowlist(
        organization_ids, team_ids, as_of, patterns
    ),
    _ENTRY_COLUMNS,
)


def _list_entries(
    rows: Iterable[Mapping], organizations: Mapping[int, str], teams: Mapping[int, str]
) -> tuple[ListEntry, ...]:
    """Entry rows (columns of :data:`_ENTRY_COLUMNS`) as the engine's entries, in a stable
    order."""
    entries = (
        ListEntry(
            pattern=row["pattern"],
            organization=organizations[row["organization_id"]],
            team=teams[row["team_id"]] if row["team_id"] is not None else None,
            added_by=row["added_by"],
            expires_at=row["expires_at"],
            reason=row["reason"],
        )
        for row in rows
    )
    return tuple(sorted(entries, key=lambda e: (e.organization, e.team or "", e.pattern)))


def _entries(
    *,
    organizations: Mapping[int, str],
    teams: Mapping[int, str],
    references: Iterable[ImageReference],
    as_of: datetime,
) -> tuple[ListEntry, ...]:
    """The entries of ``organizations`` ({id: name}), organisation-wide or for one of
    ``teams`` ({id: name}), in force at ``as_of``, whose pattern could match one of the
    references: one query, narrowed by the patterns that could match
    (:func:`policies.patterns.candidates`), so its cost does not grow with the allowlist. The
    patterns, organisations and teams are one array parameter each: one statement whatever
    their number."""
    patterns = sorted({pattern for ref in references for pattern in candidates(ref.path)})
    if not organizations or not patterns:
        return ()
    rows = _ALLOWLIST.rows(sorted(organizations), sorted(teams), patterns, as_of)
    return _list_entries(rows, organizations, teams)


def refused_references(
    snapshot: PullSnapshot, references: Iterable[ImageReference]
) -> list[ImageReference]:
    """The references the snapshot's user may not pull without an allowlist entry: the only
    ones whose entries are worth reading (entries only ever widen what a policy allows)."""
    bare = replace(snapshot, entries=()) if snapshot.entries else snapshot
    return [ref for ref in references if not pull_decide(bare, ref).allowed]


def snapshot_from_memberships(
    *,
    username: str,
    memberships: Sequence[Membership],
    references: list[ImageReference],
    as_of: datetime,
) -> PullSnapshot:
    """The user's snapshot from their memberships: their organisations, the verified publishers
    among the references' namespaces, and the allowlist entries of the organisations that
    restrict them that could let them pull a reference their policies refuse."""
    snapshot = PullSnapshot(
        username=username,
        organizations=organization_policies(memberships),
        verified_publishers=verified_publishers(references),
        as_of=as_of,
    )
    refused = refused_references(snapshot, references)
    if not refused:
        return snapshot
    restricting = {org.name for org in snapshot.organizations if org.restricts}
    mine = [m for m in memberships if m.organization in restricting]
    entries = _entries(
        organizations={m.organization_id: m.organization for m in mine},
        teams={m.team_id: m.team for m in mine},
        references=refused,
        as_of=as_of,
    )
    return replace(snapshot, entries=entries)


_MEMBERSHIPS = CompiledRead(
    lambda user_id: (
        TeamMembership.objects.filter(user_id=user_id)
        .order_by()
        .values_list(*membership_columns().values())
    ),
    membership_columns(),
)


def memberships_of(user_id: int) -> list[Membership]:
    """The user's memberships (one query)."""
    return [Membership._make(row) for row in _MEMBERSHIPS.tuples(user_id)]


def pull_snapshot(
    *, user, references: Iterable[ImageReference] = (), as_of: datetime | None = None
) -> PullSnapshot:
    """What :func:`policies.engine.pull_decide` needs about ``user`` for these references, as
    of ``as_of`` (default: now).

    At most three queries whatever the size of the organisations, of their allowlists or of
    the catalogue: the user's memberships with each organisation's policy and each team's
    grant, the verified publishers among the references' namespaces (skipped when there is no
    candidate), and the allowlist entries that could match (skipped unless a policy refuses a
    reference).
    """
    as_of = as_of or timezone.now()
    if user is None or not user.is_authenticated:
        return PullSnapshot(username="", as_of=as_of)
    return snapshot_from_memberships(
        username=user.get_username(),
        memberships=memberships_of(user.pk),
        references=list(references),
        as_of=as_of,
    )


def member_preview_snapshot(
    *,
    organization: Organization,
    snapshot: PullSnapshot,
    references: list[ImageReference],
    settings: Mapping[str, bool] | None = None,
) -> PullSnapshot:
    """The snapshot of a plain member of ``organization`` (in none of its teams with more
    rights), built from a member's or owner's ``snapshot`` of it: what the saved policy (or
    the unsaved ``settings``, fields of :data:`POLICY_FIELDS`) and the organisation-wide
    allowlist give its members (the owners' preview on the page)."""
    this = next(org for org in snapshot.organizations if org.name == organization.name)
    if settings is not None:
        this = replace(this, **settings)
    plain = as_plain_member(replace(snapshot, entries=()), this)
    refused = refused_references(plain, references)
    if not refused:
        return plain
    entries = _entries(
        organizations={organization.pk: organization.name},
        teams={},
        references=refused,
        as_of=snapshot.as_of,
    )
    return replace(plain, entries=entries)


def plain_member_snapshot(
    *,
    username: str,
    organization: OrgPolicy,
    references: list[ImageReference],
    as_of: datetime,
) -> PullSnapshot:
    """The snapshot of someone who belongs to ``organization`` alone, as a plain member (the
    caller passes its policy with ``is_owner`` False and no teams): the organisation's policy
    and its organisation-wide allowlist entries that could let them pull a reference the
    policy refuses. What an organisation access token pulls with."""
    snapshot = PullSnapshot(
        username=username,
        organizations=(replace(organization, is_owner=False, teams=()),),
        verified_publishers=verified_publishers(references),
        as_of=as_of,
    )
    refused = refused_references(snapshot, references)
    if not refused or organization.id is None:
        return snapshot
    entries = _entries(
        organizations={organization.id: organization.name},
        teams={},
        references=refused,
        as_of=as_of,
    )
    return replace(snapshot, entries=entries)


def namespace_is_referenced(namespace: str) -> bool:
    """Whether the portal already names repositories of ``namespace`` (``someone`` for
    ``someone/tool``): an allowlist entry of any organisation (expired ones too) or an
    exception request in any state (recorded pulls: :func:`activity.selectors.namespace_pulled`).
    Stored patterns and repository paths are normalised (``ubuntu`` is ``library/ubuntu``), so
    the namespace is what comes before the first ``/``. At most two ``EXISTS`` queries. (The
    reader registered with :mod:`orgs.namespaces`.)"""
    prefix = f"{namespace}/"
    return (
        AllowlistEntry.objects.filter(pattern__startswith=prefix).exists()
        or ExceptionRequest.objects.filter(repository__startswith=prefix).exists()
    )


_MEMBER_COLUMNS = {"user_id": "user_id", "username": "user__username", **membership_columns()}


def organization_member_snapshots(
    *,
    organization: Organization,
    references: Mapping[int, Iterable[ImageReference]],
    as_of: datetime,
) -> dict[int, PullSnapshot]:
    """The snapshot of each member of ``organization`` alone, as they stand in it (their teams
    and grants, the saved policy; not their other organisations), for the references listed
    for them (``references``: {user id: references}; a user who is not a member has none).

    Three queries whatever the number of members and references: the organisation's
    memberships with its policy and their teams' grants, the verified publishers among the
    references' namespaces, and the organisation's entries in force at ``as_of`` (its
    allowlist is bounded); each snapshot carries the entries whose pattern could match one of
    its references. No entry is left out because the saved policy allows a reference: the
    impact preview replays the snapshots with other settings."""
    rows: dict[int, list[Membership]] = defaultdict(list)
    usernames: dict[int, str] = {}
    memberships = TeamMembership.objects.filter(team__organization=organization).values_list(
        *_MEMBER_COLUMNS.values()
    )
    for user_id, username, *membership in memberships:
        if user_id in references:
            rows[user_id].append(Membership._make(membership))
            usernames[user_id] = username
    if not rows:
        return {}
    wanted = {user_id: list(references[user_id]) for user_id in rows}
    namespaces = publisher_candidates(ref for refs in wanted.values() for ref in refs)
    publishers = frozenset(
        _verified_among(namespaces).values_list("namespace", flat=True) if namespaces else ()
    )
    teams = {m.team_id: m.team for member in rows.values() for m in member}
    entry_rows = _allowlist([organization.pk], sorted(teams), as_of)
    entries = _list_entries(
        (dict(zip(_ENTRY_COLUMNS, values, strict=True)) for values in entry_rows),
        {organization.pk: organization.name},
        teams,
    )
    by_pattern: dict[str, list[ListEntry]] = defaultdict(list)
    for entry in entries:
        by_pattern[entry.pattern].append(entry)
    return {
        user_id: PullSnapshot(
            username=usernames[user_id],
            organizations=organization_policies(member),
            verified_publishers=publishers,
            entries=tuple(
                dict.fromkeys(
                    entry
                    for ref in wanted[user_id]
                    for pattern in candidates(ref.path)
                    for entry in by_pattern.get(pattern, ())
                )
            ),
            as_of=as_of,
        )
        for user_id, member in rows.items()
    }


def publisher_namespace_refusal(name: str) -> str | None:
    """Why ``name`` can't be an organisation's namespace: it is a publisher's (members may
    push to their organisation's namespace, so owning a publisher's would let anyone publish
    "Verified Publisher" images); None otherwise. (Registered with :mod:`orgs.namespaces`.)"""
    if Publisher.objects.filter(namespace=name).exists():
        return f"The name '{name}' belongs to a publisher."
    return None


def access_snapshot(*, user, organization: Organization) -> PullSnapshot:
    """``user``'s snapshot for :func:`policies.engine.access_summary` in ``organization``: their
    memberships and, when it restricts them, every entry of its allowlist in force for them
    (organisation-wide or for one of their teams there). Two queries; the allowlist of one
    organisation is bounded."""
    as_of = timezone.now()
    memberships = memberships_of(user.pk)
    snapshot = snapshot_from_memberships(
        username=user.get_username(), memberships=memberships, references=[], as_of=as_of
    )
    this = next((org for org in snapshot.organizations if org.name == organization.name), None)
    if this is None or not this.restricts:
        return snapshot
    teams = {m.team_id: m.team for m in memberships if m.organization_id == organization.pk}
    entries = _list_entries(
        (
            dict(zip(_ENTRY_COLUMNS, values, strict=True))
            for values in _allowlist([organization.pk], sorted(teams), as_of)
        ),
        {organization.pk: organization.name},
        teams,
    )
    return replace(snapshot, entries=entries)
