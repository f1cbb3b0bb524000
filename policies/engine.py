"""The pull decision engine: one pure function decides every pull.

It works on a :class:`PullSnapshot` (the user's organisations, whether they own each, each
organisation's policy, and the verified publishers that matter) and never touches the database
or the request. The Org Permissions page, ``manage.py check_pull`` and the registry token service
all call :func:`pull_decide`.

The rule: a user pulls an image if, for every organisation they belong to that has Image Access
Management on and in which they are not in the owners team, that organisation allows the image's
category. An organisation always allows its own images, allows Docker Official Images and Docker
Verified Publisher images only when its owners chose so, and never allows Community images.
Images on other registries are outside Image Access Management, as on Docker Hub.
"""

from dataclasses import dataclass, replace
from enum import StrEnum

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


@dataclass(frozen=True)
class OrgPolicy:
    """One organisation the user belongs to, with its policy and the user's standing in it.

    The settings mirror :class:`policies.models.AccessPolicy`'s fields (a test pins that);
    ``version`` is the policy version the snapshot was read at.
    """

    name: str
    is_owner: bool
    enabled: bool = False
    allow_official_images: bool = False
    allow_verified_publishers: bool = False
    version: int = 0

    @property
    def restricts(self) -> bool:
        """Whether this organisation's policy applies to the user."""
        return self.enabled and not self.is_owner


@dataclass(frozen=True)
class PullSnapshot:
    """Everything the engine needs about one user, read from the database in one go."""

    username: str
    organizations: tuple[OrgPolicy, ...] = ()
    verified_publishers: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Decision:
    """The engine's answer: allowed or not, why, and on whose authority."""

    allowed: bool
    category: Category
    reference: str
    organization: str | None
    reason: str

    def as_dict(self) -> dict:
        return {
            "allowed": self.allowed,
            "category": self.category.value,
            "reference": self.reference,
            "organization": self.organization,
            "reason": self.reason,
        }


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


def as_plain_member(snapshot: PullSnapshot, organization: OrgPolicy) -> PullSnapshot:
    """The snapshot of a member of ``organization`` alone, in none of its teams with more
    rights: what the organisation's policy by itself gives its members (the owners' preview)."""
    return PullSnapshot(
        username="",
        organizations=(replace(organization, is_owner=False),),
        verified_publishers=snapshot.verified_publishers,
    )


def org_allows(policy: OrgPolicy, category: Category) -> bool:
    """Whether an organisation whose policy applies allows a category."""
    if category in (Category.ORGANIZATION, Category.OTHER_REGISTRY):
        return True
    if category is Category.OFFICIAL:
        return policy.allow_official_images
    if category is Category.VERIFIED_PUBLISHER:
        return policy.allow_verified_publishers
    return False


def pull_decide(snapshot: PullSnapshot, reference: ImageReference) -> Decision:
    """Decide whether the snapshot's user may pull ``reference``."""
    publishers = snapshot.verified_publishers
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
        )

    restricting = sorted(
        (org for org in snapshot.organizations if org.restricts), key=lambda org: org.name
    )
    for org in restricting:
        category = classify(reference, organization=org.name, verified_publishers=publishers)
        if not org_allows(org, category):
            return Decision(
                allowed=False,
                category=category,
                reference=shown,
                organization=org.name,
                reason=f"{category.label} are blocked by {org.name}'s Image Access Management.",
            )

    if restricting:
        org = restricting[0]
        category = classify(reference, organization=org.name, verified_publishers=publishers)
        others = [other.name for other in restricting[1:]]
        also = f" (and by {', '.join(others)})" if others else ""
        return Decision(
            allowed=True,
            category=category,
            reference=shown,
            organization=org.name,
            reason=f"{category.label} are allowed by {org.name}'s Image Access Management{also}.",
        )

    return _unrestricted(snapshot, reference, shown)


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
        decider = None
    elif owned_enabled:
        decider = owned_enabled[0]
        reason = (
            f"You are in {decider}'s owners team, which has access to all images; "
            "no other organization of yours restricts pulls."
        )
    else:
        decider = None
        names = ", ".join(sorted(o.name for o in snapshot.organizations))
        reason = f"Image Access Management is off for {names}: members can pull any image."
    return Decision(
        allowed=True, category=category, reference=shown, organization=decider, reason=reason
    )
