"""Writes for invitations, and for the accounts people create to accept them.

The rule these keep: a person becomes a member only by accepting an invitation addressed to
them, once, before it expires and unless an owner revoked it.
"""

import secrets
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from core import ratelimit
from core.mail import OnFailure
from core.secrets import secret_digest
from orgs.invitations import limits
from orgs.invitations.emails import send_invitation_email
from orgs.models import Invitation, Organization, Team, TeamMembership
from orgs.services import team_member_add

User = get_user_model()
Status = Invitation.Status


@transaction.atomic
def invitation_create(
    *,
    team: Team,
    invited_by,
    invitee: str,
    absolute_url: Callable[[str], str],
    on_mail_failure: OnFailure | None = None,
) -> tuple[Invitation, str]:
    """Invite ``invitee`` into ``team``: an existing account by its exact username, anyone else
    by e-mail address. Returns the invitation and the secret token of its link, which is stored
    only as a SHA-256 digest.

    The link is e-mailed to the address (or to the invited account's address, if it has one)
    once the invitation is saved; ``absolute_url`` turns its path into the URL to send (views
    pass :func:`core.links.site_url`). If the e-mail cannot be sent, the invitation stays
    (its link can be passed on another way, or it can be revoked) and ``on_mail_failure`` is
    called (:mod:`core.mail`).

    Rate-limited (:mod:`orgs.invitations.limits`), failing closed while the shared cache is
    down: each call counts as one of ``invited_by``'s attempts (its answer says whether a
    username exists); an invitation made counts for its organisation, and one e-mailed for
    its recipient's address.
    """
    ratelimit.hit_or_refuse(
        limits.attempts_per_user(),
        str(invited_by.pk),
        refusal="You have made {limit} invitation attempts within the hour, the most the "
        "portal allows (each answer says whether a username exists); try again {wait}.",
        unavailable=limits.UNAVAILABLE,
    )
    user, email = _addressee(team=team, invitee=invitee)
    now = timezone.now()
    pending = Invitation.objects.filter(team=team, status=Status.PENDING)
    pending = pending.filter(invitee=user) if user else pending.filter(email__iexact=email)
    pending.filter(expires_at__lte=now).update(status=Status.EXPIRED)  # no longer in the way
    existing = pending.first()
    if existing is not None:
        raise ValidationError({"invitee": _already_invited(existing)})
    recipient = email or (user.email if user else "")
    if recipient:
        ratelimit.hit_or_refuse(
            limits.per_address(),
            recipient.lower(),
            refusal="This person has already received today the most invitations the portal "
            "sends to one address in a day ({limit}); try again {wait}.",
            unavailable=limits.UNAVAILABLE,
        )
    ratelimit.hit_or_refuse(
        limits.per_organization(),
        str(team.organization_id),
        refusal=f"{team.organization.name} has sent its {{limit}} invitations for this hour, "
        "the most the portal allows; you can invite again {wait}.",
        unavailable=limits.UNAVAILABLE,
    )
    token = secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                team=team,
                invitee=user,
                email=email,
                invited_by=invited_by,
                invited_by_username=invited_by.get_username(),
                token_hash=secret_digest(token),
                expires_at=now + timedelta(days=settings.INVITATION_TTL_DAYS),
            )
    except IntegrityError as exc:  # the same person invited at the same moment
        raise ValidationError(
            {"invitee": f"{invitee} already has a pending invitation to team {team.name}."}
        ) from exc
    if recipient:
        send_invitation_email(
            invitation=invitation,
            recipient=recipient,
            link=absolute_url(invitation_path(token)),
            on_failure=on_mail_failure,
        )
    return invitation, token


def invitation_path(token: str) -> str:
    """The path of the page an invitation's link opens."""
    return reverse("invitations:open", kwargs={"token": token})


def _addressee(*, team: Team, invitee: str):
    """``(user, "")`` for an existing account's username, ``(None, email)`` for an e-mail
    address; raises ``ValidationError`` on ``invitee`` when neither can be invited."""
    user = User.objects.filter(username=invitee).first()
    if user is not None:
        if not user.is_active:
            raise ValidationError({"invitee": f"The account '{invitee}' is deactivated."})
        if TeamMembership.objects.filter(team=team, user=user).exists():
            raise ValidationError({"invitee": f"{invitee} is already in team {team.name}."})
        return user, ""
    if "@" not in invitee:
        raise ValidationError(
            {
                "invitee": f"There is no user named '{invitee}'. To invite someone who has no "
                "account yet, enter their e-mail address."
            }
        )
    try:
        validate_email(invitee)
    except ValidationError:
        raise ValidationError(
            {"invitee": f"'{invitee}' is neither a username nor a valid e-mail address."}
        ) from None
    return None, BaseUserManager.normalize_email(invitee)


def _already_invited(existing: Invitation) -> str:
    return (
        f"{existing.addressee} already has a pending invitation to team {existing.team.name} "
        f"(sent by {existing.invited_by_username} on {existing.created_at:%Y-%m-%d}, expires "
        f"{existing.expires_at:%Y-%m-%d %H:%M} UTC). Revoke it first to send a new one."
    )


def _answer(invitation: Invitation, *, status: str, by) -> None:
    """Move a pending, unexpired invitation to ``status`` exactly once: the conditional
    UPDATE lets only one of two concurrent answers through. Raises ``ValidationError`` with
    the reason when the invitation can no longer be answered."""
    now = timezone.now()
    answered = Invitation.objects.filter(
        pk=invitation.pk, status=Status.PENDING, expires_at__gt=now
    ).update(status=status, responded_at=now, responded_by=by)
    if not answered:
        invitation.refresh_from_db()
        raise ValidationError(invitation.closed_reason() or "This invitation cannot be answered.")
    invitation.status, invitation.responded_at, invitation.responded_by = status, now, by


def _refuse_wrong_user(invitation: Invitation, user) -> None:
    if invitation.invitee_id is not None and invitation.invitee_id != user.pk:
        raise ValidationError(
            f"This invitation is for {invitation.invitee.username}, but you are signed in as "
            f"{user.username}. Sign in as {invitation.invitee.username} to answer it.",
            code="wrong_user",
        )


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user) -> TeamMembership:
    """``user`` accepts: they join the invitation's team. An invitation to an account can be
    accepted only by that account; an e-mail invitation by whoever presents its link (callers
    find it by its token)."""
    _refuse_wrong_user(invitation, user)
    if not user.is_active:
        raise ValidationError(f"The account '{user.username}' is deactivated.")
    _answer(invitation, status=Status.ACCEPTED, by=user)
    existing = TeamMembership.objects.filter(team=invitation.team, user=user).first()
    return existing or team_member_add(team=invitation.team, user=user)


@transaction.atomic
def invitation_decline(*, invitation: Invitation, user) -> Invitation:
    """``user`` declines (same addressee rule as :func:`invitation_accept`); nothing else
    changes, and the invitation cannot be accepted any more."""
    _refuse_wrong_user(invitation, user)
    _answer(invitation, status=Status.DECLINED, by=user)
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor) -> Invitation:
    """An owner (or site staff) withdraws a pending invitation; its link stops working."""
    _answer(invitation, status=Status.REVOKED, by=actor)
    return invitation


@transaction.atomic
def account_create(*, username: str, password: str, email: str = ""):
    """Create an active account. The caller's form has checked the username and the password
    (Django's ``AUTH_PASSWORD_VALIDATORS``); a username taken meanwhile, or an organisation's
    name (a username is a personal namespace), is refused here."""
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": f"The username '{username}' is taken."})
    if Organization.objects.filter(name__iexact=username).exists():
        # A username is its user's namespace (orgs.namespaces): never an organisation's too.
        raise ValidationError(
            {"username": f"The username '{username}' is taken: it is an organization's name."}
        )
    try:
        with transaction.atomic():
            return User.objects.create_user(username=username, password=password, email=email)
    except IntegrityError as exc:
        raise ValidationError({"username": f"The username '{username}' is taken."}) from exc


@transaction.atomic
def invitation_signup(*, invitation: Invitation, username: str, password: str):
    """Create an account from an e-mail invitation's link and accept the invitation with it,
    all or nothing. The account's e-mail address is the invited one."""
    if invitation.invitee_id is not None:
        raise ValidationError(
            f"This invitation is for the existing account {invitation.invitee.username}: "
            "sign in to accept it."
        )
    user = account_create(username=username, password=password, email=invitation.email)
    invitation_accept(invitation=invitation, user=user)
    return user
