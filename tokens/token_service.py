"""The registry's token service (Distribution token authentication, ``GET /auth/token``).

The registry sends clients here; they authenticate with Basic auth (username and access token,
or the account password) and ask for ``scope=repository:NAME:ACTIONS``. The answer is a JWT
signed with the portal's key whose ``access`` claim holds only what the policy grants.
"""

import base64
import binascii
import functools
import logging

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import DatabaseError
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from policies.selectors import pull_snapshot
from tokens.grants import Requester, grant_access, repository_references
from tokens.services import access_token_authenticate, looks_like_token
from tokens.signing import (
    SigningKey,
    issue_registry_token,
    load_signing_key,
    parse_scopes,
    token_response,
)

logger = logging.getLogger(__name__)
REALM = 'Bearer realm="iam-portal"'


def error_response(status: int, code: str, message: str) -> JsonResponse:
    """The protocol's error body, ``{"errors": [{"code", "message"}]}``."""
    response = JsonResponse({"errors": [{"code": code, "message": message}]}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="iam-portal"'
    return response


@functools.cache
def signing_key(key_file: str, cert_file: str) -> SigningKey:
    """The token-signing key, loaded once per process."""
    return load_signing_key(key_file, cert_file)


def basic_credentials(header: str) -> tuple[str, str] | None:
    """``(username, secret)`` from an ``Authorization: Basic`` header; None if malformed."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, secret = decoded.partition(":")
    if not sep or not username or not secret:
        return None
    return username, secret


@never_cache
@require_safe
def token(request):
    """Issue a registry bearer token for the requested scopes, granting what the policy allows."""
    service = request.GET.get("service")
    if service is not None and service != settings.REGISTRY_SERVICE:
        return error_response(400, "UNSUPPORTED", f"Unknown service {service[:100]!r}.")
    try:
        scopes = parse_scopes(request.GET.getlist("scope"))
    except ValueError as error:
        return error_response(400, "INVALID_SCOPE", str(error))
    try:
        key = signing_key(
            str(settings.TOKEN_SIGNING_KEY_FILE), str(settings.TOKEN_SIGNING_CERT_FILE)
        )
    except (OSError, ValueError) as error:
        logger.error("Token signing key unavailable: %s", error)
        return error_response(503, "UNAVAILABLE", "The token service is not configured.")

    header = request.headers.get("Authorization", "")
    try:
        if header:
            credentials = basic_credentials(header)
            if credentials is None:
                return error_response(401, "UNAUTHORIZED", "Malformed Basic credentials.")
            user = authenticate_client(request, *credentials)
            if user is None:
                return error_response(401, "UNAUTHORIZED", "invalid username or access token")
        elif settings.ANONYMOUS_PULLS:
            user = None
        else:
            return error_response(
                401,
                "UNAUTHORIZED",
                "sign-in required: log in with your portal username and an access token",
            )
        references = repository_references(scopes)
        snapshot = pull_snapshot(user=user, references=references.values())
    except DatabaseError:
        logger.exception("Token request failed: database unavailable")
        return error_response(503, "UNAVAILABLE", "The token service is temporarily unavailable.")

    requester = Requester(snapshot=snapshot, is_staff=bool(user and user.is_staff))
    access = grant_access(requester, scopes, references)
    jwt, claims = issue_registry_token(
        key=key,
        issuer=settings.TOKEN_ISSUER,
        service=settings.REGISTRY_SERVICE,
        subject=user.get_username() if user else "",
        access=access,
        ttl_seconds=settings.TOKEN_TTL_SECONDS,
    )
    return JsonResponse(token_response(jwt, claims))


def authenticate_client(request, username: str, secret: str):
    """An access token (cheap: one indexed lookup), else the account password (slow by design)."""
    if looks_like_token(secret):
        return access_token_authenticate(username=username, secret=secret)
    user = authenticate(request, username=username, password=secret)
    return user if user is not None and user.is_active else None
