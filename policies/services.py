"""Writes for Image Access Management policies. Every change is recorded."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from orgs.models import Organization
from policies.models import POLICY_FIELDS, AccessPolicy, PolicyChange


class StalePolicyEdit(ValidationError):
    """The policy changed since the editor loaded it; nothing was saved."""


@transaction.atomic
def policy_update(
    *,
    organization: Organization,
    actor,
    expected_version: int,
    enabled: bool,
    allow_official_images: bool,
    allow_verified_publishers: bool,
) -> tuple[AccessPolicy, PolicyChange | None]:
    """Save an organisation's policy as edited from ``expected_version``.

    Refuses (``StalePolicyEdit``) when someone saved a newer version in between, so that two
    owners never silently overwrite each other. Records who changed what from what to what;
    returns ``(policy, None)`` when nothing changed.
    """
    policy, _ = AccessPolicy.objects.select_for_update().get_or_create(organization=organization)
    if policy.version != expected_version:
        raise StalePolicyEdit(
            "Someone else changed these settings while you were editing "
            f"(you edited version {expected_version}, the current one is {policy.version}). "
            "Your changes were not saved: review the current settings below and save again.",
            code="stale",
        )
    wanted = {
        "enabled": enabled,
        "allow_official_images": allow_official_images,
        "allow_verified_publishers": allow_verified_publishers,
    }
    changes = {
        field: {"from": getattr(policy, field), "to": wanted[field]}
        for field in POLICY_FIELDS
        if getattr(policy, field) != wanted[field]
    }
    if not changes:
        return policy, None
    # The row is locked where the database supports it; the version condition makes the write
    # safe on every backend as well (a concurrent save makes it match no row).
    saved = AccessPolicy.objects.filter(pk=policy.pk, version=expected_version).update(
        **wanted, version=F("version") + 1, updated_at=timezone.now()
    )
    if saved != 1:
        raise StalePolicyEdit(
            "Someone else changed these settings while you were saving. Your changes were not "
            "saved: review the current settings below and save again.",
            code="stale",
        )
    policy.refresh_from_db()
    change = PolicyChange.objects.create(
        organization=organization,
        actor=actor,
        actor_username=getattr(actor, "username", "") or "system",
        changes=changes,
        version=policy.version,
    )
    return policy, change
