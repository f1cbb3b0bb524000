"""The pull decision engine: one pure function decides every pull.

It works on a :class:`PullSnapshot` (the user's organisations with each one's policy, the
user's standing and teams there, the allowlist entries that could apply, the verified
publishers that matter, and the time the snapshot was read) and never touches the database or
the request. The Org Permissions page, ``manage.py check_pull`` and the registry token service
all call :func:`pull_decide`.

The rule: a user pulls an image if **every** organisation that restricts them allows it. An
organisation restricts a user when its Image Access Management is on and the user is not in its
owners team (owners bypass only their own organisation). A restricting organisation allows an
image when

1. it is the organisation's own image (``acme/...`` for acme), or
2. its policy allows the image's category (Docker Official Images, Docker Verified Publisher
   images; never Community images), or
3. a team of that organisation the user is in has a grant for the category, or
4. an allowlist entry of that organisation covers the repository, is in force at the snapshot's
   ``as_of`` (no expiry, or an expiry after it), and is either organisation-wide or for a team
   of that organisation the user is in.

An organisation's grants and entries never count for another organisation. Images on other
registries are outside Image Access Management, as on Docker Hub.

An organisation in **audit-only mode** (``audit_only`` while ``enabled``) is judged the same way,
but its refusal is not enforced: when every organisation that refuses an image is in audit-only
mode, the decision is a refusal with ``enforced=False`` (outcome ``would_block``) and the pull goes
through. One enforcing organisation that refuses is enough to block it.

Every decision names the :class:`Rule` that decided it and says it in words. Which
organisations decided is data, not prose: :attr:`Decision.organization` decided, and its
:attr:`Decision.reason` names no other organisation of the user; the others that also allowed
the pull are :attr:`Decision.also_allowed_by`, put into words only for the user
(:attr:`Decision.explanation`). An organisation's owners are shown only their own
organisation's part (the activity pages), so they never learn which other organisations a
member belongs to.
"""

from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from enum import StrEnum
from typing import NamedTuple

from policies.patterns import matches, parse_pattern, specificity
from policies.references import OFFICIAL_NAMESPACE, ImageReference


class Category(StrEnum):
    """What kind of image a reference names, relative to one organisation."""

    ORGANIZATION = "organization"
    OFFICIAL = "official"
    VERIFIED_PUBLISHER = "verified_publisher"
    COMMUNITY = "community"
    OTHER_REGISTRY = "other_registry"

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]


CATEGORY_LABELS = {
    Category.ORGANIZATION: "Organization images",
    Category.OFFICIAL: "Docker Official Images",
    Category.VERIFIED_PUBLISHER: "Docker Verified Publisher images",
    Category.COMMUNITY: "Community images",
    Category.OTHER_REGISTRY: "Images from other registries",
}

#: The setting that allows a category, in an organisation's policy or a team's grant (a policy
#: has no Community setting: organisations never allow Community images as a whole).
CATEGORY_SETTINGS = {
    Category.OFFICIAL: "allow_official_images",
    Category.VERIFIED_PUBLISHER: "allow_verified_publishers",
    Category.COMMUNITY: "allow_community_images",
}


class Rule(StrEnum):
    """Which rule decided a pull (``check_pull``'s ``rule``)."""

    OTHER_REGISTRY = "other_registry"  # not Docker Hub: outside Image Access Management
    NO_ORGANIZATION = "no_organization"  # the user is in no organisation
    UNMANAGED = "unmanaged"  # no organisation of the user has management on
    OWNER = "owner"  # only organisations whose owners team the user is in have it on
    ORGANIZATION = "organization"  # the organisation's own images
    CATEGORY = "category"  # the organisation's policy allows (or blocks) the category
    TEAM_GRANT = "team_grant"  # a grant of one of the user's teams allows the category
    ALLOWLIST = "allowlist"  # an allowlist entry covers the repository

    @property
    def label(self) -> str:
        return RULE_LABELS[self]


RULE_LABELS = {
    Rule.OTHER_REGISTRY: "Other registry",
    Rule.NO_ORGANIZATION: "No organization",
    Rule.UNMANAGED: "Image Access Management off",
    Rule.OWNER: "Owners team",
    Rule.ORGANIZATION: "Organization images",
    Rule.CATEGORY: "Image category",
    Rule.TEAM_GRANT: "Team grant",
    Rule.ALLOWLIST: "Allowlist entry",
}


class Outcome(StrEnum):
    """What became of a decision at the registry (the activity log's ``outcome``)."""

    ALLOWED = "allowed"  # the policy allows the pull
    BLOCKED = "blocked"  # the policy refuses it, and the refusal is enforced
    WOULD_BLOCK = "would_block"  # refused by organisations in audit-only mode only: pulled

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self]

    @property
    def verdict(self) -> str:
        """The outcome as a page shows it: what the policy says *and* what became of the pull,
        so that audit-only mode never reads "Blocked" above "the pull is allowed"."""
        return OUTCOME_VERDICTS[self]


OUTCOME_LABELS = {
    Outcome.ALLOWED: "Allowed",
    Outcome.BLOCKED: "Blocked",
    Outcome.WOULD_BLOCK: "Would be blocked",
}
OUTCOME_VERDICTS = {
    Outcome.ALLOWED: "✔ Allowed",
    Outcome.BLOCKED: "✖ Blocked",
    Outcome.WOULD_BLOCK: "⚠ Would be blocked (audit only) — pulled",
}
# When several organisations restrict a user and all allow an image, the decision names the
# most exceptional of their rules: that is what explains why the pull goes through.
_RULE_WEIGHT = {Rule.ORGANIZATION: 0, Rule.CATEGORY: 1, Rule.TEAM_GRANT: 2, Rule.ALLOWLIST: 3}


@dataclass(frozen=True)
class TeamPolicy:
    """A team the user is in, with the extra categories its grant allows (a team without a
    grant allows nothing extra). Mirrors :class:`policies.models.TeamGrant` (a test pins it)."""

    name: str
    allow_official_images: bool = False
    allow_verified_publishers: bool = False
    allow_community_images: bool = False


@dataclass(frozen=True)
class OrgPolicy:
    """One organisation the user belongs to, with its policy and the user's standing in it.

    The settings mirror :class:`policies.models.AccessPolicy`'s fields (a test pins that);
    ``version`` is the policy version the snapshot was read at; ``teams`` are the user's teams
    there, by name; ``id`` is the organisation's database id, for the activity log (None when
    the snapshot was not read from the database).
    """

    name: str
    is_owner: bool
    enabled: bool = False
    audit_only: bool = False
    allow_official_images: bool = False
    allow_verified_publishers: bool = False
    version: int = 0
    teams: tuple[TeamPolicy, ...] = ()
    id: int | None = None

    @property
    def restricts(self) -> bool:
        """Whether this organisation's policy applies to the user (in audit-only mode too)."""
        return self.enabled and not self.is_owner

    @property
    def enforces(self) -> bool:
        """Whether this organisation's refusals are applied (not in audit-only mode)."""
        return not self.audit_only

    def has_team(self, name: str) -> bool:
        return any(team.name == name for team in self.teams)


def entry_in_force(expires_at: datetime | None, as_of: datetime | None) -> bool:
    """Whether an allowlist entry expiring at ``expires_at`` (None: never) applies at
    ``as_of``: no expiry, or an expiry after it. Without a time (``None``) an entry with an
    expiry never applies: nothing proves it has not expired. The database reads entries with
    the same rule (:func:`policies.selectors.in_force`; a test pins the two)."""
    if expires_at is None:
        return True
    return as_of is not None and as_of < expires_at


@dataclass(frozen=True)
class ListEntry:
    """An allowlist entry, as the engine sees it: a normalised pattern (see
    :mod:`policies.patterns`), the organisation it belongs to, the team it is for (None: the
    whole organisation), who added it, when it stops applying (None: never), and why."""

    pattern: str
    organization: str
    team: str | None = None
    added_by: str = ""
    expires_at: datetime | None = None
    reason: str = ""

    def in_force(self, as_of: datetime | None) -> bool:
        """Whether the entry applies at ``as_of`` (:func:`entry_in_force`)."""
        return entry_in_force(self.expires_at, as_of)

    def describe(self) -> str:
        """E.g. "acme's allowlist entry 'someone/*' for team platform, added by olivia,
        expires 2026-12-31: 'CI base images'"."""
        scope = f" for team {self.team}" if self.team else ""
        added = f", added by {self.added_by}" if self.added_by else ""
        return (
            f"{self.organization}'s allowlist entry '{self.pattern}'{scope}{added}, "
            f"{expiry_text(self.expires_at)}: '{self.reason}'"
        )


@dataclass(frozen=True)
class PullSnapshot:
    """Everything the engine needs about one user, read from the database in one go.

    ``entries`` may hold any organisation's entries (the engine only counts an organisation's
    own, for the user's teams, in force at ``as_of``); ``as_of`` is when the snapshot was read.
    """

    username: str
    organizations: tuple[OrgPolicy, ...] = ()
    verified_publishers: frozenset[str] = frozenset()
    entries: tuple[ListEntry, ...] = ()
    as_of: datetime | None = None


@dataclass(frozen=True)
class Decision:
    """The engine's answer: allowed by the policy or not, why, by which rule and on whose
    authority, and whether that organisation enforces it.

    ``organization`` decided (None: no organisation's policy applies); ``reason`` says why in
    words that name no organisation of the user's but that one; ``also_allowed_by`` are the
    other organisations that restrict the user and allowed the pull too, by name.
    ``enforced`` is False when the deciding organisation is in audit-only mode: a refusal is
    then recorded but not applied (:attr:`granted` is what the registry gets).
    """

    allowed: bool
    category: Category
    reference: str
    organization: str | None
    reason: str
    rule: Rule
    enforced: bool = True
    also_allowed_by: tuple[str, ...] = ()

    @property
    def explanation(self) -> str:
        """The reason as the user reads it: with the other organisations that allowed it."""
        return explanation(self.reason, self.also_allowed_by)

    @property
    def granted(self) -> bool:
        """Whether the pull goes through: allowed, or refused by audit-only organisations only."""
        return self.allowed or not self.enforced

    @property
    def outcome(self) -> Outcome:
        if self.allowed:
            return Outcome.ALLOWED
        return Outcome.BLOCKED if self.enforced else Outcome.WOULD_BLOCK

    @property
    def verdict(self) -> str:
        """The outcome in words, e.g. "⚠ Would be blocked (audit only) — pulled"."""
        return self.outcome.verdict

    def as_dict(self) -> dict:
        return {
            "allowed": self.allowed,
            "enforced": self.enforced,
            "outcome": self.outcome.value,
            "category": self.category.value,
            "reference": self.reference,
            "organization": self.organization,
            "rule": self.rule.value,
            "reason": self.explanation,
        }


def explanation(reason: str, also_allowed_by: tuple[str, ...] | list[str]) -> str:
    """A decision's reason followed by "Also allowed by acme, globex." when other organisations
    allowed the pull too (the user's own view of a decision; never an organisation's)."""
    if not also_allowed_by:
        return reason
    return f"{reason} Also allowed by {', '.join(also_allowed_by)}."


def expiry_text(expires_at: datetime | None) -> str:
    """'expires 2026-12-31' (an expiry at midnight UTC is shown as its day),
    'expires 2026-12-31 14:30 UTC', or 'no expiry'."""
    if expires_at is None:
        return "no expiry"
    moment = expires_at.astimezone(UTC)
    if moment.time() == time(0, 0):
        return f"expires {moment:%Y-%m-%d}"
    return f"expires {moment:%Y-%m-%d %H:%M} UTC"


def classify(
    reference: ImageReference, *, organization: str | None, verified_publishers: frozenset[str]
) -> Category:
    """The category of ``reference`` as seen by ``organization`` (its own namespace is
    Organization images; ``acmecorp/app`` is not ``acme``'s)."""
    if not reference.is_docker_hub:
        return Category.OTHER_REGISTRY
    namespace = reference.namespace
    if organization is not None and namespace == organization:
        return Category.ORGANIZATION
    if namespace == OFFICIAL_NAMESPACE:
        return Category.OFFICIAL
    if namespace in verified_publishers:
        return Category.VERIFIED_PUBLISHER
    return Category.COMMUNITY


def settings_allow(settings: OrgPolicy | TeamPolicy, category: Category) -> bool:
    """Whether a policy's or a team grant's settings allow a category."""
    setting = CATEGORY_SETTINGS.get(category)
    return setting is not None and getattr(settings, setting, False)


def applicable_entries(snapshot: PullSnapshot, org: OrgPolicy, path: str) -> list[ListEntry]:
    """The entries that let ``org`` allow the repository ``path`` for the snapshot's user, most
    specific first: the organisation's own, organisation-wide or for one of the user's teams
    there, in force at ``as_of``, whose pattern covers the path."""
    found = [
        entry
        for entry in snapshot.entries
        if entry.organization == org.name
        and (entry.team is None or org.has_team(entry.team))
        and entry.in_force(snapshot.as_of)
        and matches(entry.pattern, path)
    ]
    never = datetime.max.replace(tzinfo=UTC)
    return sorted(
        found,
        key=lambda e: (
            specificity(parse_pattern(e.pattern)),
            e.team is not None,
            -(e.expires_at or never).timestamp(),
            e.team or "",
            e.pattern,
        ),
    )


def as_plain_member(snapshot: PullSnapshot, organization: OrgPolicy) -> PullSnapshot:
    """The snapshot of a member of ``organization`` alone, in none of its teams with more
    rights: what the organisation's policy and its organisation-wide entries give its members
    (the owners' preview)."""
    return PullSnapshot(
        username="",
        organizations=(replace(organization, is_owner=False, teams=()),),
        verified_publishers=snapshot.verified_publishers,
        entries=tuple(
            entry
            for entry in snapshot.entries
            if entry.organization == organization.name and entry.team is None
        ),
        as_of=snapshot.as_of,
    )


def _category_rule(org: OrgPolicy, category: Category) -> tuple[Rule | None, TeamPolicy | None]:
    """Which rule lets the restricting ``org`` allow a whole category to the user (its own
    images, its policy, or the first of the user's teams there whose grant allows it, with that
    team), or ``(None, None)``: then only allowlist entries can allow images of the category."""
    if category is Category.ORGANIZATION:
        return Rule.ORGANIZATION, None
    if settings_allow(org, category):
        return Rule.CATEGORY, None
    team = next((team for team in org.teams if settings_allow(team, category)), None)
    if team is not None:
        return Rule.TEAM_GRANT, team
    return None, None


#: The categories an organisation's policy speaks of, in the order pages list them.
SUMMARY_CATEGORIES = (
    Category.ORGANIZATION,
    Category.OFFICIAL,
    Category.VERIFIED_PUBLISHER,
    Category.COMMUNITY,
)


@dataclass(frozen=True)
class CategoryAccess:
    """What one organisation lets the snapshot's user pull of one category: ``allowed`` (the
    whole category), by which ``rule`` and, for a team grant, which ``team``; ``enforced`` is
    False in audit-only mode (a refusal is then recorded, not applied). ``reason`` says it in
    words."""

    category: Category
    allowed: bool
    rule: Rule
    reason: str
    team: str | None = None
    enforced: bool = True


@dataclass(frozen=True)
class AccessSummary:
    """What one organisation lets a user pull: each category's :class:`CategoryAccess`, and
    the allowlist entries in force for the user there (which allow the repositories they cover
    whatever their category)."""

    organization: str
    categories: tuple[CategoryAccess, ...] = ()
    entries: tuple[ListEntry, ...] = ()


def access_summary(snapshot: PullSnapshot, organization: str) -> AccessSummary | None:
    """What ``organization`` lets the snapshot's user pull, category by category (the members'
    "Your access"), by the same rules as :func:`pull_decide`: its own images, its policy, the
    grants of the user's teams there and its allowlist entries in force for them (the snapshot
    must carry all of those: :func:`policies.selectors.access_snapshot`). Other organisations
    of the user may restrict them too; this is ``organization``'s part only. None when the
    user is not a member."""
    org = next((o for o in snapshot.organizations if o.name == organization), None)
    if org is None:
        return None
    if not org.restricts:
        rule = Rule.OWNER if org.is_owner else Rule.UNMANAGED
        reason = (
            f"You are in {org.name}'s owners team, which can pull any image."
            if org.is_owner
            else f"{org.name}'s Image Access Management is off: members can pull any image."
        )
        return AccessSummary(
            org.name, tuple(CategoryAccess(c, True, rule, reason) for c in SUMMARY_CATEGORIES)
        )
    entries = tuple(
        entry
        for entry in snapshot.entries
        if entry.organization == org.name
        and (entry.team is None or org.has_team(entry.team))
        and entry.in_force(snapshot.as_of)
    )
    summary = []
    for category in SUMMARY_CATEGORIES:
        rule, team = _category_rule(org, category)
        if rule is Rule.TEAM_GRANT:
            reason = f"Allowed by {org.name}'s grant to your team {team.name}."
        elif rule is Rule.ORGANIZATION:
            reason = f"{org.name}'s own images are always allowed."
        elif rule is Rule.CATEGORY:
            reason = f"Allowed by {org.name}'s policy."
        else:
            reason = f"Blocked by {org.name}'s Image Access Management" + (
                ", except the repositories the allowlist entries below cover." if entries else "."
            )
            if not org.enforces:
                reason += " Audit-only mode: such pulls go through and are recorded."
        summary.append(
            CategoryAccess(
                category=category,
                allowed=rule is not None,
                rule=rule or Rule.CATEGORY,
                reason=reason,
                team=team.name if team else None,
                enforced=org.enforces,
            )
        )
    return AccessSummary(org.name, tuple(summary), entries)


class _Verdict(NamedTuple):
    """One restricting organisation's answer. Its reason is put into words only for the verdict
    a decision reports (:meth:`reason`): a member of many organisations gets one verdict from
    each."""

    org: OrgPolicy
    allowed: bool
    category: Category
    rule: Rule
    team: TeamPolicy | None = None
    entry: ListEntry | None = None
    path: str = ""

    @property
    def organization(self) -> str:
        return self.org.name

    @property
    def enforced(self) -> bool:
        return self.org.enforces

    def decision(self, reference: str, also_allowed_by: tuple[str, ...] = ()) -> Decision:
        """The decision this verdict makes about ``reference`` (as shown)."""
        return Decision(
            allowed=self.allowed,
            category=self.category,
            reference=reference,
            organization=self.organization,
            reason=self.reason(),
            rule=self.rule,
            enforced=self.enforced,
            also_allowed_by=also_allowed_by,
        )

    def reason(self) -> str:
        org, label = self.org.name, self.category.label
        if self.rule is Rule.TEAM_GRANT:
            return f"{label} are allowed by {org}'s grant to team {self.team.name}."
        if self.rule is Rule.ALLOWLIST:
            return (
                f"{label} are blocked by {org}'s Image Access Management, "
                f"but {self.path} is allowed by {self.entry.describe()}."
            )
        if self.allowed:
            return f"{label} are allowed by {org}'s Image Access Management."
        reason = f"{label} are blocked by {org}'s Image Access Management."
        if not self.org.enforces:
            reason += (
                f" {org} is in audit-only mode: the pull is allowed and recorded as would-block."
            )
        return reason


def _judge(
    snapshot: PullSnapshot, org: OrgPolicy, reference: ImageReference, category: Category
) -> _Verdict:
    """What the restricting organisation ``org`` says about a Docker Hub image of ``category``
    (as seen by no organisation: :func:`classify` without one; here its own namespace becomes
    Organization images)."""
    if category is not Category.OTHER_REGISTRY and reference.namespace == org.name:
        category = Category.ORGANIZATION
    rule, team = _category_rule(org, category)
    if rule is not None:
        return _Verdict(org, True, category, rule, team)
    entries = applicable_entries(snapshot, org, reference.path) if snapshot.entries else ()
    if entries:
        return _Verdict(org, True, category, Rule.ALLOWLIST, entry=entries[0], path=reference.path)
    return _Verdict(org, False, category, Rule.CATEGORY)


def pull_decide(snapshot: PullSnapshot, reference: ImageReference) -> Decision:
    """Decide whether the snapshot's user may pull ``reference``.

    A refusal names the first refusing organisation by name that enforces its policy, or, when
    every refusing organisation is in audit-only mode, the first of those (the refusal is then
    not enforced). When several organisations restrict the user and all allow the image, the
    decision names the one whose rule is the most exceptional (an allowlist entry, then a team
    grant, then the policy's category, then the organisation's own images), and the others in
    ``also_allowed_by``.
    """
    shown = reference.normalized
    if not reference.is_docker_hub:
        return Decision(
            allowed=True,
            category=Category.OTHER_REGISTRY,
            reference=shown,
            organization=None,
            reason=(
                f"{reference.domain} is not Docker Hub: Image Access Management covers "
                "Docker Hub images only."
            ),
            rule=Rule.OTHER_REGISTRY,
        )

    restricting = sorted(
        (org for org in snapshot.organizations if org.restricts), key=lambda org: org.name
    )
    if not restricting:
        return _unrestricted(snapshot, reference, shown)
    category = classify(
        reference, organization=None, verified_publishers=snapshot.verified_publishers
    )
    verdicts = [_judge(snapshot, org, reference, category) for org in restricting]
    refusals = [verdict for verdict in verdicts if not verdict.allowed]
    if refusals:
        return next((v for v in refusals if v.enforced), refusals[0]).decision(shown)
    primary = max(verdicts, key=lambda v: _RULE_WEIGHT[v.rule])  # first among equals
    return primary.decision(
        shown, also_allowed_by=tuple(v.organization for v in verdicts if v is not primary)
    )


def _unrestricted(snapshot: PullSnapshot, reference: ImageReference, shown: str) -> Decision:
    """Allowed because no policy applies: say which of the reasons holds."""
    own = next((o for o in snapshot.organizations if o.name == reference.namespace), None)
    category = classify(
        reference,
        organization=own.name if own else None,
        verified_publishers=snapshot.verified_publishers,
    )
    owned_enabled = sorted(o.name for o in snapshot.organizations if o.enabled and o.is_owner)
    if not snapshot.organizations:
        reason = "You are not a member of any organization, so no Image Access Management applies."
        decider, rule = None, Rule.NO_ORGANIZATION
    elif owned_enabled:
        decider, rule = owned_enabled[0], Rule.OWNER
        reason = (
            f"You are in {decider}'s owners team, which has access to all images; "
            "no other organization of yours restricts pulls."
        )
    else:
        # No names: the decision is filed under each of them, and each one's owners read it.
        decider, rule = None, Rule.UNMANAGED
        reason = (
            "Image Access Management is off in every organization you belong to: "
            "members can pull any image."
        )
    return Decision(
        allowed=True,
        category=category,
        reference=shown,
        organization=decider,
        reason=reason,
        rule=rule,
    )
