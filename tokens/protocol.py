"""A token request as registry clients send it, read into one :class:`TokenRequest` (pure: the
caller passes the parameters and the ``Authorization`` header, no request object).

Two flows reach ``/auth/token`` and mean the same thing:

* ``GET`` (Distribution "token authentication", skopeo, podman, Docker Engine without an
  identity token): Basic credentials, ``scope`` parameters, ``offline_token=true`` for a
  refresh token, optional ``client_id``.
* ``POST`` (Distribution "OAuth2 token authentication", containerd, Docker Engine with an
  identity token): a form with ``grant_type=password`` (``username``, ``password``) or
  ``grant_type=refresh_token`` (``refresh_token``), ``scope`` (space-separated),
  ``client_id``, ``access_type=offline`` for a refresh token.

Whatever the flow, what is granted depends only on the credentials and the scopes.
"""

import base64
import binascii
import re
from dataclasses import dataclass

from core.text import CONTROL_CHARACTERS as _CONTROL_RE
from tokens.scopes import InvalidScope, Scope, TooManyScopes, check_scope_size, parse_scopes

MAX_USERNAME = 150  # Django's username field
MAX_SECRET = 1024
# RFC 6749 appendix A.1: client_id = *VSCHAR (printable ASCII); kept short, it is shown on a page.
_CLIENT_ID_RE = re.compile(r"[\x20-\x7e]{0,100}")


class Refusal(Exception):
    """A request the token service refuses: the HTTP status, the protocol's error code and a
    message for the client (also what is logged)."""

    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.retry_after = retry_after  # seconds, for a Retry-After header


def unauthorized(message: str) -> Refusal:
    return Refusal(401, "UNAUTHORIZED", message)


@dataclass(frozen=True)
class Password:
    """A username with a secret: an access token or the account password."""

    username: str
    secret: str


@dataclass(frozen=True)
class RefreshGrant:
    """A refresh token from an earlier sign-in with ``access_type=offline``."""

    secret: str


@dataclass(frozen=True)
class TokenRequest:
    """What a client asks for. ``credentials`` is None for a request without any (anonymous);
    ``offline`` asks for a refresh token as well. ``scope_values`` are the ``scope``
    parameters as sent, within the size bound but not parsed yet: the credentials are checked
    first, then :func:`requested_scopes` parses them."""

    credentials: Password | RefreshGrant | None
    scope_values: tuple[str, ...]
    service: str | None
    client_id: str
    offline: bool


def too_large(message: str) -> Refusal:
    return Refusal(400, "TOO_LARGE", message)


def requested_scopes(asked: TokenRequest) -> list[Scope]:
    """The request's scopes, parsed (at most :data:`tokens.scopes.MAX_SCOPES`).

    :raises Refusal: 400 for too many scopes or a malformed one.
    """
    try:
        return parse_scopes(list(asked.scope_values))
    except TooManyScopes as error:
        raise too_large(str(error)) from None
    except InvalidScope as error:
        raise Refusal(400, "INVALID_SCOPE", str(error)) from None


def _checked(value: str, limit: int) -> str:
    if not value or len(value) > limit or _CONTROL_RE.search(value):
        raise unauthorized("Malformed credentials.")
    return value


def basic_credentials(header: str) -> Password:
    """The ``Authorization: Basic`` header's username and secret.

    :raises Refusal: 401 for any other scheme, bad base64 or UTF-8, a missing part, control
        characters or an overlong value.
    """
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise unauthorized("Malformed credentials: expected HTTP Basic authentication.")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise unauthorized("Malformed credentials: invalid Basic encoding.") from None
    username, sep, secret = decoded.partition(":")
    if not sep:
        raise unauthorized("Malformed credentials: invalid Basic encoding.")
    return Password(_checked(username, MAX_USERNAME), _checked(secret, MAX_SECRET))


def _common(params, credentials, *, offline: bool) -> TokenRequest:
    client_id = params.get("client_id", "")
    if _CLIENT_ID_RE.fullmatch(client_id) is None:
        raise Refusal(
            400, "INVALID_REQUEST", "client_id must be at most 100 printable ASCII characters."
        )
    scope_values = params.getlist("scope")
    try:
        check_scope_size(scope_values)
    except TooManyScopes as error:
        raise too_large(str(error)) from None
    return TokenRequest(
        credentials=credentials,
        scope_values=tuple(scope_values),
        service=params.get("service"),
        client_id=client_id,
        offline=offline,
    )


def read_get(params, authorization: str) -> TokenRequest:
    """A ``GET``: ``params`` is the query (a QueryDict), ``authorization`` the header or ''."""
    credentials = basic_credentials(authorization) if authorization else None
    return _common(params, credentials, offline=params.get("offline_token", "") == "true")


def read_post(params) -> TokenRequest:
    """A ``POST``: ``params`` is the form (a QueryDict)."""
    grant_type = params.get("grant_type", "")
    if grant_type == "password":
        credentials = Password(
            _checked(params.get("username", ""), MAX_USERNAME),
            _checked(params.get("password", ""), MAX_SECRET),
        )
    elif grant_type == "refresh_token":
        credentials = RefreshGrant(_checked(params.get("refresh_token", ""), MAX_SECRET))
    else:
        raise Refusal(
            400,
            "UNSUPPORTED_GRANT_TYPE",
            f"grant_type must be 'password' or 'refresh_token' (got {grant_type[:40]!r}).",
        )
    return _common(params, credentials, offline=params.get("access_type", "") == "offline")


def granted_scope(access: list[dict]) -> str:
    """The response's ``scope``: what the token grants, as a space-separated scope list."""
    return " ".join(f"{e['type']}:{e['name']}:{','.join(e['actions'])}" for e in access)
