"""Writes and checks for personal access tokens."""

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tokens.models import AccessToken

TOKEN_PREFIX = "iamp_"
MAX_EXPIRY_DAYS = 3650
LAST_USED_RESOLUTION = timedelta(minutes=1)


def secret_digest(secret: str) -> str:
    """The stored form of a secret: its SHA-256 digest in hex."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def looks_like_token(secret: str) -> bool:
    """Whether a credential has the access-token shape (and not an account password's)."""
    return secret.startswith(TOKEN_PREFIX) and len(secret) == len(TOKEN_PREFIX) + 43


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


def access_token_revoke(*, token: AccessToken) -> AccessToken:
    """Revoke a token; it stops working at once. Revoking twice changes nothing."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def access_token_record_use(*, token_id: int, last_used_at) -> None:
    """Record that a token was used, at most once a minute, so that a busy client does not
    turn every registry request into a write."""
    now = timezone.now()
    if last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION:
        AccessToken.objects.filter(pk=token_id).update(last_used_at=now)
