"""Writes and checks for personal access tokens and registry sessions (refresh tokens)."""

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tokens.models import AccessToken, RefreshToken

TOKEN_PREFIX = "iamp_"
REFRESH_PREFIX = "iamr_"
MAX_EXPIRY_DAYS = 3650
LAST_USED_RESOLUTION = timedelta(minutes=1)


def secret_digest(secret: str) -> str:
    """The stored form of a secret: its SHA-256 digest in hex."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def looks_like_token(secret: str) -> bool:
    """Whether a credential has the access-token shape (and not an account password's)."""
    return secret.startswith(TOKEN_PREFIX) and len(secret) == len(TOKEN_PREFIX) + 43


def looks_like_refresh_token(secret: str) -> bool:
    """Whether a credential has the refresh-token shape."""
    return secret.startswith(REFRESH_PREFIX) and len(secret) == len(REFRESH_PREFIX) + 43


@transaction.atomic
def access_token_create(
    *, user, name: str, expires_days: int | None = None
) -> tuple[AccessToken, str]:
    """Create a token for ``user``; returns it with its secret, which is never stored."""
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. 'laptop' or 'ci'."})
    if len(name) > 100:
        raise ValidationError({"name": "Token names are at most 100 characters."})
    if expires_days is not None and not 1 <= expires_days <= MAX_EXPIRY_DAYS:
        raise ValidationError(
            {"expires_days": f"Expiry must be between 1 and {MAX_EXPIRY_DAYS} days."}
        )
    if not user.is_active:
        raise ValidationError("Deactivated accounts cannot create tokens.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
    try:
        with transaction.atomic():
            token = AccessToken.objects.create(
                user=user,
                name=name,
                secret_hash=secret_digest(secret),
                hint=secret[-4:],
                expires_at=expires_at,
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


def access_token_record_use(*, token_id: int, last_used_at) -> None:
    """Record that a token was used, at most once a minute, so that a busy client does not
    turn every registry request into a write."""
    now = timezone.now()
    if last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION:
        AccessToken.objects.filter(pk=token_id).update(last_used_at=now)


def refresh_token_create(
    *, user_id: int, access_token_id: int | None, client_id: str
) -> tuple[RefreshToken, str]:
    """Open a registry session for the user who has just signed in at the token service with
    the access token ``access_token_id`` (None: with the account password); returns it with
    its secret, which is never stored. ``client_id`` is what the client calls itself (checked
    by the token service)."""
    secret = REFRESH_PREFIX + secrets.token_urlsafe(32)
    session = RefreshToken.objects.create(
        user_id=user_id,
        access_token_id=access_token_id,
        client_id=client_id,
        secret_hash=secret_digest(secret),
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
