"""Writes for Image Access Management policies. Every change is recorded."""

from collections.abc import Mapping

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
    values: Mapping[str, bool],
) -> tuple[AccessPolicy, PolicyChange | None]:
    """Save an organisation's policy as edited from ``expected_version``.

    ``values`` maps settings (fields of :data:`POLICY_FIELDS`) to their new values; settings
    it leaves out keep theirs. Refuses (``StalePolicyEdit``) when someone saved a newer version
    in between, so that two owners never silently overwrite each other. Records who changed
    what from what to what; returns ``(policy, None)`` when nothing changed.
    """
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise ValueError(f"Not policy settings: {', '.join(sorted(unknown))}")
    policy = AccessPolicy.objects.select_for_update().get(organization=organization)
    if policy.version != expected_version:
        raise StalePolicyEdit(
            "Someone else changed these settings while you were editing "
            f"(you edited version {expected_version}, the current one is {policy.version}). "
            "Your changes were not saved: review the current settings below and save again.",
            code="stale",
        )
    changes = {
        field: {"from": getattr(policy, field), "to": value}
        for field, value in values.items()
        if getattr(policy, field) != value
    }
    if not changes:
        return policy, None
    # The row is locked where the database supports it; the version condition makes the write
    # safe on every backend as well (a concurrent save makes it match no row).
    saved = AccessPolicy.objects.filter(pk=policy.pk, version=expected_version).update(
        **{field: diff["to"] for field, diff in changes.items()},
        version=F("version") + 1,
        updated_at=timezone.now(),
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
