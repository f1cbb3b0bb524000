"""Writes and checks for personal access tokens and registry sessions (refresh tokens)."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from core.secrets import secret_digest
from tokens.models import AccessToken, RefreshToken, TokenScope

TOKEN_PREFIX = "iamp_"
REFRESH_PREFIX = "iamr_"
MAX_EXPIRY_DAYS = 3650
DEFAULT_EXPIRY_DAYS = 90
LAST_USED_RESOLUTION = timedelta(minutes=1)


def looks_like_token(secret: str) -> bool:
    """Whether a credential has the access-token shape (and not an account password's)."""
    return secret.startswith(TOKEN_PREFIX) and len(secret) == len(TOKEN_PREFIX) + 43


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
