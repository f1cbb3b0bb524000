"""Reads for Image Access Management: policies, their history, and the decision snapshot.

The snapshot (:class:`policies.engine.PullSnapshot`) is read in two places: here, for a user
(the Org Permissions page, ``check_pull``), and in :mod:`tokens.selectors`, for the holder of an
access token in the same query that finds the token. Both select the columns named by
:func:`membership_columns` and fold them with :func:`organization_policies`, so a new policy
setting reaches both without being named in either.
"""

from collections.abc import Iterable, Mapping

from django.db.models import QuerySet

from orgs.models import OWNERS_TEAM, Organization, TeamMembership
from policies.engine import OrgPolicy, PullSnapshot
from policies.models import POLICY_FIELDS, AccessPolicy, PolicyChange, Publisher
from policies.references import OFFICIAL_NAMESPACE, ImageReference
from portal.prepared import CompiledRead


def policy_for_organization(*, organization: Organization) -> AccessPolicy:
    """The organisation's policy (every organisation has one, made with it)."""
    return AccessPolicy.objects.get(organization=organization)


def policy_history(*, organization: Organization, limit: int = 20) -> QuerySet[PolicyChange]:
    """The most recent recorded changes of the organisation's policy, newest first."""
    return PolicyChange.objects.filter(organization=organization)[:limit]


def membership_columns(prefix: str = "") -> dict[str, str]:
    """``{name: lookup}`` of what the snapshot needs about one team membership: the
    organisation, the team, and that organisation's policy (its version and every setting).
    ``prefix`` is the path from the queried model to ``TeamMembership``."""
    organization = f"{prefix}team__organization__"
    policy = f"{organization}access_policy__"
    return {
        "organization": f"{organization}name",
        "team": f"{prefix}team__name",
        "policy_version": f"{policy}version",
        **{field: f"{policy}{field}" for field in POLICY_FIELDS},
    }


def organization_policies(rows: Iterable[Mapping]) -> tuple[OrgPolicy, ...]:
    """One :class:`OrgPolicy` per organisation from membership rows (one row per team the user
    is in, with the columns of :func:`membership_columns`); rows without an organisation (a
    user in no team, read through an outer join) are skipped. Sorted by name."""
    policies: dict[str, OrgPolicy] = {}
    for row in rows:
        name = row["organization"]
        if name is None:
            continue
        known = policies.get(name)
        policies[name] = OrgPolicy(
            name=name,
            is_owner=row["team"] == OWNERS_TEAM or (known is not None and known.is_owner),
            version=row["policy_version"],
            **{field: row[field] for field in POLICY_FIELDS},
        )
    return tuple(policies[name] for name in sorted(policies))


def publisher_candidates(references: Iterable[ImageReference]) -> list[str]:
    """Namespaces whose Verified Publisher status could matter for these references."""
    return sorted(
        {
            ref.namespace
            for ref in references
            if ref.is_docker_hub and ref.namespace != OFFICIAL_NAMESPACE
        }
    )


_VERIFIED_PUBLISHERS = CompiledRead(
    lambda namespaces: (
        Publisher.objects.filter(namespace__in=namespaces, verified=True)
        .order_by()
        .values_list("namespace")
    ),
    ["namespace"],
)


def verified_publishers(references: Iterable[ImageReference]) -> frozenset[str]:
    """The verified publishers among the references' namespaces: no query when none could be
    one (official images, other registries)."""
    candidates = publisher_candidates(references)
    if not candidates:
        return frozenset()
    return frozenset(row["namespace"] for row in _VERIFIED_PUBLISHERS.rows(candidates))


_MEMBERSHIPS = CompiledRead(
    lambda user_id: (
        TeamMembership.objects.filter(user_id=user_id)
        .order_by()
        .values_list(*membership_columns().values())
    ),
    membership_columns(),
)


def pull_snapshot(*, user, references: Iterable[ImageReference] = ()) -> PullSnapshot:
    """What :func:`policies.engine.pull_decide` needs about ``user`` for these references.

    At most two queries whatever the size of the organisations or of the catalogue: the user's
    memberships with each organisation's policy, and the verified publishers among the
    references' namespaces (skipped when there is no candidate).
    """
    if user is None or not user.is_authenticated:
        return PullSnapshot(username="")
    references = list(references)
    return PullSnapshot(
        username=user.get_username(),
        organizations=organization_policies(_MEMBERSHIPS.rows(user.pk)),
        verified_publishers=verified_publishers(references),
    )
