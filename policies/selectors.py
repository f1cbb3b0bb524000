"""Reads for Image Access Management: policies, their history, and the decision snapshot."""

from collections.abc import Iterable

from django.db.models import QuerySet

from orgs.models import OWNERS_TEAM, Organization, TeamMembership
from policies.engine import OFFICIAL_NAMESPACE, OrgPolicy, PullSnapshot
from policies.models import AccessPolicy, PolicyChange, Publisher
from policies.references import ImageReference


def policy_for_organization(*, organization: Organization) -> AccessPolicy:
    """The organisation's policy (created with everything off if it is missing)."""
    policy, _ = AccessPolicy.objects.get_or_create(organization=organization)
    return policy


def policy_history(*, organization: Organization, limit: int = 20) -> QuerySet[PolicyChange]:
    """The most recent recorded changes of the organisation's policy, newest first."""
    return PolicyChange.objects.filter(organization=organization)[:limit]


def pull_snapshot(
    *, user, references: Iterable[ImageReference] = (), only_if_deciding: bool = False
) -> PullSnapshot:
    """Read what :func:`policies.engine.pull_decide` needs about ``user``.

    One query reads the user's organisations, their standing in each and each policy, whatever
    the size of the organisations. A second query reads which of the references' namespaces
    are verified publishers. With ``only_if_deciding`` (the token service's hot path) that
    second query is skipped when no policy applies to the user, since the catalogue then cannot
    change the answer, only the category reported with it.
    """
    if user is None or not user.is_authenticated:
        return PullSnapshot(username="")
    rows = TeamMembership.objects.filter(user=user).values_list(
        "team__organization__name",
        "team__name",
        "team__organization__access_policy__enabled",
        "team__organization__access_policy__allow_official_images",
        "team__organization__access_policy__allow_verified_publishers",
    )
    orgs: dict[str, OrgPolicy] = {}
    for name, team, enabled, official, publishers in rows:
        known = orgs.get(name)
        orgs[name] = OrgPolicy(
            name=name,
            is_owner=team == OWNERS_TEAM or (known is not None and known.is_owner),
            enabled=bool(enabled),
            allow_official_images=bool(official),
            allow_verified_publishers=bool(publishers),
        )
    restricting = {org.name for org in orgs.values() if org.restricts}
    candidates = {
        ref.namespace
        for ref in references
        if ref.is_docker_hub and ref.namespace != OFFICIAL_NAMESPACE
    }
    # A namespace that is a restricting organisation's own is still checked: it may be
    # another restricting organisation's Verified Publisher.
    verified: frozenset[str] = frozenset()
    if candidates and (restricting or not only_if_deciding):
        verified = frozenset(
            Publisher.objects.filter(namespace__in=candidates, verified=True).values_list(
                "namespace", flat=True
            )
        )
    return PullSnapshot(
        username=user.get_username(),
        organizations=tuple(sorted(orgs.values(), key=lambda org: org.name)),
        verified_publishers=verified,
    )
