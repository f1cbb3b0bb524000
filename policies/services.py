"""Writes for Image Access Management: the policy, team grants, the allowlist and exception
requests. Every change is recorded in the settings history; every change of what members may
pull is a new policy version."""

import logging
from collections.abc import Mapping
from dataclasses import replace

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from orgs.models import OWNERS_TEAM, Organization, Team
from policies.engine import expiry_text, pull_decide
from policies.models import (
    ALLOWLIST_MAX_ENTRIES,
    GRANT_FIELDS,
    POLICY_FIELDS,
    AccessPolicy,
    AllowlistEntry,
    ExceptionRequest,
    PolicyChange,
    TeamGrant,
)
from policies.patterns import InvalidPattern, matches, parse_pattern
from policies.references import ImageReference
from policies.selectors import policy_for_organization, pull_snapshot

logger = logging.getLogger(__name__)

REASON_MAX_LENGTH = AllowlistEntry._meta.get_field("reason").max_length
JUSTIFICATION_MAX_LENGTH = ExceptionRequest._meta.get_field("justification").max_length
#: How many pending requests one member may have in one organisation.
MAX_PENDING_REQUESTS = 20


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


def _lock_policy(organization: Organization) -> AccessPolicy:
    """Lock the organisation's policy row: every change of what its members may pull is
    serialised on it (where the database supports row locks; SQLite serialises all writes)."""
    return AccessPolicy.objects.select_for_update().get(organization=organization)


def _record(
    *, organization: Organization, actor, changes: dict, bump: bool, policy: AccessPolicy
) -> PolicyChange:
    """Record ``changes`` in the settings history; with ``bump``, as a new policy version (a
    change of what members may pull), which makes concurrent edits of the Org Permissions
    form from the older version stale. With ``bump``, ``policy`` must be locked
    (:func:`_lock_policy`)."""
    if bump:
        AccessPolicy.objects.filter(pk=policy.pk).update(
            version=F("version") + 1, updated_at=timezone.now()
        )
        policy.refresh_from_db(fields=["version", "updated_at"])
    return PolicyChange.objects.create(
        organization=organization,
        actor=actor,
        actor_username=_username(actor),
        changes=changes,
        version=policy.version,
    )


def _username(user) -> str:
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
    policy = _lock_policy(team.organization)
    if policy.version != expected_version:
        raise StalePolicyEdit(
            f"Someone else changed {team.organization.name}'s settings while you were editing "
            f"(you edited version {expected_version}, the current one is {policy.version}). "
            f"Team {team.name}'s grant was not saved: review it below and save again.",
            code="stale",
        )
    grant, _ = TeamGrant.objects.get_or_create(team=team)
    changes = _settings_changes(grant, values)
    if not changes:
        return grant, None
    for field, diff in changes.items():
        setattr(grant, field, diff["to"])
    grant.save()
    change = _record(
        organization=team.organization,
        actor=actor,
        changes={"team_grant": {"team": team.name, "changes": changes}},
        bump=True,
        policy=policy,
    )
    return grant, change


def _entry_fields(
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


def _entry_create(*, actor, **fields) -> tuple[AllowlistEntry, dict]:
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
                        f"{organization.name}'s allowlist already has `{same.pattern}` for "
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
                added_by=actor, added_by_username=_username(actor), **fields
            )
    except IntegrityError as exc:  # a concurrent add of the same pattern won
        raise ValidationError(
            {"pattern": f"{organization.name}'s allowlist already has `{fields['pattern']}`."},
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
    fields = _entry_fields(
        organization=organization, pattern=pattern, reason=reason, team=team, expires_at=expires_at
    )
    policy = _lock_policy(organization)
    entry, record = _entry_create(actor=actor, **fields)
    _record(
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
    policy = _lock_policy(organization)
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
    return _record(
        organization=organization,
        actor=actor,
        changes={"allowlist_removed": record},
        bump=True,
        policy=policy,
    )


# --- exception requests ----------------------------------------------------------------------


@transaction.atomic
def exception_request_create(
    *,
    organization: Organization,
    requester,
    reference: ImageReference,
    justification: str,
    site_url: str = "",
) -> ExceptionRequest:
    """Ask ``organization``'s owners to let ``requester`` pull ``reference``'s repository.

    Only a member whom the organisation refuses that image can ask (now, by the engine's own
    rule), with a justification, once per repository while a request is pending, and with at
    most :data:`MAX_PENDING_REQUESTS` pending. Recorded (no new policy version: nothing members
    may pull has changed). The owners who have an e-mail address are told once the request is
    saved; ``site_url`` (e.g. ``https://portal.example.com``) makes the link in the mail
    absolute.
    """
    justification = justification.strip()
    if not justification:
        raise ValidationError(
            {"justification": "Tell the owners why you need this image."}, code="required"
        )
    if len(justification) > JUSTIFICATION_MAX_LENGTH:
        raise ValidationError(
            {
                "justification": f"At most {JUSTIFICATION_MAX_LENGTH} characters "
                f"(this is {len(justification)})."
            }
        )
    _refused_by(organization=organization, user=requester, reference=reference)
    pending = ExceptionRequest.objects.filter(
        organization=organization, requester=requester, status=ExceptionRequest.Status.PENDING
    )
    earlier = pending.filter(repository=reference.path).first()
    if earlier is not None:
        raise ValidationError(
            f"You already asked {organization.name}'s owners for {reference.path} on "
            f"{earlier.created_at:%Y-%m-%d %H:%M} UTC; that request is still pending.",
            code="duplicate",
        )
    if pending.count() >= MAX_PENDING_REQUESTS:
        raise ValidationError(
            f"You have {MAX_PENDING_REQUESTS} requests pending in {organization.name}: wait "
            "for its owners to answer some of them.",
            code="too_many",
        )
    try:
        with transaction.atomic():
            request = ExceptionRequest.objects.create(
                organization=organization,
                requester=requester,
                reference=reference.normalized,
                repository=reference.path,
                justification=justification,
            )
    except IntegrityError as exc:  # the same request, sent twice at once
        raise ValidationError(
            f"You already asked {organization.name}'s owners for {reference.path}.",
            code="duplicate",
        ) from exc
    record = {**_request_record(request), "justification": justification}
    _record(
        organization=organization,
        actor=requester,
        changes={"exception_requested": record},
        bump=False,
        policy=policy_for_organization(organization=organization),
    )
    transaction.on_commit(lambda: notify_owners_of_request(request=request, site_url=site_url))
    return request


def _refused_by(*, organization: Organization, user, reference: ImageReference) -> None:
    """Raise unless ``organization`` currently refuses ``user`` the image (by itself)."""
    snapshot = pull_snapshot(user=user, references=[reference])
    this = next((org for org in snapshot.organizations if org.name == organization.name), None)
    if this is None:
        raise ValidationError(f"You are not a member of {organization.name}.", code="not_member")
    if not this.restricts:
        why = "you are in its owners team" if this.is_owner else "Image Access Management is off"
        raise ValidationError(
            f"{organization.name} does not restrict your pulls ({why}): no exception is needed.",
            code="not_restricted",
        )
    decision = pull_decide(replace(snapshot, organizations=(this,)), reference)
    if decision.allowed:
        raise ValidationError(
            f"{organization.name} already lets you pull {reference.path}: {decision.reason}",
            code="already_allowed",
        )


def _request_record(request: ExceptionRequest) -> dict:
    return {
        "request": request.pk,
        "requester": request.requester.username,
        "repository": request.repository,
    }


def _lock_pending(request: ExceptionRequest) -> ExceptionRequest:
    """The request, locked, if it is still pending; otherwise say who decided it."""
    current = ExceptionRequest.objects.select_for_update().get(pk=request.pk)
    if not current.is_pending:
        raise ValidationError(
            f"This request was already {current.status} by {current.decided_by_username} on "
            f"{current.decided_at:%Y-%m-%d %H:%M} UTC.",
            code="decided",
        )
    return current


@transaction.atomic
def exception_request_approve(
    *,
    request: ExceptionRequest,
    actor,
    pattern: str,
    expires_at,
    team: Team | None = None,
    note: str = "",
) -> AllowlistEntry:
    """Approve a pending request: add an allowlist entry for ``pattern`` (which must cover the
    requested repository), for the whole organisation or for ``team`` (one the requester is
    in), expiring at ``expires_at`` (required, in the future). Bumps the policy version; the
    approval and the entry are recorded as one change, and the requester is told by e-mail."""
    organization = request.organization
    note = _clean_note(note, required=False)
    if expires_at is None:
        raise ValidationError(
            {"expires_at": "An exception needs an expiry (for example in 30 days)."},
            code="required",
        )
    fields = _entry_fields(
        organization=organization,
        pattern=pattern,
        reason=f"Exception request #{request.pk} by {request.requester.username}: "
        f"{request.justification}"[:REASON_MAX_LENGTH],
        team=team,
        expires_at=expires_at,
    )
    if not matches(fields["pattern"], request.repository):
        raise ValidationError(
            {
                "pattern": f"`{fields['pattern']}` does not cover the requested repository "
                f"{request.repository}."
            },
            code="no_match",
        )
    if team is not None and not team.memberships.filter(user_id=request.requester_id).exists():
        raise ValidationError(
            {
                "team": f"{request.requester.username} is not in team {team.name}: an entry "
                "for that team would not let them pull."
            },
            code="not_in_team",
        )
    policy = _lock_policy(organization)
    current = _lock_pending(request)
    entry, record = _entry_create(actor=actor, **fields)
    current.status = ExceptionRequest.Status.APPROVED
    current.entry = entry
    current.granted_pattern = entry.pattern
    current.granted_team = team.name if team else ""
    current.granted_expires_at = entry.expires_at
    _decide(current, actor=actor, note=note)
    _record(
        organization=organization,
        actor=actor,
        changes={
            "exception_approved": {**_request_record(current), "note": current.note},
            "allowlist_added": record,
        },
        bump=True,
        policy=policy,
    )
    request.refresh_from_db()
    return entry


@transaction.atomic
def exception_request_decline(*, request: ExceptionRequest, actor, note: str) -> ExceptionRequest:
    """Decline a pending request with a note for the requester (required). Recorded; the
    requester is told by e-mail."""
    note = _clean_note(note, required=True)
    policy = policy_for_organization(organization=request.organization)
    current = _lock_pending(request)
    current.status = ExceptionRequest.Status.DECLINED
    _decide(current, actor=actor, note=note)
    _record(
        organization=request.organization,
        actor=actor,
        changes={"exception_declined": {**_request_record(current), "note": current.note}},
        bump=False,
        policy=policy,
    )
    request.refresh_from_db()
    return request


def _clean_note(note: str, *, required: bool) -> str:
    note = note.strip()
    if required and not note:
        raise ValidationError(
            {"note": "Tell the requester why (they will read this note)."}, code="required"
        )
    if len(note) > JUSTIFICATION_MAX_LENGTH:
        raise ValidationError(
            {"note": f"At most {JUSTIFICATION_MAX_LENGTH} characters (this is {len(note)})."}
        )
    return note


def _decide(request: ExceptionRequest, *, actor, note: str) -> None:
    request.decided_by = actor
    request.decided_by_username = _username(actor)
    request.decided_at = timezone.now()
    request.note = note
    request.save()
    transaction.on_commit(lambda: notify_requester_of_decision(request=request))


# --- e-mail ------------------------------------------------------------------------------------


def _send(subject: str, body: str, recipients: list[str]) -> None:
    """Send one mail; a mail that cannot be sent is logged, never an error (what it announces
    is saved and shown in the portal either way)."""
    if not recipients:
        return
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except OSError:  # smtplib's errors included
        logger.exception("Could not send %r to %s", subject, ", ".join(recipients))


def notify_owners_of_request(*, request: ExceptionRequest, site_url: str = "") -> None:
    """E-mail the organisation's active owners who have an address about a new request."""
    organization = request.organization
    owners = (
        get_user_model()
        .objects.filter(
            team_memberships__team__organization=organization,
            team_memberships__team__name=OWNERS_TEAM,
            is_active=True,
        )
        .exclude(email="")
        .order_by("username")
        .values_list("email", flat=True)
    )
    link = site_url.rstrip("/") + reverse(
        "policies:exception_review", kwargs={"org": organization.name, "pk": request.pk}
    )
    body = (
        f"{request.requester.username} asks {organization.name}'s owners for an exception to "
        "Image Access Management.\n\n"
        f"Image: {request.reference}\n"
        f"Justification: {request.justification}\n\n"
        "Approve it (an allowlist entry for the organization or one team, with an expiry) or "
        f"decline it with a note:\n{link}\n"
    )
    _send(
        f"[{organization.name}] {request.requester.username} asks to pull {request.repository}",
        body,
        list(owners),
    )


def notify_requester_of_decision(*, request: ExceptionRequest) -> None:
    """E-mail the requester (if they have an address) the owners' answer."""
    if request.status == ExceptionRequest.Status.APPROVED:
        outcome = f"approved: allowlist entry {request.granted_text}"
    else:
        outcome = "declined"
    note = f"\nNote from {request.decided_by_username}: {request.note}\n" if request.note else ""
    body = (
        f"Your request to pull {request.repository} in {request.organization.name} was "
        f"{outcome}.\n{note}"
    )
    recipients = [request.requester.email] if request.requester.email else []
    _send(
        f"[{request.organization.name}] Your request for {request.repository} was {request.status}",
        body,
        recipients,
    )
