"""Signing in with an access token, a refresh token or the account password: the one sign-in
rule of the registry's token service (``/auth/token``) and the API (``/v2/auth/token``).

* An **access token** (``iamp_…``) or a **refresh token** is 256 random bits: it cannot be
  guessed, so checking one costs a digest and one query, and it is never throttled nor refused
  because of anyone's failed passwords (nor while the throttle's cache is down).
* The **account password**, while ``REGISTRY_PASSWORD_AUTH`` allows it, goes through
  ``authenticate`` and so through :class:`core.throttle.ThrottledModelBackend`: refused
  while the account or the address is locked (before any hash), counted when wrong, bounded
  per process. What a password opens (a registry session, an API bearer) is bound to it
  (:func:`tokens.selectors.password_binding`), so a password change or reset ends it. A
  right password is still refused when the account must use single sign-on
  (:func:`orgs.selectors.password_sign_in_refusal`): the message says to use an access token.
  So is a refresh token of a registry session that the password opened.
* An **organisation token** (``iamo_…``) is 256 random bits too, checked the same way; the
  username is its organisation's name. It signs in no person: ``organization_token`` holds
  the token and its organisation's policy, and the token service decides its scopes as for a
  plain member of that organisation alone, within the token's scope and patterns.

The caller checks the request's scopes only after :func:`sign_in` has succeeded.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate

from activity.models import PullDecision
from core import throttle
from orgs.selectors import password_sign_in_refusal
from tokens.models import TokenScope
from tokens.protocol import Password, RefreshGrant
from tokens.selectors import (
    OrganizationTokenHolder,
    TokenHolder,
    access_token_holder,
    organization_token_holder,
    password_binding,
    session_holder,
)
from tokens.services import (
    access_token_record_use,
    looks_like_organization_token,
    looks_like_refresh_token,
    looks_like_token,
    organization_token_record_use,
    refresh_token_record_use,
)

SIGNED_IN_WITH = PullDecision.SignIn


class SignInRefused(Exception):
    """Sign-in refused: ``status`` 401 (wrong or unusable credentials), 429 (locked) or 503
    (busy), with a message for the client and, for 429 and 503, when to retry."""

    def __init__(self, status: int, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status, self.message, self.retry_after = status, message, retry_after


def _wrong(message: str) -> SignInRefused:
    return SignInRefused(401, message)


@dataclass(frozen=True)
class SignIn:
    """Who signed in, and with what.

    ``holder`` is set for an access token or a refresh token (their memberships are read with
    it); ``user`` for the account password; ``organization_token`` for an organisation token
    (``user_id`` None: no person signed in). ``access_token_id`` is the access token used, or
    the one that opened the session; ``password_binding`` is set when the password was the
    credential (what a session or bearer opened with it keeps of it).
    """

    user_id: int | None
    username: str
    is_staff: bool
    signed_in_with: str  # a PullDecision.SignIn value
    read_only: bool = False
    access_token_id: int | None = None
    refresh_token: str | None = None  # the refresh token presented, if that was the credential
    credential: str = ""  # the access token's name, or the registry session's client
    holder: TokenHolder | None = None
    user: object = None
    password_binding: str = ""
    organization_token: OrganizationTokenHolder | None = None


def _from_holder(holder: TokenHolder, signed_in_with: str, refresh_token=None) -> SignIn:
    return SignIn(
        user_id=holder.user_id,
        username=holder.username,
        is_staff=holder.is_staff,
        signed_in_with=signed_in_with,
        read_only=holder.scope == TokenScope.READ,
        access_token_id=holder.access_token_id,
        refresh_token=refresh_token,
        credential=holder.credential,
        holder=holder,
    )


def sign_in(request, credentials: Password | RefreshGrant) -> SignIn:
    """Who ``credentials`` (from ``request``, Django's request) belong to.

    :raises SignInRefused: 401 for wrong or unusable credentials, 429 while password sign-ins
        of the account or from the address are locked, 503 when every password-hashing slot
        of this process is busy.
    :raises django.db.DatabaseError: the database cannot be read.
    """
    if isinstance(credentials, RefreshGrant):
        holder = (
            session_holder(secret=credentials.secret)
            if looks_like_refresh_token(credentials.secret)
            else None
        )
        if holder is None:
            raise _wrong("Invalid or revoked refresh token.")
        if holder.access_token_id is None:  # opened with the password: refused like it
            refusal = password_sign_in_refusal(user_id=holder.user_id, username=holder.username)
            if refusal is not None:
                raise _wrong(refusal)
        refresh_token_record_use(session_id=holder.session_id, last_used_at=holder.last_used_at)
        return _from_holder(holder, SIGNED_IN_WITH.REFRESH_TOKEN, credentials.secret)

    username, secret = credentials.username, credentials.secret
    if looks_like_organization_token(secret):
        token = organization_token_holder(secret=secret)
        if token is None or token.policy.name != username:
            raise _wrong("Incorrect organization name or organization access token.")
        organization_token_record_use(token_id=token.token_id, last_used_at=token.last_used_at)
        return SignIn(
            user_id=None,
            username=token.label,
            is_staff=False,
            signed_in_with=SIGNED_IN_WITH.ORGANIZATION_TOKEN,
            read_only=token.scope == TokenScope.READ,
            credential=token.name,
            organization_token=token,
        )
    if looks_like_token(secret):
        holder = access_token_holder(secret=secret)
        if holder is None or holder.username != username:
            raise _wrong("Incorrect username or access token.")
        access_token_record_use(token_id=holder.access_token_id, last_used_at=holder.last_used_at)
        return _from_holder(holder, SIGNED_IN_WITH.ACCESS_TOKEN)

    if not settings.REGISTRY_PASSWORD_AUTH:
        raise _wrong("Incorrect username or access token (sign in with an access token).")
    _refuse_if_locked(request, username)
    try:
        user = authenticate(request, username=username, password=secret)
    except throttle.Busy as busy:
        raise SignInRefused(503, busy.message, busy.retry_after) from None
    except throttle.PasswordRefused as refused:  # single sign-on required: use an access token
        raise _wrong(refused.message) from None
    if user is None:
        _refuse_if_locked(request, username)  # this failure may have been the one that locks
        raise _wrong("Incorrect username or password.")
    return SignIn(
        user_id=user.pk,
        username=user.get_username(),
        is_staff=user.is_staff,
        signed_in_with=SIGNED_IN_WITH.PASSWORD,
        user=user,
        password_binding=password_binding(password_hash=user.password),
    )


def _refuse_if_locked(request, username: str) -> None:
    locked = throttle.password_lockout(request, username)
    if locked is not None:
        raise SignInRefused(429, locked.message, locked.retry_after)
