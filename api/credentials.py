"""Who calls the API: signing in at ``POST /v2/auth/token`` and reading an
``Authorization: Bearer`` header.

A caller is a user with, or without, the access token they signed in with. Without one (the
account password, or a signed-in browser session) they can do what the pages let them do;
with one, its scope limits them (``repo:read``: reads only), and an access token cannot manage
access tokens, as on Docker Hub (a leaked token must not be able to mint others that outlive
its revocation).
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.utils.crypto import salted_hmac

from api.bearer import InvalidBearer, issue_bearer, read_bearer
from portal import throttle
from tokens.models import AccessToken
from tokens.selectors import usable_access_token, usable_access_token_of
from tokens.services import access_token_record_use, looks_like_token


@dataclass(frozen=True)
class ApiCredential:
    """The caller: ``user``, and ``token`` when they signed in with an access token (directly,
    or through a bearer made from one)."""

    user: object
    token: AccessToken | None = None

    @property
    def read_only(self) -> bool:
        return self.token is not None and self.token.read_only


class BadCredentials(Exception):
    """Wrong or unusable credentials (401); the message says what to do."""


class LockedOut(Exception):
    """The account is locked from this address (429), see :mod:`portal.throttle`."""

    def __init__(self, lockout: throttle.Lockout):
        super().__init__(lockout.message)
        self.retry_after = lockout.retry_after


def bearer_key() -> bytes:
    """The key that signs API bearers, derived from ``SECRET_KEY`` (rotating it ends them)."""
    return salted_hmac(
        "iam-portal.api.bearer", "signing key", secret=settings.SECRET_KEY, algorithm="sha256"
    ).digest()


def _refuse_if_locked(request, username: str) -> None:
    locked = throttle.lockout(request, username)
    if locked is not None:
        raise LockedOut(locked)


def sign_in(request, *, identifier: str, secret: str) -> ApiCredential:
    """The user named ``identifier`` with ``secret``: one of their access tokens, or their
    password while ``REGISTRY_PASSWORD_AUTH`` allows it. Throttled like every sign-in: a
    locked account is refused before any check, a wrong password counts as a failure (a wrong
    access token does not: it cannot be guessed), a success clears the count. ``request`` is
    Django's request.

    :raises LockedOut: the account is locked from this address.
    :raises BadCredentials: otherwise refused.
    :raises throttle.ThrottleUnavailable: the failure counters cannot be read.
    """
    _refuse_if_locked(request, identifier)
    if looks_like_token(secret):
        token = usable_access_token(secret=secret)
        if token is None or token.user.get_username() != identifier:
            raise BadCredentials("Incorrect username or access token.")
        access_token_record_use(token_id=token.pk, last_used_at=token.last_used_at)
        throttle.clear_failures(request, identifier)
        return ApiCredential(user=token.user, token=token)
    if not settings.REGISTRY_PASSWORD_AUTH:
        raise BadCredentials("Incorrect username or access token (sign in with an access token).")
    user = authenticate(request, username=identifier, password=secret)
    if user is None:
        _refuse_if_locked(request, identifier)  # this failure may have been the one that locks
        raise BadCredentials("Incorrect username or password.")
    throttle.clear_failures(request, identifier)
    return ApiCredential(user=user)


def bearer_for(credential: ApiCredential) -> str:
    """A short-lived bearer (:mod:`api.bearer`) standing for ``credential``."""
    return issue_bearer(
        key=bearer_key(),
        issuer=settings.TOKEN_ISSUER,
        user_id=credential.user.pk,
        username=credential.user.get_username(),
        token_id=credential.token.pk if credential.token else None,
    )


def from_bearer(value: str) -> ApiCredential | None:
    """The caller an ``Authorization: Bearer`` value stands for: an access token used directly
    or a bearer from :func:`bearer_for`, as long as the user is active and the access token
    (if any) still works; None otherwise."""
    if looks_like_token(value):
        token = usable_access_token(secret=value)
        if token is None:
            return None
        access_token_record_use(token_id=token.pk, last_used_at=token.last_used_at)
        return ApiCredential(user=token.user, token=token)
    try:
        claims = read_bearer(key=bearer_key(), issuer=settings.TOKEN_ISSUER, token=value)
    except InvalidBearer:
        return None
    if claims.token_id is not None:
        token = usable_access_token_of(user_id=claims.user_id, token_id=claims.token_id)
        return ApiCredential(user=token.user, token=token) if token else None
    user = get_user_model().objects.filter(pk=claims.user_id, is_active=True).first()
    if user is None or user.get_username() != claims.username:
        return None
    return ApiCredential(user=user)
