"""Reads for Image Access Management: policies, their history, and the decision snapshot."""

from collections.abc import Iterable

from django.db.models import BooleanField, CharField, QuerySet, Value

from orgs.models import OWNERS_TEAM, Organization, TeamMembership
from policies.engine import OrgPolicy, PullSnapshot
from policies.models import AccessPolicy, PolicyChange, Publisher
from policies.references import OFFICIAL_NAMESPACE, ImageReference


def policy_for_organization(*, organization: Organization) -> AccessPolicy:
    """The organisation's policy (created with everything off if it is missing)."""
    policy, _ = AccessPolicy.objects.get_or_create(organization=organization)
    return policy


def policy_history(*, organization: Organization, limit: int = 20) -> QuerySet[PolicyChange]:
    """The most recent recorded changes of the organisation's policy, newest first."""
    return PolicyChange.objects.filter(organization=organization)[:limit]


def publisher_candidates(references: Iterable[ImageReference]) -> set[str]:
    """Namespaces whose Verified Publisher status could matter for these references."""
    return {
        ref.namespace
        for ref in references
        if ref.is_docker_hub and ref.namespace != OFFICIAL_NAMESPACE
    }


def snapshot_from_rows(*, username: str, rows: Iterable[tuple]) -> PullSnapshot:
    """Build a snapshot from ``(org, team, enabled, official, publishers)`` membership rows and
    ``(namespace, None, ...)`` verified-publisher rows (a row without a team is a publisher)."""
    orgs: dict[str, OrgPolicy] = {}
    verified: set[str] = set()
    for name, team, enabled, official, publishers_allowed in rows:
        if team is None:
            if name is not None:
                verified.add(name)
            continue
        known = orgs.get(name)
        orgs[name] = OrgPolicy(
            name=name,
            is_owner=team == OWNERS_TEAM or (known is not None and known.is_owner),
            enabled=bool(enabled),
            allow_official_images=bool(official),
            allow_verified_publishers=bool(publishers_allowed),
        )
    return PullSnapshot(
        username=username,
        organizations=tuple(sorted(orgs.values(), key=lambda org: org.name)),
        verified_publishers=frozenset(verified),
    )


def pull_snapshot(*, user, references: Iterable[ImageReference] = ()) -> PullSnapshot:
    """Read what :func:`policies.engine.pull_decide` needs about ``user``, in one query.

    The user's memberships (organisation, team, and that organisation's policy) and the verified
    publishers among the references' namespaces come back from one ``UNION ALL``: publisher rows
    are the ones without a team. The cost is one round trip whatever the size of the
    organisations or of the catalogue, which keeps the registry token service cheap.
    """
    if user is None or not user.is_authenticated:
        return PullSnapshot(username="")
    rows = (
        TeamMembership.objects.filter(user=user)
        .order_by()
        .values_list(
            "team__organization__name",
            "team__name",
            "team__organization__access_policy__enabled",
            "team__organization__access_policy__allow_official_images",
            "team__organization__access_policy__allow_verified_publishers",
        )
    )
    candidates = publisher_candidates(references)
    if candidates:
        no_text, no_flag = Value(None, output_field=CharField()), Value(None, BooleanField())
        publishers = (
            Publisher.objects.filter(namespace__in=candidates, verified=True)
            .order_by()
            .annotate(no_team=no_text, f1=no_flag, f2=no_flag, f3=no_flag)
            .values_list("namespace", "no_team", "f1", "f2", "f3")
        )
        rows = rows.union(publishers, all=True)
    return snapshot_from_rows(username=user.get_username(), rows=rows)
