"""Writes and checks for access tokens (personal and organisation ones), registry sessions
(refresh tokens) and organisations' token rules. Organisation token events and owners'
revocations of members' tokens are recorded in the organisation's history
(:class:`policies.models.PolicyChange`)."""

import secrets
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from core.mail import OnFailure
from core.secrets import secret_digest
from orgs.models import Organization
from policies.patterns import InvalidPattern, parse_pattern
from policies.selectors import policy_for_organization
from policies.services import record_change
from tokens.emails import notify_member_of_revocation
from tokens.models import (
    LIFETIME_CHOICES,
    AccessToken,
    OrganizationToken,
    OrganizationTokenPolicy,
    RefreshToken,
    TokenScope,
)
from tokens.selectors import is_member_token, token_policy_of

TOKEN_PREFIX = "iamp_"
REFRESH_PREFIX = "iamr_"
ORGANIZATION_TOKEN_PREFIX = "iamo_"
#: The lifetimes (days) of an organisation token and of the personal-token cap.
LIFETIMES = tuple(days for days, _label in LIFETIME_CHOICES)
#: How many repository patterns one organisation token may list.
MAX_TOKEN_PATTERNS = 50
MAX_EXPIRY_DAYS = 3650
DEFAULT_EXPIRY_DAYS = 90
LAST_USED_RESOLUTION = timedelta(minutes=1)


def looks_like_token(secret: str) -> bool:
    """Whether a credential has the access-token shape (and not an account password's)."""
    return secret.startswith(TOKEN_PREFIX) and len(secret) == len(TOKEN_PREFIX) + 43


def looks_like_organization_token(secret: str) -> bool:
    """Whether a credential has the organisation-token shape."""
    return secret.startswith(ORGANIZATION_TOKEN_PREFIX) and (
        len(secret) == len(ORGANIZATION_TOKEN_PREFIX) + 43
    )


def looks_like_refresh_token(secret: str) -> bool:
    """Whether a credential has the refresh-token shape."""
    return secret.startswith(REFRESH_PREFIX) and len(secret) == len(REFRESH_PREFIX) + 43


@transaction.atomic
def access_token_create(
    *,
    user,
    name: str,
    expires_days: int | None = None,
    expires_at=None,
    scope: str = TokenScope.WRITE,
) -> tuple[AccessToken, str]:
    """Create a token for ``user``; returns it with its secret, which is never stored.

    It expires ``expires_days`` days from now or at ``expires_at`` (at most one of them; neither:
    never). ``scope`` is :class:`TokenScope` ``repo:read`` or ``repo:write`` (the default, what
    tokens could always do).
    """
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. 'laptop' or 'ci'."})
    if len(name) > 100:
        raise ValidationError({"name": "Token names are at most 100 characters."})
    if scope not in TokenScope.values:
        raise ValidationError(
            {"scope": f"The scope must be one of {', '.join(TokenScope.values)}."}
        )
    now = timezone.now()
    if expires_days is not None:
        if expires_at is not None:
            raise ValueError("Give expires_days or expires_at, not both.")
        if not 1 <= expires_days <= MAX_EXPIRY_DAYS:
            raise ValidationError(
                {"expires_days": f"Expiry must be between 1 and {MAX_EXPIRY_DAYS} days."}
            )
        expires_at = now + timedelta(days=expires_days)
    elif expires_at is not None and not now < expires_at <= now + timedelta(days=MAX_EXPIRY_DAYS):
        raise ValidationError(
            {
                "expires_at": "The expiry must be in the future and at most "
                f"{MAX_EXPIRY_DAYS} days away."
            }
        )
    if not user.is_active:
        raise ValidationError("Deactivated accounts cannot create tokens.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            token = AccessToken.objects.create(
                user=user,
                name=name,
                secret_hash=secret_digest(secret),
                hint=secret[-4:],
                expires_at=expires_at,
                scope=scope,
            )
    except IntegrityError as exc:
        raise ValidationError(
            {"name": f"You already have an active token named '{name}'."}
        ) from exc
    return token, secret


@transaction.atomic
def access_token_revoke(*, token: AccessToken) -> AccessToken:
    """Revoke a token and the registry sessions it opened; they stop working at once.
    Revoking twice changes nothing."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        token.refresh_tokens.filter(revoked_at__isnull=True).update(revoked_at=token.revoked_at)
    return token


@transaction.atomic
def user_tokens_revoke(*, user) -> int:
    """Revoke every access token of ``user`` that is not revoked yet and end every open
    registry session (including those opened with the password); returns how many access
    tokens were revoked. The token service reads ``revoked_at`` on every request (no cache), so
    they are refused at once on every node."""
    now = timezone.now()
    revoked = AccessToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    RefreshToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    return revoked


def inactive_tokens_q(now) -> Q:
    """Tokens that no longer work: revoked, or past their expiry (see ``token_status``)."""
    return Q(revoked_at__isnull=False) | Q(expires_at__lte=now)


@transaction.atomic
def access_token_delete(*, token: AccessToken) -> AccessToken:
    """Delete a revoked or expired token from its owner's list, with the registry sessions it
    opened (they no longer work either). A token that still works must be revoked first."""
    if token.status == "active":
        raise ValidationError(
            f"Token '{token.name}' still works: revoke it before deleting it.", code="active"
        )
    token.delete()
    return token


@transaction.atomic
def access_tokens_delete_inactive(*, user) -> int:
    """Delete every revoked or expired token of ``user`` (and their sessions); returns how
    many tokens went. Having none to delete is an error, so a stale page can't claim it."""
    tokens = AccessToken.objects.filter(inactive_tokens_q(timezone.now()), user=user)
    count = tokens.count()
    if not count:
        raise ValidationError("You have no revoked or expired tokens.", code="none")
    tokens.delete()
    return count


def access_token_record_use(*, token_id: int, last_used_at) -> None:
    """Record that a token was used, at most once a minute, so that a busy client does not
    turn every registry request into a write."""
    now = timezone.now()
    if last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION:
        AccessToken.objects.filter(pk=token_id).update(last_used_at=now)


def refresh_token_create(
    *, user_id: int, access_token_id: int | None, client_id: str, password_binding: str = ""
) -> tuple[RefreshToken, str]:
    """Open a registry session for the user who has just signed in at the token service with
    the access token ``access_token_id``, or with the account password (``access_token_id``
    None, ``password_binding`` from :func:`tokens.selectors.password_binding`: the session
    then ends when the password changes, and after ``REGISTRY_PASSWORD_SESSION_DAYS``).
    Returns it with its secret, which is never stored. ``client_id`` is what the client calls
    itself (checked by the token service)."""
    if access_token_id is None and not password_binding:
        raise ValueError("a session opened with the password must be bound to it")
    secret = REFRESH_PREFIX + secrets.token_urlsafe(32)
    session = RefreshToken.objects.create(
        user_id=user_id,
        access_token_id=access_token_id,
        client_id=client_id,
        secret_hash=secret_digest(secret),
        password_binding="" if access_token_id is not None else password_binding,
        expires_at=(
            None
            if access_token_id is not None
            else timezone.now() + timedelta(days=settings.REGISTRY_PASSWORD_SESSION_DAYS)
        ),
    )
    return session, secret


def refresh_token_revoke(*, session: RefreshToken) -> RefreshToken:
    """End a registry session; its refresh token stops working at once. Twice changes nothing."""
    if session.revoked_at is None:
        session.revoked_at = timezone.now()
        session.save(update_fields=["revoked_at"])
    return session


def refresh_token_record_use(*, session_id: int, last_used_at) -> None:
    """Record that a refresh token was used, at most once a minute (as for access tokens)."""
    now = timezone.now()
    if last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION:
        RefreshToken.objects.filter(pk=session_id).update(last_used_at=now)


# --- organisation tokens and the organisation's token rules --------------------------------


def _record(organization: Organization, actor, changes: dict) -> None:
    """A token event in the organisation's history (not a change of what members may pull:
    the policy version stays)."""
    record_change(
        organization=organization,
        actor=actor,
        changes=changes,
        bump=False,
        policy=policy_for_organization(organization=organization),
    )


def repository_patterns(patterns: str | Sequence[str]) -> tuple[str, ...]:
    """The normalised patterns of ``patterns``: a list, or a text with one a line (or
    separated by spaces or commas); without repeats, in the order given.

    :raises ValidationError: for a pattern :func:`policies.patterns.parse_pattern` refuses, or
        more than :data:`MAX_TOKEN_PATTERNS` of them.
    """
    words = patterns.replace(",", " ").split() if isinstance(patterns, str) else patterns
    found: dict[str, None] = {}
    for word in words:
        try:
            found[parse_pattern(word).text] = None
        except InvalidPattern as error:
            raise ValidationError({"repositories": str(error)}) from None
    if len(found) > MAX_TOKEN_PATTERNS:
        raise ValidationError(
            {"repositories": f"A token lists at most {MAX_TOKEN_PATTERNS} patterns."}
        )
    return tuple(found)


def _token_record(token: OrganizationToken) -> dict:
    return {
        "name": token.name,
        "scope": token.scope,
        "repositories": list(token.patterns),
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "hint": token.hint,
    }


@transaction.atomic
def organization_token_create(
    *,
    organization: Organization,
    actor,
    name: str,
    scope: str = TokenScope.READ,
    repositories: str | Sequence[str] = "",
    expires_days: int | None,
) -> tuple[OrganizationToken, str]:
    """Create an access token owned by ``organization`` (``actor``, an owner, is recorded as
    its creator, and in the history); returns it with its secret, which is never stored.

    ``scope``: ``repo:read`` pulls, ``repo:write`` also pushes (to the organisation's
    namespace only). ``repositories``: patterns that limit it (empty: none). ``expires_days``
    is one of :data:`LIFETIMES`, or None (never) where the organisation allows it.
    """
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. 'ci-pipeline'."})
    if len(name) > 100:
        raise ValidationError({"name": "Token names are at most 100 characters."})
    if scope not in TokenScope.values:
        raise ValidationError(
            {"scope": f"The scope must be one of {', '.join(TokenScope.values)}."}
        )
    patterns = repository_patterns(repositories or "")
    if expires_days is None:
        if not token_policy_of(organization=organization).allow_non_expiring:
            raise ValidationError(
                {
                    "expires_days": f"{organization.name} does not allow tokens that never "
                    "expire: choose an expiry (an owner can allow them in the token settings)."
                }
            )
        expires_at = None
    elif expires_days in LIFETIMES:
        expires_at = timezone.now() + timedelta(days=expires_days)
    else:
        raise ValidationError(
            {"expires_days": "The expiry must be 30 days, 90 days, 1 year or never."}
        )
    secret = ORGANIZATION_TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            token = OrganizationToken.objects.create(
                organization=organization,
                name=name,
                scope=scope,
                repositories="\n".join(patterns),
                secret_hash=secret_digest(secret),
                hint=secret[-4:],
                created_by=actor,
                created_by_username=actor.get_username(),
                expires_at=expires_at,
            )
    except IntegrityError as exc:
        raise ValidationError(
            {"name": f"{organization.name} already has an active token named '{name}'."}
        ) from exc
    _record(organization, actor, {"org_token_created": _token_record(token)})
    return token, secret


@transaction.atomic
def organization_token_revoke(*, token: OrganizationToken, actor) -> OrganizationToken:
    """Revoke an organisation token: it stops working at once. Recorded in the history;
    revoking twice changes nothing."""
    revoked = OrganizationToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by_username=actor.get_username()
    )
    token.refresh_from_db(fields=["revoked_at", "revoked_by_username"])
    if revoked:
        _record(token.organization, actor, {"org_token_revoked": _token_record(token)})
    return token


def organization_token_record_use(*, token_id: int, last_used_at) -> None:
    """Record that an organisation token was used, at most once a minute."""
    now = timezone.now()
    if last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION:
        OrganizationToken.objects.filter(pk=token_id).update(last_used_at=now)


@transaction.atomic
def token_policy_update(
    *,
    organization: Organization,
    actor,
    allow_non_expiring: bool,
    personal_token_max_days: int | None,
    expected_version: int | None = None,
) -> tuple[OrganizationTokenPolicy, bool]:
    """Save the organisation's token rules, as edited from ``expected_version`` (None: the
    current one); returns them and whether anything changed (a change is recorded in the
    history and bumps the version). Refuses an edit made from an older version. Tokens already
    made keep their expiry; the cap on personal tokens applies from the next request."""
    if personal_token_max_days is not None and personal_token_max_days not in LIFETIMES:
        raise ValidationError(
            {"personal_token_max_days": "Choose 30 days, 90 days, 1 year or no limit."}
        )
    policy, _created = OrganizationTokenPolicy.objects.select_for_update().get_or_create(
        organization=organization
    )
    if expected_version is not None and policy.version != expected_version:
        raise ValidationError(
            "Someone else changed the token rules while you were editing. Your changes were "
            "not saved: review the current rules below and save again.",
            code="stale",
        )
    values = {
        "allow_non_expiring": bool(allow_non_expiring),
        "personal_token_max_days": personal_token_max_days,
    }
    changes = {
        field: {"from": getattr(policy, field), "to": value}
        for field, value in values.items()
        if getattr(policy, field) != value
    }
    if not changes:
        return policy, False
    for field, value in values.items():
        setattr(policy, field, value)
    policy.version += 1
    policy.save()
    _record(organization, actor, {"token_policy": changes})
    return policy, True


@transaction.atomic
def member_token_revoke(
    *,
    organization: Organization,
    token: AccessToken,
    actor,
    site_url: str = "",
    on_failure: OnFailure | None = None,
) -> AccessToken:
    """An owner of ``organization`` revokes a member's personal access token (everywhere: a
    personal token is not per organisation) and the registry sessions it opened. The member
    is e-mailed once this commits and sees it on their tokens page; the history records it.

    :raises ValidationError: the token is not a member's, or is already revoked.
    """
    if not is_member_token(organization=organization, token=token):
        raise ValidationError("That token is not a member's of this organization.", code="other")
    if token.revoked_at is not None:
        raise ValidationError(f"Token '{token.name}' is already revoked.", code="revoked")
    access_token_revoke(token=token)
    AccessToken.objects.filter(pk=token.pk).update(revoked_by_organization=organization.name)
    token.revoked_by_organization = organization.name
    _record(
        organization,
        actor,
        {
            "member_token_revoked": {
                "user": token.user.get_username(),
                "name": token.name,
                "hint": token.hint,
            }
        },
    )
    notify_member_of_revocation(
        token=token,
        organization=organization,
        actor=actor,
        site_url=site_url,
        on_failure=on_failure,
    )
    return token
