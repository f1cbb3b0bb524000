"""Writes for Image Access Management: the policy, team grants and the allowlist (exception
requests: :mod:`policies.exceptions.services`, which adds entries through :func:`entry_create`).
Every change is recorded in the settings history; every change of what members may pull is a new
policy version."""

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from orgs.models import OWNERS_TEAM, Organization, Team
from policies.engine import expiry_text
from policies.models import (
    ALLOWLIST_MAX_ENTRIES,
    GRANT_FIELDS,
    POLICY_FIELDS,
    AccessPolicy,
    AllowlistEntry,
    PolicyChange,
    TeamGrant,
    policy_field_label,
)
from policies.patterns import InvalidPattern, parse_pattern

REASON_MAX_LENGTH = AllowlistEntry._meta.get_field("reason").max_length


class StalePolicyEdit(ValidationError):
    """The policy changed since the editor loaded it; nothing was saved."""


def _check_settings(values: Mapping[str, bool], fields: tuple[str, ...]) -> None:
    unknown = set(values) - set(fields)
    if unknown:
        raise ValueError(f"Not settings here: {', '.join(sorted(unknown))}")


def _settings_changes(current, values: Mapping[str, bool]) -> dict:
    """``{field: {"from": old, "to": new}}`` for each setting ``values`` changes on
    ``current`` (a policy or a grant), as the history records it."""
    return {
        field: {"from": getattr(current, field), "to": value}
        for field, value in values.items()
        if getattr(current, field) != value
    }


def policy_create(organization: Organization) -> AccessPolicy:
    """The new organisation's access policy, Image Access Management off (run by
    :func:`orgs.services.organization_create` in its transaction, registered from
    ``PoliciesConfig.ready``)."""
    return AccessPolicy.objects.create(organization=organization)


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
    _check_settings(values, POLICY_FIELDS)
    policy = AccessPolicy.objects.select_for_update().get(organization=organization)
    if policy.version != expected_version:
        raise StalePolicyEdit(
            "Someone else changed these settings while you were editing "
            f"(you edited version {expected_version}, the current one is {policy.version}). "
            "Your changes were not saved: review the current settings below and save again.",
            code="stale",
        )
    changes = _settings_changes(policy, values)
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


# --- settings beyond the policy: every one bumps the policy version and is recorded ----------


def lock_policy(organization: Organization) -> AccessPolicy:
    """Lock the organisation's policy row: every change of what its members may pull is
    serialised on it (where the database supports row locks; SQLite serialises all writes)."""
    return AccessPolicy.objects.select_for_update().get(organization=organization)


def record_change(
    *, organization: Organization, actor, changes: dict, bump: bool, policy: AccessPolicy
) -> PolicyChange:
    """Record ``changes`` in the settings history; with ``bump``, as a new policy version (a
    change of what members may pull), which makes concurrent edits of the Org Permissions
    form from the older version stale. With ``bump``, ``policy`` must be locked
    (:func:`lock_policy`)."""
    if bump:
        AccessPolicy.objects.filter(pk=policy.pk).update(
            version=F("version") + 1, updated_at=timezone.now()
        )
        policy.refresh_from_db(fields=["version", "updated_at"])
    return PolicyChange.objects.create(
        organization=organization,
        actor=actor,
        actor_username=actor_username(actor),
        changes=changes,
        version=policy.version,
    )


def actor_username(user) -> str:
    """The name the history keeps for ``user`` ("system" for none)."""
    return getattr(user, "username", "") or "system"


@transaction.atomic
def team_grant_update(
    *, team: Team, actor, expected_version: int, values: Mapping[str, bool]
) -> tuple[TeamGrant, PolicyChange | None]:
    """Save the extra categories ``team``'s members may pull in its organisation, as edited
    from policy version ``expected_version``.

    ``values`` maps grant settings (:data:`GRANT_FIELDS`) to their new values; settings it
    leaves out keep theirs. Refuses the owners team (it can pull anything already) and an edit
    from an older policy version (``StalePolicyEdit``). A change bumps the policy version and is
    recorded; returns ``(grant, None)`` when nothing changed.
    """
    _check_settings(values, GRANT_FIELDS)
    if team.is_owners:
        raise ValidationError(
            "The owners team can pull any image already: it needs no grant.", code="owners"
        )
    policy = lock_policy(team.organization)
    if policy.version != expected_version:
        raise StalePolicyEdit(
            f"Someone else changed {team.organization.name}'s settings while you were editing "
            f"(you edited version {expected_version}, the current one is {policy.version}). "
            f"The grant of team {team.name} was not saved: review it below and save again.",
            code="stale",
        )
    return _grant_save(team=team, actor=actor, values=values, policy=policy)


def _grant_save(*, team: Team, actor, values: Mapping[str, bool], policy: AccessPolicy):
    """Save ``team``'s grant under the locked ``policy``; a change is recorded as a new
    version. ``(grant, change or None)``."""
    grant, _ = TeamGrant.objects.get_or_create(team=team)
    changes = _settings_changes(grant, values)
    if not changes:
        return grant, None
    for field, diff in changes.items():
        setattr(grant, field, diff["to"])
    grant.save()
    change = record_change(
        organization=team.organization,
        actor=actor,
        changes={"team_grant": {"team": team.name, "changes": changes}},
        bump=True,
        policy=policy,
    )
    return grant, change


@transaction.atomic
def team_grants_update(
    *,
    organization: Organization,
    actor,
    expected_version: int,
    grants: Mapping[str, Mapping[str, bool]],
) -> list[PolicyChange]:
    """Save several teams' grants at once (the Team grants page), as edited from policy version
    ``expected_version``: ``grants`` maps team names to grant settings as for
    :func:`team_grant_update`. All or nothing: an edit from an older version is refused
    (``StalePolicyEdit``), as is a team that is not the organisation's or is its owners team.
    Each team whose grant changes is recorded as a new version; returns those changes (none:
    nothing changed)."""
    for values in grants.values():
        _check_settings(values, GRANT_FIELDS)
    teams = {
        team.name: team
        for team in Team.objects.filter(organization=organization, name__in=list(grants))
    }
    unknown = sorted(set(grants) - set(teams))
    if unknown:
        raise ValidationError(
            f"{organization.name} has no team {', '.join(unknown)}: nothing was saved.",
            code="unknown_team",
        )
    if OWNERS_TEAM in grants:
        raise ValidationError(
            "The owners team can pull any image already: it needs no grant.", code="owners"
        )
    policy = lock_policy(organization)
    if policy.version != expected_version:
        raise StalePolicyEdit(
            f"Someone else changed {organization.name}'s settings while you were editing "
            f"(you edited version {expected_version}, the current one is {policy.version}). "
            "The team grants were not saved: review them below and save again.",
            code="stale",
        )
    changes = []
    for name in sorted(grants):
        _, change = _grant_save(team=teams[name], actor=actor, values=grants[name], policy=policy)
        if change is not None:
            changes.append(change)
    return changes


def team_deletion_record(team: Team, actor) -> None:
    """Before ``team`` is deleted (with its grant and allowlist entries, by the database's
    cascade): record what its members lose in the settings history, as a new policy version
    (run by :func:`orgs.services.team_delete` in its transaction, registered from
    ``PoliciesConfig.ready``). Nothing is recorded for a team that allowed nothing."""
    grant = TeamGrant.objects.filter(team=team).first()
    allowed = [
        policy_field_label(f, TeamGrant) for f in GRANT_FIELDS if grant and getattr(grant, f)
    ]
    entries = list(team.allowlist_entries.order_by("pattern").values_list("pattern", flat=True))
    if not allowed and not entries:
        return
    record_change(
        organization=team.organization,
        actor=actor,
        changes={"team_deleted": {"team": team.name, "grant": allowed, "entries": entries}},
        bump=True,
        policy=lock_policy(team.organization),
    )


def entry_fields(
    *, organization: Organization, pattern: str, reason: str, team: Team | None, expires_at
) -> dict:
    """Validate a new entry's fields; ``{field: value}`` to create it with, pattern normalised.
    Raises one ``ValidationError`` naming every field that is wrong."""
    errors: dict[str, str] = {}
    try:
        normalised = parse_pattern(pattern).text
    except InvalidPattern as error:
        errors["pattern"] = str(error)
        normalised = pattern
    reason = reason.strip()
    if not reason:
        errors["reason"] = "Say why members need this (for example 'CI base image')."
    elif len(reason) > REASON_MAX_LENGTH:
        errors["reason"] = f"At most {REASON_MAX_LENGTH} characters (this is {len(reason)})."
    if team is not None and team.organization_id != organization.pk:
        errors["team"] = f"Team {team.name} is not a team of {organization.name}."
    elif team is not None and team.is_owners:
        errors["team"] = "The owners team can pull any image already: choose another team."
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = (
            f"The expiry ({expiry_text(expires_at).removeprefix('expires ')}) is in the past: "
            "choose a later date, or none for an entry that does not expire."
        )
    if errors:
        raise ValidationError(errors)
    return {
        "organization": organization,
        "team": team,
        "pattern": normalised,
        "reason": reason,
        "expires_at": expires_at,
    }


def _entry_record(entry: AllowlistEntry) -> dict:
    """An entry as the history keeps it."""
    return {
        "pattern": entry.pattern,
        "team": entry.team.name if entry.team_id else None,
        "expires_at": entry.expires_at.isoformat() if entry.expires_at else None,
        "reason": entry.reason,
    }


def entry_create(*, actor, **fields) -> tuple[AllowlistEntry, dict]:
    """Create a validated entry (the policy row locked); ``(entry, history record)``.

    An expired entry with the same pattern and team is replaced; a current one is a duplicate.
    """
    organization, team = fields["organization"], fields["team"]
    same = AllowlistEntry.objects.filter(
        organization=organization, team=team, pattern=fields["pattern"]
    ).first()
    replaced = False
    if same is not None:
        if same.expires_at is None or same.expires_at > timezone.now():
            raise ValidationError(
                {
                    "pattern": (
                        f"{organization.name}'s allowlist already has '{same.pattern}' for "
                        f"{same.scope_text} ({same.expiry_text}), added by "
                        f"{same.added_by_username}."
                    )
                },
                code="duplicate",
            )
        same.delete()
        replaced = True
    count = AllowlistEntry.objects.filter(organization=organization).count()
    if count >= ALLOWLIST_MAX_ENTRIES:
        raise ValidationError(
            f"{organization.name}'s allowlist has {count} entries, the most it can hold "
            f"({ALLOWLIST_MAX_ENTRIES}): remove entries, or use a namespace pattern such as "
            "'someone/*' that covers several repositories.",
            code="full",
        )
    try:
        with transaction.atomic():
            entry = AllowlistEntry.objects.create(
                added_by=actor, added_by_username=actor_username(actor), **fields
            )
    except IntegrityError as exc:  # a concurrent add of the same pattern won
        raise ValidationError(
            {"pattern": f"{organization.name}'s allowlist already has '{fields['pattern']}'."},
            code="duplicate",
        ) from exc
    return entry, {**_entry_record(entry), "replaced_expired": replaced}


@transaction.atomic
def allowlist_entry_add(
    *,
    organization: Organization,
    actor,
    pattern: str,
    reason: str,
    team: Team | None = None,
    expires_at=None,
) -> AllowlistEntry:
    """Let ``organization``'s members (or the members of one of its teams) pull the
    repositories ``pattern`` covers, whatever their category, until ``expires_at`` (None:
    no expiry).

    Refuses an invalid pattern, an empty reason, an expiry in the past, the owners team, a
    duplicate of a current entry (an expired one is replaced) and an allowlist already holding
    :data:`ALLOWLIST_MAX_ENTRIES`. Bumps the policy version and is recorded.
    """
    fields = entry_fields(
        organization=organization, pattern=pattern, reason=reason, team=team, expires_at=expires_at
    )
    policy = lock_policy(organization)
    entry, record = entry_create(actor=actor, **fields)
    record_change(
        organization=organization,
        actor=actor,
        changes={"allowlist_added": record},
        bump=True,
        policy=policy,
    )
    return entry


@transaction.atomic
def allowlist_entry_remove(*, organization: Organization, entry_id: int, actor) -> PolicyChange:
    """Remove one of ``organization``'s allowlist entries (expired or not). Bumps the policy
    version and is recorded; refuses an entry that is not there (any more)."""
    policy = lock_policy(organization)
    entry = (
        AllowlistEntry.objects.select_related("team")
        .filter(organization=organization, pk=entry_id)
        .first()
    )
    if entry is None:
        raise ValidationError(
            "That allowlist entry is not there any more: someone removed it or it was replaced.",
            code="missing",
        )
    record = _entry_record(entry)
    entry.delete()
    return record_change(
        organization=organization,
        actor=actor,
        changes={"allowlist_removed": record},
        bump=True,
        policy=policy,
    )
