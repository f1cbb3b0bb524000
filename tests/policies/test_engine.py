"""The decision engine's rules, as tables, with no database."""

import dataclasses
import functools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.engine import (
    Category,
    OrgPolicy,
    PullSnapshot,
    as_plain_member,
    classify,
    pull_decide,
)
from policies.models import POLICY_FIELDS
from policies.references import parse_reference
from tests.strategies import components, well_formed

PUBLISHERS = frozenset({"bitnami", "grafana"})


def org(name, *, enabled=True, official=False, publishers=False, owner=False):
    return OrgPolicy(
        name=name,
        is_owner=owner,
        enabled=enabled,
        allow_official_images=official,
        allow_verified_publishers=publishers,
    )


acme = functools.partial(org, "acme")
globex = functools.partial(org, "globex")


def decide(orgs, image):
    snapshot = PullSnapshot(username="u", organizations=tuple(orgs), verified_publishers=PUBLISHERS)
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


ENGINE_TABLE = [
    # (orgs, image, allowed, category, deciding org, words in the reason)
    # A user in no organisation pulls anything.
    ((), "someone/thing", True, Category.COMMUNITY, None, "not a member of any organization"),
    # Management off: members pull anything.
    ([acme(enabled=False)], "someone/thing", True, Category.COMMUNITY, None, "off for acme"),
    ([acme(enabled=False)], "ubuntu", True, Category.OFFICIAL, None, "off for acme"),
    ([acme(enabled=False)], "bitnami/redis", True, Category.VERIFIED_PUBLISHER, None, "off"),
    # Management on, everything restricted: only the org's own images.
    ([acme()], "acme/app", True, Category.ORGANIZATION, "acme", "allowed by acme"),
    ([acme()], "acme/team/app:1.0", True, Category.ORGANIZATION, "acme", "allowed by acme"),
    ([acme()], "ubuntu", False, Category.OFFICIAL, "acme", "Docker Official Images are blocked"),
    ([acme()], "bitnami/redis", False, Category.VERIFIED_PUBLISHER, "acme", "blocked by acme"),
    ([acme()], "someone/thing", False, Category.COMMUNITY, "acme", "Community images are blocked"),
    ([acme()], "acmecorp/app", False, Category.COMMUNITY, "acme", "blocked by acme"),
    # Each category allowed on its own.
    ([acme(official=True)], "ubuntu", True, Category.OFFICIAL, "acme", "allowed by acme"),
    ([acme(official=True)], "bitnami/redis", False, Category.VERIFIED_PUBLISHER, "acme", "blocked"),
    (
        [acme(publishers=True)],
        "bitnami/redis",
        True,
        Category.VERIFIED_PUBLISHER,
        "acme",
        "allowed",
    ),
    ([acme(publishers=True)], "ubuntu", False, Category.OFFICIAL, "acme", "blocked"),
    (
        [acme(official=True, publishers=True)],
        "someone/thing",
        False,
        Category.COMMUNITY,
        "acme",
        "blocked",
    ),
    # Other registries are outside Image Access Management.
    ([acme()], "ghcr.io/someone/thing", True, Category.OTHER_REGISTRY, None, "not Docker Hub"),
    # Owners bypass their own organisation's restrictions.
    ([acme(owner=True)], "someone/thing", True, Category.COMMUNITY, "acme", "owners team"),
    # ...but only their own: a member of globex is still bound by globex.
    (
        [acme(owner=True), globex()],
        "someone/thing",
        False,
        Category.COMMUNITY,
        "globex",
        "blocked by globex",
    ),
    (
        [acme(owner=True), globex()],
        "acme/app",
        False,
        Category.COMMUNITY,
        "globex",
        "blocked by globex",
    ),
    (
        [acme(owner=True), globex(enabled=False)],
        "someone/thing",
        True,
        Category.COMMUNITY,
        "acme",
        "owners team",
    ),
    # Several organisations: every applicable policy must allow the image.
    (
        [acme(official=True), globex(official=True)],
        "ubuntu",
        True,
        Category.OFFICIAL,
        "acme",
        "and by globex",
    ),
    (
        [acme(official=True), globex()],
        "ubuntu",
        False,
        Category.OFFICIAL,
        "globex",
        "blocked by globex",
    ),
    ([acme(), globex()], "acme/app", False, Category.COMMUNITY, "globex", "blocked by globex"),
    (
        [acme(), globex(enabled=False)],
        "acme/app",
        True,
        Category.ORGANIZATION,
        "acme",
        "allowed by acme",
    ),
    ([acme(enabled=False), globex()], "acme/app", False, Category.COMMUNITY, "globex", "blocked"),
]


@pytest.mark.parametrize(
    ("orgs", "image", "allowed", "category", "decider", "reason"), ENGINE_TABLE
)
def test_pull_decide(orgs, image, allowed, category, decider, reason):
    decision = decide(orgs, image)
    assert decision.allowed is allowed
    assert decision.category is category
    assert decision.organization == decider
    assert reason in decision.reason
    assert decision.reference == parse_reference(image).normalized


def test_decision_as_dict_is_the_command_contract():
    decision = decide([acme()], "someone/thing")
    assert decision.as_dict() == {
        "allowed": False,
        "category": "community",
        "reference": "docker.io/someone/thing:latest",
        "organization": "acme",
        "reason": "Community images are blocked by acme's Image Access Management.",
    }


def test_unverified_publisher_is_community():
    snapshot = PullSnapshot(username="u", organizations=(acme(publishers=True),))
    decision = pull_decide(snapshot, parse_reference("bitnami/redis"))
    assert (decision.allowed, decision.category) == (False, Category.COMMUNITY)


org_policies = st.builds(
    OrgPolicy,
    name=st.sampled_from(["acme", "globex", "bitnami", "library"]),
    is_owner=st.booleans(),
    enabled=st.booleans(),
    allow_official_images=st.booleans(),
    allow_verified_publishers=st.booleans(),
)
# Valid references whose namespace is often one that matters to the rule: an organisation's,
# a verified publisher's, the official one, or another.
references = well_formed(
    first_components=st.sampled_from(["acme", "globex", "bitnami", "library", "someone"])
    | components
)


def expected_refusers(orgs, reference):
    """The rule restated independently: the applicable organisations that refuse the image."""
    if not reference.is_docker_hub:
        return []
    namespace = reference.namespace
    return [
        o.name
        for o in orgs
        if o.enabled
        and not o.is_owner
        and not (
            namespace == o.name
            or (namespace == "library" and o.allow_official_images)
            or (namespace in PUBLISHERS and o.allow_verified_publishers)
        )
    ]


@given(case=references, orgs=st.lists(org_policies, max_size=3, unique_by=lambda o: o.name))
def test_blocked_exactly_when_some_applicable_policy_refuses(case, orgs):
    text, _ = case
    reference = parse_reference(text)
    snapshot = PullSnapshot(username="u", organizations=tuple(orgs), verified_publishers=PUBLISHERS)
    decision = pull_decide(snapshot, reference)
    refusing = expected_refusers(orgs, reference)
    assert decision.allowed is (not refusing)
    assert decision.reason
    assert decision.reference == reference.normalized
    if refusing:
        assert decision.organization in refusing
        assert decision.organization in decision.reason


@given(
    case=references, orgs=st.lists(org_policies, min_size=1, max_size=3, unique_by=lambda o: o.name)
)
def test_owners_preview_is_the_organisations_policy_alone(case, orgs):
    reference = parse_reference(case[0])
    snapshot = PullSnapshot(username="u", organizations=tuple(orgs), verified_publishers=PUBLISHERS)
    this = orgs[0]
    preview = pull_decide(as_plain_member(snapshot, this), reference)
    plain = OrgPolicy(
        name=this.name,
        is_owner=False,
        enabled=this.enabled,
        allow_official_images=this.allow_official_images,
        allow_verified_publishers=this.allow_verified_publishers,
    )
    assert preview.allowed is (not expected_refusers([plain], reference))


def test_engine_policy_has_every_setting_of_the_model():
    """A setting added to AccessPolicy must reach the engine (the snapshot passes them all)."""
    assert set(POLICY_FIELDS) <= {field.name for field in dataclasses.fields(OrgPolicy)}
