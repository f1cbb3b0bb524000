"""Writes of exception requests: a member asks an organisation's owners to let them pull an
image the organisation refuses them; an owner approves (an allowlist entry with an expiry) or
declines (with a note). Every step is recorded in the settings history, and the other side is
told by e-mail once it is saved (:mod:`policies.exceptions.emails`)."""

from dataclasses import replace

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.mail import OnFailure
from orgs.models import Organization, Team
from policies.engine import pull_decide
from policies.exceptions import emails
from policies.models import AllowlistEntry, ExceptionRequest
from policies.patterns import matches
from policies.references import ImageReference
from policies.selectors import policy_for_organization, pull_snapshot
from policies.services import (
    REASON_MAX_LENGTH,
    actor_username,
    entry_create,
    entry_fields,
    lock_policy,
    record_change,
)

JUSTIFICATION_MAX_LENGTH = ExceptionRequest._meta.get_field("justification").max_length
#: How many pending requests one member may have in one organisation.
MAX_PENDING_REQUESTS = 20


@transaction.atomic
def exception_request_create(
    *,
    organization: Organization,
    requester,
    reference: ImageReference,
    justification: str,
    site_url: str = "",
    on_mail_failure: OnFailure | None = None,
) -> ExceptionRequest:
    """Ask ``organization``'s owners to let ``requester`` pull ``reference``'s repository.

    Only a member whom the organisation refuses that image can ask (now, by the engine's own
    rule), with a justification, once per repository while a request is pending, and with at
    most :data:`MAX_PENDING_REQUESTS` pending. Recorded (no new policy version: nothing members
    may pull has changed). The owners who have an e-mail address are told once the request is
    saved; ``site_url`` (e.g. ``https://portal.example.com``) makes the link in the mail
    absolute, and ``on_mail_failure`` is called if that mail cannot be sent (:mod:`core.mail`).
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
    record_change(
        organization=organization,
        actor=requester,
        changes={"exception_requested": record},
        bump=False,
        policy=policy_for_organization(organization=organization),
    )
    emails.notify_owners_of_request(request=request, site_url=site_url, on_failure=on_mail_failure)
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
    site_url: str = "",
    on_mail_failure: OnFailure | None = None,
) -> AllowlistEntry:
    """Approve a pending request: add an allowlist entry for ``pattern`` (which must cover the
    requested repository), for the whole organisation or for ``team`` (one the requester is
    in), expiring at ``expires_at`` (required, in the future). Bumps the policy version; the
    approval and the entry are recorded as one change, and the requester is told by e-mail once it
    is saved (``site_url`` and ``on_mail_failure`` as for :func:`exception_request_create`)."""
    organization = request.organization
    note = _clean_note(note, required=False)
    if expires_at is None:
        raise ValidationError(
            {"expires_at": "An exception needs an expiry (for example in 30 days)."},
            code="required",
        )
    fields = entry_fields(
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
    policy = lock_policy(organization)
    current = _lock_pending(request)
    entry, record = entry_create(actor=actor, **fields)
    current.status = ExceptionRequest.Status.APPROVED
    current.entry = entry
    current.granted_pattern = entry.pattern
    current.granted_team = team.name if team else ""
    current.granted_expires_at = entry.expires_at
    _decide(current, actor=actor, note=note, site_url=site_url, on_mail_failure=on_mail_failure)
    record_change(
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
def exception_request_decline(
    *,
    request: ExceptionRequest,
    actor,
    note: str,
    site_url: str = "",
    on_mail_failure: OnFailure | None = None,
) -> ExceptionRequest:
    """Decline a pending request with a note for the requester (required). Recorded; the
    requester is told by e-mail once it is saved (``site_url`` and ``on_mail_failure`` as for
    :func:`exception_request_create`)."""
    note = _clean_note(note, required=True)
    policy = policy_for_organization(organization=request.organization)
    current = _lock_pending(request)
    current.status = ExceptionRequest.Status.DECLINED
    _decide(current, actor=actor, note=note, site_url=site_url, on_mail_failure=on_mail_failure)
    record_change(
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


def _decide(
    request: ExceptionRequest,
    *,
    actor,
    note: str,
    site_url: str,
    on_mail_failure: OnFailure | None,
) -> None:
    """Save the answer on the (locked) request, and tell the requester once it is saved."""
    request.decided_by = actor
    request.decided_by_username = actor_username(actor)
    request.decided_at = timezone.now()
    request.note = note
    request.save()
    emails.notify_requester_of_decision(
        request=request, site_url=site_url, on_failure=on_mail_failure
    )
