"""Who calls the API: signing in at ``POST /v2/auth/token`` and reading an
``Authorization: Bearer`` header.

A caller is a user with, or without, the access token they signed in with. Without one (the
account password, or a signed-in browser session) they can do what the pages let them do;
with one, its scope limits them (``repo:read``: reads only), and an access token cannot manage
access tokens, as on Docker Hub (a leaked token must not be able to mint others that outlive
its revocation). Signing in follows the one rule of :mod:`tokens.authentication`; a bearer made
with the password is bound to it, so a password change or reset ends it.

An organisation access token (``iamo_…``) is no person: it is used directly as the bearer
(``POST /v2/auth/token`` makes bearers for people only), ``request.user`` is then an
:class:`OrganizationTokenUser` (anonymous to every view that looks for a person), and only
the views that say so (``organization_tokens = True``) accept it
(:class:`api.permissions.SignedIn`).
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.utils.crypto import salted_hmac

from api.bearer import InvalidBearer, issue_bearer, read_bearer
from tokens.authentication import SignInRefused, sign_in
from tokens.models import AccessToken
from tokens.protocol import Password
from tokens.selectors import (
    OrganizationTokenHolder,
    organization_token_holder,
    password_binding_holds,
    usable_access_token,
    usable_access_token_of,
)
from tokens.services import (
    access_token_record_use,
    looks_like_organization_token,
    looks_like_token,
    organization_token_record_use,
)


@dataclass(frozen=True)
class ApiCredential:
    """The caller: ``user``, and ``token`` when they signed in with an access token (directly,
    or through a bearer made from one); ``password_binding`` when they signed in with the
    password (:func:`tokens.selectors.password_binding`); ``organization_token`` (and an
    :class:`OrganizationTokenUser`) for an organisation token."""

    user: object
    token: AccessToken | None = None
    password_binding: str = ""
    organization_token: OrganizationTokenHolder | None = None

    @property
    def read_only(self) -> bool:
        return self.token is not None and self.token.read_only


class OrganizationTokenUser(AnonymousUser):
    """``request.user`` for an organisation token: no person, so a view that reads a person
    finds none; :attr:`label` names the token (``acme/ci-pipeline``)."""

    def __init__(self, holder: OrganizationTokenHolder):
        self.label = holder.label


def bearer_key() -> bytes:
    """The key that signs API bearers, derived from ``SECRET_KEY`` (rotating it ends them)."""
    return salted_hmac(
        "iam-portal.api.bearer", "signing key", secret=settings.SECRET_KEY, algorithm="sha256"
    ).digest()


def api_sign_in(request, *, identifier: str, secret: str) -> ApiCredential:
    """The user named ``identifier`` with ``secret`` (one of their access tokens, or their
    password while ``REGISTRY_PASSWORD_AUTH`` allows it), by the one sign-in rule
    (:func:`tokens.authentication.sign_in`). ``request`` is Django's request.

    :raises tokens.authentication.SignInRefused: 401, 429 or 503, with the message.
    """
    signed_in = sign_in(request, Password(identifier, secret))
    if signed_in.organization_token is not None:
        raise SignInRefused(
            401,
            "Organization access tokens need no bearer: send the token itself as "
            "'Authorization: Bearer iamo_...'.",
        )
    if signed_in.user is not None:
        return ApiCredential(user=signed_in.user, password_binding=signed_in.password_binding)
    token = usable_access_token_of(user_id=signed_in.user_id, token_id=signed_in.access_token_id)
    if token is None:  # revoked between the two reads
        raise SignInRefused(401, "Incorrect username or access token.")
    return ApiCredential(user=token.user, token=token)


def bearer_for(credential: ApiCredential) -> str:
    """A short-lived bearer (:mod:`api.bearer`) standing for ``credential``."""
    return issue_bearer(
        key=bearer_key(),
        issuer=settings.TOKEN_ISSUER,
        user_id=credential.user.pk,
        username=credential.user.get_username(),
        token_id=credential.token.pk if credential.token else None,
        password_binding=credential.password_binding,
    )


def from_bearer(value: str) -> ApiCredential | None:
    """The caller an ``Authorization: Bearer`` value stands for: an access token used directly
    or a bearer from :func:`bearer_for`, as long as the user is active, the access token (if
    any) still works, and the password it was made with (if any) is unchanged; None
    otherwise."""
    if looks_like_organization_token(value):
        holder = organization_token_holder(secret=value)
        if holder is None:
            return None
        organization_token_record_use(token_id=holder.token_id, last_used_at=holder.last_used_at)
        return ApiCredential(user=OrganizationTokenUser(holder), organization_token=holder)
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
    if not password_binding_holds(binding=claims.password_binding, password_hash=user.password):
        return None
    return ApiCredential(user=user, password_binding=claims.password_binding)
