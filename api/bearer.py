"""The API's short-lived bearer token, what ``POST /v2/auth/token`` returns (pure: no Django).

As on Docker Hub it is a JWT that expires in 10 minutes. It is signed with HS256 by a key the
caller derives from the portal's secret (see :func:`api.credentials.bearer_key`), so nothing
about it is stored: it names the user and the access token it was made from (``tid``), or, when the
account password was used, a digest bound to that password (``pwd``); every request checks
that they still hold, so revoking the access token, changing the password or deactivating the
account ends its bearers at once. The registry's
tokens (ES256, another audience) are never accepted here, nor these by the registry.
"""

import secrets
import time
from dataclasses import dataclass

import jwt

AUDIENCE = "iam-portal-api"
TTL_SECONDS = 600  # Docker Hub's: "The created access token. This expires in 10 minutes."
_ALGORITHM = "HS256"


class InvalidBearer(ValueError):
    """A bearer that is malformed, forged, expired, or not meant for this API."""


@dataclass(frozen=True)
class BearerClaims:
    """Who a valid bearer names: the user, and the access token it was made from (None: the
    account password)."""

    user_id: int
    username: str
    token_id: int | None
    password_binding: str = ""  # made with the password: what it keeps of it (``pwd``)


def issue_bearer(
    *,
    key: bytes,
    issuer: str,
    user_id: int,
    username: str,
    token_id: int | None,
    password_binding: str = "",
    now: int | None = None,
) -> str:
    """A signed bearer for ``user_id`` valid for :data:`TTL_SECONDS` from ``now``."""
    issued_at = int(time.time()) if now is None else now
    claims = {
        "iss": issuer,
        "aud": AUDIENCE,
        "sub": username,
        "uid": user_id,
        "iat": issued_at,
        "exp": issued_at + TTL_SECONDS,
        "jti": secrets.token_urlsafe(16),
    }
    if token_id is not None:
        claims["tid"] = token_id
    if password_binding:
        claims["pwd"] = password_binding
    return jwt.encode(claims, key, algorithm=_ALGORITHM)


def read_bearer(*, key: bytes, issuer: str, token: str) -> BearerClaims:
    """The claims of a bearer this portal signed and that has not expired.

    :raises InvalidBearer: for anything else (a bad signature, another algorithm, audience or
        issuer, an expired token, missing or mistyped claims).
    """
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[_ALGORITHM],
            audience=AUDIENCE,
            issuer=issuer,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        )
    except jwt.PyJWTError as error:
        raise InvalidBearer(str(error)) from None
    user_id, username, token_id = claims.get("uid"), claims["sub"], claims.get("tid")
    binding = claims.get("pwd", "")
    if (
        type(user_id) is not int
        or not isinstance(username, str)
        or (token_id is not None and type(token_id) is not int)
        or not isinstance(binding, str)
    ):
        raise InvalidBearer("malformed claims")
    return BearerClaims(
        user_id=user_id, username=username, token_id=token_id, password_binding=binding
    )
