"""The decision engine's rules, as tables and properties, with no database."""

import dataclasses
import functools
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.engine import (
    CATEGORY_SETTINGS,
    Category,
    ListEntry,
    OrgPolicy,
    Outcome,
    PullSnapshot,
    Rule,
    TeamPolicy,
    as_plain_member,
    classify,
    expiry_text,
    pull_decide,
)
from policies.models import GRANT_FIELDS, POLICY_FIELDS
from policies.patterns import InvalidPattern, candidates, matches, parse_pattern
from policies.references import parse_reference
from tests.strategies import components, well_formed

PUBLISHERS = frozenset({"bitnami", "grafana"})
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 31, tzinfo=UTC)
EARLIER = NOW - timedelta(seconds=1)


def team(name, *, official=False, publishers=False, community=False):
    return TeamPolicy(
        name=name,
        allow_official_images=official,
        allow_verified_publishers=publishers,
        allow_community_images=community,
    )


def org(name, *, enabled=True, official=False, publishers=False, owner=False, teams=("devs",)):
    return OrgPolicy(
        name=name,
        is_owner=owner,
        enabled=enabled,
        allow_official_images=official,
        allow_verified_publishers=publishers,
        teams=tuple(t if isinstance(t, TeamPolicy) else team(t) for t in teams),
    )


def entry(pattern, org="acme", *, team=None, expires=None, by="olivia", reason="CI base images"):
    return ListEntry(
        pattern=pattern,
        organization=org,
        team=team,
        added_by=by,
        expires_at=expires,
        reason=reason,
    )


acme = functools.partial(org, "acme")
globex = functools.partial(org, "globex")


def decide(orgs, image, entries=(), as_of=NOW):
    snapshot = PullSnapshot(
        username="u",
        organizations=tuple(orgs),
        verified_publishers=PUBLISHERS,
        entries=tuple(entries),
        as_of=as_of,
    )
    return pull_decide(snapshot, parse_reference(image))


@pytest.mark.parametrize(
    ("image", "organization", "expected"),
    [
        ("ubuntu", "acme", Category.OFFICIAL),
        ("library/ubuntu:22.04", "acme", Category.OFFICIAL),
        ("docker.io/library/alpine", None, Category.OFFICIAL),
        ("bitnami/redis", "acme", Category.VERIFIED_PUBLISHER),
        ("grafana/grafana:11.0.0", "acme", Category.VERIFIED_PUBLISHER),
        ("acme/app", "acme", Category.ORGANIZATION),
        ("acme/team/app", "acme", Category.ORGANIZATION),
        ("acmecorp/app", "acme", Category.COMMUNITY),
        ("globex/app", "acme", Category.COMMUNITY),
        ("acme/app", None, Category.COMMUNITY),
        ("someone/thing", "acme", Category.COMMUNITY),
        ("ghcr.io/acme/app", "acme", Category.OTHER_REGISTRY),
        ("localhost:5000/x", "acme", Category.OTHER_REGISTRY),
        ("index.docker.io/acme/app", "acme", Category.ORGANIZATION),
    ],
)
def test_classify(image, organization, expected):
    category = classify(
        parse_reference(image), organization=organization, verified_publishers=PUBLISHERS
    )
    assert category is expected


OWN, CAT, GRANT, LISTED = Rule.ORGANIZATION, Rule.CATEGORY, Rule.TEAM_GRANT, Rule.ALLOWLIST
OFFICIAL, VERIFIED, COMMUNITY = Category.OFFICIAL, Category.VERIFIED_PUBLISHER, Category.COMMUNITY

ENGINE_TABLE = [
    # (orgs, image, allowed, category, deciding org, rule, words in the reason)
    # A user in no organisation pulls anything.
    ((), "someone/thing", True, COMMUNITY, None, Rule.NO_ORGANIZATION, "not a member of any"),
    # Management off: members pull anything.
    ([acme(enabled=False)], "someone/thing", True, COMMUNITY, None, Rule.UNMANAGED, "off in every"),
    ([acme(enabled=False)], "ubuntu", True, OFFICIAL, None, Rule.UNMANAGED, "off in every"),
    ([acme(enabled=False)], "bitnami/redis", True, VERIFIED, None, Rule.UNMANAGED, "off"),
    # Management on, everything restricted: only the org's own images.
    ([acme()], "acme/app", True, Category.ORGANIZATION, "acme", OWN, "allowed by acme"),
    ([acme()], "acme/team/app:1.0", True, Category.ORGANIZATION, "acme", OWN, "allowed by acme"),
    ([acme()], "ubuntu", False, OFFICIAL, "acme", CAT, "Docker Official Images are blocked"),
    ([acme()], "bitnami/redis", False, VERIFIED, "acme", CAT, "blocked by acme"),
    ([acme()], "someone/thing", False, COMMUNITY, "acme", CAT, "Community images are blocked"),
    ([acme()], "acmecorp/app", False, COMMUNITY, "acme", CAT, "blocked by acme"),
    # Each category allowed on its own.
    ([acme(official=True)], "ubuntu", True, OFFICIAL, "acme", CAT, "allowed by acme"),
    ([acme(official=True)], "bitnami/redis", False, VERIFIED, "acme", CAT, "blocked"),
    ([acme(publishers=True)], "bitnami/redis", True, VERIFIED, "acme", CAT, "allowed"),
    ([acme(publishers=True)], "ubuntu", False, OFFICIAL, "acme", CAT, "blocked"),
    (
        [acme(official=True, publishers=True)],
        "someone/thing",
        False,
        COMMUNITY,
        "acme",
        CAT,
        "blocked",
    ),
    # Other registries are outside Image Access Management.
    (
        [acme()],
        "ghcr.io/someone/thing",
        True,
        Category.OTHER_REGISTRY,
        None,
        Rule.OTHER_REGISTRY,
        "not Docker Hub",
    ),
    # Owners bypass their own organisation's restrictions.
    ([acme(owner=True)], "someone/thing", True, COMMUNITY, "acme", Rule.OWNER, "owners team"),
    # ...but only their own: a member of globex is still bound by globex.
    ([acme(owner=True), globex()], "someone/thing", False, COMMUNITY, "globex", CAT, "by globex"),
    ([acme(owner=True), globex()], "acme/app", False, COMMUNITY, "globex", CAT, "by globex"),
    (
        [acme(owner=True), globex(enabled=False)],
        "someone/thing",
        True,
        COMMUNITY,
        "acme",
        Rule.OWNER,
        "owners team",
    ),
    # Several organisations: every applicable policy must allow the image.
    (
        [acme(official=True), globex(official=True)],
        "ubuntu",
        True,
        OFFICIAL,
        "acme",
        CAT,
        "allowed by acme's Image Access Management.",
    ),
    ([acme(official=True), globex()], "ubuntu", False, OFFICIAL, "globex", CAT, "by globex"),
    ([acme(), globex()], "acme/app", False, COMMUNITY, "globex", CAT, "blocked by globex"),
    (
        [acme(), globex(enabled=False)],
        "acme/app",
        True,
        Category.ORGANIZATION,
        "acme",
        OWN,
        "allowed by acme",
    ),
    ([acme(enabled=False), globex()], "acme/app", False, COMMUNITY, "globex", CAT, "blocked"),
    # Team grants: the user's teams add categories in their organisation.
    (
        [acme(teams=[team("platform", community=True)])],
        "someone/thing",
        True,
        COMMUNITY,
        "acme",
        GRANT,
        "Community images are allowed by acme's grant to team platform.",
    ),
    (
        [acme(teams=["devs", team("platform", official=True)])],
        "ubuntu",
        True,
        OFFICIAL,
        "acme",
        GRANT,
        "grant to team platform",
    ),
    (
        [acme(teams=[team("platform", official=True)])],
        "someone/thing",
        False,
        COMMUNITY,
        "acme",
        CAT,
        "blocked by acme",
    ),
    (
        [acme(teams=[team("platform", community=True)])],
        "bitnami/redis",
        False,
        VERIFIED,
        "acme",
        CAT,
        "blocked by acme",
    ),
    # A grant in acme does nothing for globex's restriction.
    (
        [acme(teams=[team("platform", community=True)]), globex()],
        "someone/thing",
        False,
        COMMUNITY,
        "globex",
        CAT,
        "blocked by globex",
    ),
    # The policy's own category wins over a grant (the more general rule is named).
    (
        [acme(official=True, teams=[team("platform", official=True)])],
        "ubuntu",
        True,
        OFFICIAL,
        "acme",
        CAT,
        "allowed by acme's Image Access Management",
    ),
    # The most exceptional rule among several organisations is named.
    (
        [acme(official=True), globex(teams=[team("ops", official=True)])],
        "ubuntu",
        True,
        OFFICIAL,
        "globex",
        GRANT,
        "allowed by globex's grant to team ops.",
    ),
]


@pytest.mark.parametrize(
    ("orgs", "image", "allowed", "category", "decider", "rule", "reason"), ENGINE_TABLE
)
def test_pull_decide(orgs, image, allowed, category, decider, rule, reason):
    decision = decide(orgs, image)
    assert decision.allowed is allowed
    assert decision.category is category
    assert decision.organization == decider
    assert decision.rule is rule
    assert reason in decision.reason
    assert decision.reference == parse_reference(image).normalized


initech = functools.partial(org, "initech")

ALSO_ALLOWED_TABLE = [
    # (orgs, image, decider, also_allowed_by, what the user reads at the end)
    ([acme(official=True)], "ubuntu", "acme", (), "Image Access Management."),
    (
        [acme(official=True), globex(official=True)],
        "ubuntu",
        "acme",
        ("globex",),
        "Image Access Management. Also allowed by globex.",
    ),
    (
        [acme(official=True), globex(teams=[team("ops", official=True)])],
        "ubuntu",
        "globex",
        ("acme",),
        "grant to team ops. Also allowed by acme.",
    ),
    (
        [acme(official=True), globex(official=True), initech(official=True)],
        "ubuntu",
        "acme",
        ("globex", "initech"),
        "Also allowed by globex, initech.",
    ),
    # A refusal names the refusing organisation only, not those that would have allowed it.
    ([acme(official=True), globex()], "ubuntu", "globex", (), "Image Access Management."),
    # An owner's or an unmanaged organisation's allowance is no restriction's: not listed.
    ([acme(official=True), globex(owner=True)], "ubuntu", "acme", (), "Image Access Management."),
    ([acme(enabled=False), globex(enabled=False)], "ubuntu", None, (), "any image."),
]


@pytest.mark.parametrize(("orgs", "image", "decider", "also", "ending"), ALSO_ALLOWED_TABLE)
def test_the_organisations_that_decided_are_data(orgs, image, decider, also, ending):
    """The decider is ``organization``, the others that allowed are ``also_allowed_by``; the
    reason names no organisation of the user's but the decider (an organisation's owners may
    read it), and only the user's explanation lists the others."""
    decision = decide(orgs, image)
    assert decision.organization == decider
    assert decision.also_allowed_by == also
    others = {o.name for o in orgs} - {decider}
    assert not any(name in decision.reason for name in others)
    assert decision.explanation.endswith(ending)
    assert decision.as_dict()["reason"] == decision.explanation


ENTRY_TABLE = [
    # (orgs, entries, image, allowed, deciding org, rule)
    ([acme()], [entry("someone/thing")], "someone/thing:1.0", True, "acme", LISTED),
    ([acme()], [entry("someone/*")], "someone/thing", True, "acme", LISTED),
    ([acme()], [entry("someone/*")], "someone/team/thing", False, "acme", CAT),
    ([acme()], [entry("someone/**")], "someone/team/thing", True, "acme", LISTED),
    ([acme()], [entry("someone/thing")], "someone/other", False, "acme", CAT),
    ([acme()], [entry("library/ubuntu")], "ubuntu:22.04", True, "acme", LISTED),
    ([acme()], [entry("bitnami/*")], "bitnami/redis", True, "acme", LISTED),
    # Another organisation's entry never widens acme's restriction...
    ([acme()], [entry("someone/thing", "globex")], "someone/thing", False, "acme", CAT),
    # ...even one the user would be allowed by there.
    ([acme(), globex()], [entry("someone/*", "globex")], "someone/thing", False, "acme", CAT),
    (
        [acme(), globex()],
        [entry("someone/*", "globex"), entry("someone/*")],
        "someone/thing",
        True,
        "acme",
        LISTED,
    ),
    # Team entries apply to that team's members only.
    (
        [acme(teams=["platform"])],
        [entry("someone/*", team="platform")],
        "someone/x",
        True,
        "acme",
        LISTED,
    ),
    (
        [acme(teams=["devs"])],
        [entry("someone/*", team="platform")],
        "someone/x",
        False,
        "acme",
        CAT,
    ),
    # Expired entries never apply; an entry applies until its expiry, not at it.
    ([acme()], [entry("someone/*", expires=LATER)], "someone/x", True, "acme", LISTED),
    ([acme()], [entry("someone/*", expires=EARLIER)], "someone/x", False, "acme", CAT),
    ([acme()], [entry("someone/*", expires=NOW)], "someone/x", False, "acme", CAT),
    # Owners are not restricted by their own org: its entries don't matter.
    ([acme(owner=True)], [], "someone/x", True, "acme", Rule.OWNER),
    # Management off: entries don't matter either.
    ([acme(enabled=False)], [], "someone/x", True, None, Rule.UNMANAGED),
]


@pytest.mark.parametrize(("orgs", "entries", "image", "allowed", "decider", "rule"), ENTRY_TABLE)
def test_allowlist_entries(orgs, entries, image, allowed, decider, rule):
    decision = decide(orgs, image, entries)
    assert (decision.allowed, decision.organization, decision.rule) == (allowed, decider, rule)


def test_the_reason_names_the_entry():
    decision = decide([acme()], "someone/tool", [entry("someone/*", expires=LATER)])
    assert decision.reason == (
        "Community images are blocked by acme's Image Access Management, but someone/tool is "
        "allowed by acme's allowlist entry 'someone/*', added by olivia, expires 2026-12-31: "
        "'CI base images'."
    )
    decision = decide(
        [acme(teams=["platform"])],
        "someone/tool",
        [entry("someone/tool", team="platform", reason="build", by="gina")],
    )
    assert (
        "acme's allowlist entry 'someone/tool' for team platform, added by gina, no expiry: "
        "'build'."
    ) in decision.reason


def test_the_most_specific_entry_is_named():
    entries = [
        entry("someone/**", reason="any depth"),
        entry("someone/team/*", reason="one level"),
        entry("someone/team/tool", reason="exact, team", team="devs"),
        entry("someone/team/tool", reason="exact"),
    ]
    decision = decide([acme()], "someone/team/tool", entries)
    assert "'exact'" in decision.reason
    decision = decide([acme()], "someone/team/other", entries)
    assert "'one level'" in decision.reason
    decision = decide([acme()], "someone/other", entries)
    assert "'any depth'" in decision.reason


def test_without_a_time_entries_with_an_expiry_never_apply():
    """A snapshot that does not say when it was read cannot prove an entry is in force."""
    assert not decide(
        [acme()], "someone/x", [entry("someone/*", expires=LATER)], as_of=None
    ).allowed
    assert decide([acme()], "someone/x", [entry("someone/*")], as_of=None).allowed


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (None, "no expiry"),
        (LATER, "expires 2026-12-31"),
        (datetime(2026, 12, 31, 14, 30, tzinfo=UTC), "expires 2026-12-31 14:30 UTC"),
        (datetime(2027, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=1))), "expires 2027-01-01"),
    ],
)
def test_expiry_text(moment, text):
    assert expiry_text(moment) == text


def test_decision_as_dict_is_the_command_contract():
    decision = decide([acme()], "someone/thing")
    assert decision.as_dict() == {
        "allowed": False,
        "enforced": True,
        "outcome": "blocked",
        "category": "community",
        "reference": "docker.io/someone/thing:latest",
        "organization": "acme",
        "rule": "category",
        "reason": "Community images are blocked by acme's Image Access Management.",
    }


def test_unverified_publisher_is_community():
    snapshot = PullSnapshot(username="u", organizations=(acme(publishers=True),))
    decision = pull_decide(snapshot, parse_reference("bitnami/redis"))
    assert (decision.allowed, decision.category) == (False, Category.COMMUNITY)


ORG_NAMES = ["acme", "globex", "bitnami", "library"]
TEAM_NAMES = ["devs", "platform", "owners"]
team_policies = st.builds(
    TeamPolicy,
    name=st.sampled_from(TEAM_NAMES),
    allow_official_images=st.booleans(),
    allow_verified_publishers=st.booleans(),
    allow_community_images=st.booleans(),
)
# Most organisations restrict the user (management on, not an owner): that is where the rules
# that matter apply.
mostly_true, mostly_false = (
    st.sampled_from([True, True, False]),
    st.sampled_from([False, False, True]),
)
org_policies = st.builds(
    OrgPolicy,
    name=st.sampled_from(ORG_NAMES),
    is_owner=mostly_false,
    enabled=mostly_true,
    allow_official_images=st.booleans(),
    allow_verified_publishers=st.booleans(),
    teams=st.lists(team_policies, max_size=2, unique_by=lambda t: t.name).map(tuple),
)
org_lists = st.lists(org_policies, min_size=1, max_size=3, unique_by=lambda o: o.name)
# Valid references, mostly on Docker Hub, whose namespace is often one that matters to the
# rule: an organisation's, a verified publisher's, the official one, or another.
references = well_formed(
    domains=st.sampled_from([None, None, None, "docker.io", "index.docker.io", "ghcr.io"]),
    first_components=st.sampled_from(["acme", "globex", "bitnami", "library", "someone"])
    | components,
)


def valid_pattern(text):
    try:
        parse_pattern(text)
    except InvalidPattern:
        return False
    return True


@st.composite
def entry_lists(draw, path, orgs=()):
    """Entries of any organisation (often one of ``orgs``, the user's, or not), for any team,
    expired or not, whose patterns often cover ``path``."""
    orgs = [o.name for o in orgs] or ORG_NAMES
    # Stored patterns are valid ones (a path such as '0.0/x' on docker.io has no pattern).
    patterns = st.sampled_from([c for c in candidates(path) if valid_pattern(c)] or ["x/y"])
    patterns |= st.sampled_from(["someone/*", "acme/**", "library/ubuntu", "other/thing"])
    entry = st.builds(
        ListEntry,
        pattern=patterns,
        organization=st.sampled_from([*ORG_NAMES, "initech"]) | st.sampled_from(orgs),
        team=st.sampled_from([None, None, *TEAM_NAMES]),
        added_by=st.just("olivia"),
        expires_at=st.none() | st.sampled_from([EARLIER, NOW, LATER]),
        reason=st.just("why"),
    )
    return tuple(draw(st.lists(entry, min_size=1, max_size=4)))


def snapshot_of(orgs, entries=(), as_of=NOW):
    return PullSnapshot(
        username="u",
        organizations=tuple(orgs),
        verified_publishers=PUBLISHERS,
        entries=tuple(entries),
        as_of=as_of,
    )


def org_allows(o, reference, entries, as_of=NOW):
    """The rule for one restricting organisation, restated independently."""
    namespace = reference.namespace
    settings = [o, *o.teams]
    if namespace == o.name:
        return True
    if namespace == "library" and any(s.allow_official_images for s in settings):
        return True
    if namespace in PUBLISHERS:
        if any(s.allow_verified_publishers for s in settings):
            return True
    elif namespace != "library" and any(t.allow_community_images for t in o.teams):
        return True
    teams = {t.name for t in o.teams}
    return any(
        e.organization == o.name
        and (e.team is None or e.team in teams)
        and (e.expires_at is None or (as_of is not None and as_of < e.expires_at))
        and matches(e.pattern, reference.path)
        for e in entries
    )


def expected_refusers(orgs, reference, entries=()):
    """The applicable organisations that refuse the image."""
    if not reference.is_docker_hub:
        return []
    return [
        o.name
        for o in orgs
        if o.enabled and not o.is_owner and not org_allows(o, reference, entries)
    ]


@given(data=st.data(), case=references, orgs=org_lists)
def test_blocked_exactly_when_some_applicable_policy_refuses(data, case, orgs):
    reference = parse_reference(case[0])
    entries = data.draw(entry_lists(reference.path, orgs))
    decision = pull_decide(snapshot_of(orgs, entries), reference)
    refusing = expected_refusers(orgs, reference, entries)
    assert decision.allowed is (not refusing)
    assert decision.reason
    assert decision.reference == reference.normalized
    if refusing:
        assert decision.organization in refusing
        assert decision.organization in decision.reason
    if decision.rule is Rule.ALLOWLIST:
        assert f"{decision.organization}'s allowlist entry '" in decision.reason


@given(data=st.data(), case=references, orgs=org_lists)
def test_an_entry_of_one_organisation_never_widens_another_ones_restriction(data, case, orgs):
    """Each restricting organisation decides with its own entries only (the same entries,
    given to any other organisation, change nothing for it), and the user pulls exactly when
    every one of them allows."""
    reference = parse_reference(case[0])
    entries = data.draw(entry_lists(reference.path, orgs))
    verdicts = []
    for o in orgs:
        if not o.restricts:
            continue
        own = [e for e in entries if e.organization == o.name]
        alone = pull_decide(snapshot_of([o], own), reference)
        for other in sorted({*ORG_NAMES, "initech"} - {o.name}):
            foreign = [dataclasses.replace(e, organization=other) for e in entries]
            assert pull_decide(snapshot_of([o], own + foreign), reference) == alone
        verdicts.append(alone.allowed)
    assert pull_decide(snapshot_of(orgs, entries), reference).allowed is all(verdicts)


@given(data=st.data(), case=references, orgs=org_lists)
def test_expired_entries_never_apply(data, case, orgs):
    reference = parse_reference(case[0])
    entries = data.draw(entry_lists(reference.path, orgs))
    in_force = [e for e in entries if e.expires_at is None or e.expires_at > NOW]
    decision = pull_decide(snapshot_of(orgs, in_force), reference)
    assert pull_decide(snapshot_of(orgs, entries), reference) == decision
    for expiry in (EARLIER, NOW):
        expired = [dataclasses.replace(e, expires_at=expiry) for e in entries]
        assert pull_decide(snapshot_of(orgs, in_force + expired), reference) == decision


@given(data=st.data(), case=references, orgs=org_lists)
def test_team_entries_and_grants_apply_only_to_the_teams_members(data, case, orgs):
    reference = parse_reference(case[0])
    entries = data.draw(entry_lists(reference.path, orgs))
    teams_of = {o.name: {t.name for t in o.teams} for o in orgs}
    mine = [e for e in entries if e.team is None or e.team in teams_of.get(e.organization, ())]
    decision = pull_decide(snapshot_of(orgs, mine), reference)
    assert pull_decide(snapshot_of(orgs, entries), reference) == decision
    others = [dataclasses.replace(e, team="not-my-team") for e in entries]
    assert pull_decide(snapshot_of(orgs, mine + others), reference) == decision
    # Leaving a team (and with it its grant) never widens what the user may pull.
    for index, o in enumerate(orgs):
        for t in o.teams:
            fewer = dataclasses.replace(o, teams=tuple(x for x in o.teams if x != t))
            without = [*orgs[:index], fewer, *orgs[index + 1 :]]
            if pull_decide(snapshot_of(without, entries), reference).allowed:
                assert decision.allowed


@given(data=st.data(), case=references, orgs=org_lists, mine=org_policies, other=org_policies)
def test_owners_bypass_only_their_own_organisation(data, case, orgs, mine, other):
    """Whatever an organisation the user owns says (policy, grants, entries), it changes
    nothing, and it never is the one that refuses."""
    reference = parse_reference(case[0])
    owned = dataclasses.replace(mine, name="owned", is_owner=True)
    orgs = [owned, *orgs]
    entries = data.draw(entry_lists(reference.path, orgs))
    decision = pull_decide(snapshot_of(orgs, entries), reference)
    assert decision.allowed or decision.organization != "owned"
    varied = dataclasses.replace(other, name="owned", is_owner=True)
    assert pull_decide(snapshot_of([varied, *orgs[1:]], entries), reference).allowed is (
        decision.allowed
    )
    # The same organisation, not owned, restricts like any other.
    assert pull_decide(snapshot_of([*orgs[1:]], entries), reference).allowed >= decision.allowed


@given(
    data=st.data(),
    case=references,
    orgs=st.lists(org_policies, min_size=1, max_size=3, unique_by=lambda o: o.name),
)
def test_owners_preview_is_the_organisations_policy_and_its_org_wide_entries(data, case, orgs):
    reference = parse_reference(case[0])
    entries = data.draw(entry_lists(reference.path, orgs))
    this = orgs[0]
    preview = pull_decide(as_plain_member(snapshot_of(orgs, entries), this), reference)
    plain = dataclasses.replace(this, is_owner=False, teams=())
    org_wide = [e for e in entries if e.team is None]
    assert preview.allowed is (not expected_refusers([plain], reference, org_wide))


@given(data=st.data(), case=references, orgs=org_lists)
def test_a_reason_names_no_organisation_of_the_users_but_the_deciding_one(data, case, orgs):
    """What an organisation's owners may read of a decision filed under it (its reason) never
    says which other organisations the member belongs to; the others that allowed the pull are
    exactly the other restricting organisations, as data."""
    reference = parse_reference(case[0])
    entries = data.draw(entry_lists(reference.path, orgs))
    decision = pull_decide(snapshot_of(orgs, entries), reference)
    words = decision.reason.replace(reference.path, " ")
    for pattern in {e.pattern for e in entries}:  # an entry's pattern is an image's name
        words = words.replace(f"'{pattern}'", " ")
    named = {o.name for o in orgs if re.search(rf"\b{o.name}\b", words)}
    assert named <= {decision.organization}
    restricting = {o.name for o in orgs if o.enabled and not o.is_owner}
    if decision.allowed and decision.organization in restricting:
        assert set(decision.also_allowed_by) == restricting - {decision.organization}
    else:
        assert decision.also_allowed_by == ()


def test_engine_policy_has_every_setting_of_the_model():
    """A setting added to AccessPolicy must reach the engine (the snapshot passes them all)."""
    assert set(POLICY_FIELDS) <= {field.name for field in dataclasses.fields(OrgPolicy)}


def test_engine_team_policy_has_every_setting_of_the_grant_model():
    """A grant setting added to TeamGrant must reach the engine, and allow a category."""
    assert set(GRANT_FIELDS) <= {field.name for field in dataclasses.fields(TeamPolicy)}
    assert set(GRANT_FIELDS) <= set(CATEGORY_SETTINGS.values())


@pytest.mark.parametrize(
    ("audit_only", "reference", "verdict"),
    [
        (False, "library/ubuntu", "✔ Allowed"),
        (False, "someone/tool", "✖ Blocked"),
        (True, "someone/tool", "⚠ Would be blocked (audit only) — pulled"),
    ],
)
def test_the_verdict_says_what_became_of_the_pull(audit_only, reference, verdict):
    """Audit-only mode never reads "Blocked" above a pull that went through."""
    acme = OrgPolicy(
        name="acme", is_owner=False, enabled=True, audit_only=audit_only, allow_official_images=True
    )
    decision = pull_decide(
        PullSnapshot(username="mike", organizations=(acme,)), parse_reference(reference)
    )
    assert decision.verdict == verdict == decision.outcome.verdict
    assert ("Blocked" in decision.verdict) is (decision.outcome is Outcome.BLOCKED)
