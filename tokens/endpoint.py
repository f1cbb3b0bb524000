"""The registry's token service (``/auth/token``).

The registry sends clients to the token service. They sign in by ``GET`` with Basic auth
(username and access token, or the account password) or by ``POST`` with the OAuth2 form
(:mod:`tokens.protocol`), and ask for ``scope=repository:NAME:ACTIONS``. Both flows go through
:func:`issue_token`: the answer is a JWT signed with the portal's key whose ``access`` claim
holds only what the policy grants.
"""

import functools
import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import DatabaseError, Error
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from activity.decisions import Caller, DecisionBacklog, pull_decisions_record
from activity.models import PullDecision
from policies.engine import PullSnapshot
from policies.selectors import pull_snapshot
from portal import throttle
from portal.middleware import printable
from tokens.grants import Requester, grant_access
from tokens.models import TokenScope
from tokens.protocol import (
    Password,
    RefreshGrant,
    Refusal,
    TokenRequest,
    granted_scope,
    read_get,
    read_post,
    unauthorized,
)
from tokens.selectors import TokenHolder, session_holder_snapshot, token_holder_snapshot
from tokens.services import (
    access_token_record_use,
    looks_like_refresh_token,
    looks_like_token,
    refresh_token_create,
    refresh_token_record_use,
)
from tokens.signing import current_signing_key, issue_registry_token, token_response

logger = logging.getLogger(__name__)


ALLOWED_METHODS = "GET, HEAD, POST"


def error_response(status: int, code: str, message: str) -> JsonResponse:
    """The protocol's error body, ``{"errors": [{"code", "message"}]}``."""
    response = JsonResponse({"errors": [{"code": code, "message": message}]}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="iam-portal"'
    return response


def no_store(view):
    """Token responses carry credentials: ``Cache-Control: no-store`` and ``Pragma: no-cache``
    (RFC 6749, 5.1), set directly on every answer, errors included."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response

    return wrapper


class ServiceUnavailable(Refusal):
    """503: something the token service needs is down; ``detail`` is for the log only."""

    def __init__(self, message: str, detail: str):
        super().__init__(503, "UNAVAILABLE", message)
        self.detail = detail


class Locked(Refusal):
    """429: the account is locked from this address (:mod:`portal.throttle`)."""

    def __init__(self, lockout: throttle.Lockout):
        super().__init__(429, "TOOMANYREQUESTS", lockout.message)
        self.retry_after = lockout.retry_after


@csrf_exempt  # a machine endpoint: it reads no cookie, so there is no session to ride on
@no_store
def registry_token(request):
    """``GET`` (Distribution token flow) or ``POST`` (OAuth2 flow) ``/auth/token``: read the
    request, then the one path for both, :func:`issue_token`. Every refusal is answered in the
    protocol's JSON and logged once, without a traceback."""
    asked = None
    try:
        if request.method in ("GET", "HEAD"):
            # META directly: request.headers would first copy every header of the request.
            asked = read_get(request.GET, request.META.get("HTTP_AUTHORIZATION", ""))
        elif request.method == "POST":
            asked = read_post(request.POST)
        else:
            raise Refusal(405, "UNSUPPORTED", f"Method {request.method[:20]} is not allowed here.")
        return issue_token(request, asked)
    except Refusal as refusal:
        credentials = asked.credentials if asked is not None else None
        who = credentials.username if isinstance(credentials, Password) else None
        logger.log(
            logging.ERROR if refusal.status >= 500 else logging.INFO,
            "Token request refused (%s, %d %s) for %s from %s: %s",
            request.method,
            refusal.status,
            refusal.code,
            f"'{printable(who)}'" if who else "(no username)",
            printable(throttle.client_address(request)),
            getattr(refusal, "detail", refusal.message),
        )
        response = error_response(refusal.status, refusal.code, refusal.message)
        response._has_been_logged = True  # logged above: not again by django.request
        if refusal.status == 405:
            response["Allow"] = ALLOWED_METHODS
        if isinstance(refusal, Locked):
            response["Retry-After"] = str(refusal.retry_after)
        return response


SIGNED_IN_WITH = PullDecision.SignIn


@dataclass(frozen=True)
class SignIn:
    """Who signed in at the token service, and with what."""

    requester: Requester
    signed_in_with: str  # a PullDecision.SignIn value
    user_id: int | None = None  # None: anonymous
    access_token_id: int | None = None  # the access token used, or that opened the session
    refresh_token: str | None = None  # the refresh token presented, if that was the credential
    credential: str = ""  # the access token's name, or the registry session's client


def issue_token(request, asked: TokenRequest) -> JsonResponse:
    """Identify the requester, grant what the policy allows for each scope, sign the token.

    :raises Refusal: with the status and message to answer.
    """
    if asked.service is not None and asked.service != settings.REGISTRY_SERVICE:
        raise Refusal(400, "UNSUPPORTED", f"Unknown service {asked.service[:100]!r}.")
    try:
        key = current_signing_key()
    except (OSError, ValueError) as error:
        raise ServiceUnavailable(
            "The token service is not configured.", f"Token signing key unavailable: {error}"
        ) from None
    references = [scope.reference for scope in asked.scopes if scope.reference is not None]
    try:
        sign_in = identify(request, asked.credentials, references)
    except DatabaseError as error:
        raise ServiceUnavailable(
            "The token service is temporarily unavailable.", f"database unavailable: {error}"
        ) from None
    except throttle.ThrottleUnavailable as error:
        raise ServiceUnavailable(
            "The token service is temporarily unavailable.",
            f"sign-in failure counters unavailable: {error}",
        ) from None

    requester = sign_in.requester
    grant = grant_access(requester, asked.scopes)
    if grant.refusals:
        logger.info("Refused to %r: %s", requester.snapshot.username, "; ".join(grant.refusals))
    if settings.DECISION_LOG_ENABLED:
        record_decisions(request, sign_in, grant)
    jwt, claims = issue_registry_token(
        key=key,
        issuer=settings.TOKEN_ISSUER,
        service=settings.REGISTRY_SERVICE,
        subject=requester.snapshot.username,
        access=grant.access,
        ttl_seconds=settings.TOKEN_TTL_SECONDS,
    )
    body = token_response(jwt, claims)
    body["scope"] = granted_scope(grant.access)
    if asked.offline and sign_in.user_id is not None:
        body["refresh_token"] = sign_in.refresh_token or open_session(sign_in, asked.client_id)
    return HttpResponse(json.dumps(body), content_type="application/json")


def record_decisions(request, sign_in: SignIn, grant) -> None:
    """Record the request's pull decisions (:mod:`tokens.decisions`). A decision that cannot be
    recorded is not handed out: the request is refused with 503, like any other database
    failure (and when too many decisions wait to be written)."""
    caller = Caller(
        user_id=sign_in.user_id,
        username=sign_in.requester.snapshot.username,
        signed_in_with=sign_in.signed_in_with,
        credential=sign_in.credential,
        client_address=throttle.client_address(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    try:
        pull_decisions_record(
            caller=caller, snapshot=sign_in.requester.snapshot, decisions=grant.decisions
        )
    except (Error, DecisionBacklog) as error:
        raise ServiceUnavailable(
            "The token service is temporarily unavailable.",
            f"pull decisions could not be recorded: {error}",
        ) from None


def open_session(sign_in: SignIn, client_id: str) -> str:
    """A new refresh token for a sign-in with ``access_type=offline`` (``offline_token=true``)."""
    try:
        return refresh_token_create(
            user_id=sign_in.user_id,
            access_token_id=sign_in.access_token_id,
            client_id=client_id,
        )[1]
    except DatabaseError as error:
        raise ServiceUnavailable(
            "The token service is temporarily unavailable.", f"database unavailable: {error}"
        ) from None


def refuse_if_locked(request, username: str) -> None:
    """429 when this account is locked from this address: one cache read."""
    locked = throttle.lockout(request, username)
    if locked is not None:
        raise Locked(locked)


def identify(request, credentials, references) -> SignIn:
    """Who is asking, with their pull snapshot.

    An access token costs one cache read (the lockout) and one query for the token, its user
    and their memberships (plus one for verified publishers when a namespace could be one); a
    refresh token the same; the account password, a deliberately slow hash, checked only when
    the account is not locked from this address. No credentials (allowed only with
    ANONYMOUS_PULLS) make a user in no organisation.

    :raises Refusal: 401 for wrong credentials, 429 when locked.
    """
    if credentials is None:
        if not settings.ANONYMOUS_PULLS:
            raise unauthorized(
                "sign-in required: log in with your portal username and an access token"
            )
        return SignIn(
            requester=Requester(snapshot=PullSnapshot(username="", as_of=timezone.now())),
            signed_in_with=SIGNED_IN_WITH.ANONYMOUS,
        )
    if isinstance(credentials, RefreshGrant):
        return identify_session(request, credentials.secret, references)

    username, secret = credentials.username, credentials.secret
    refuse_if_locked(request, username)
    if looks_like_token(secret):
        found = token_holder_snapshot(secret=secret, references=references)
        if found is None or found[0].username != username:
            raise unauthorized("invalid username or access token")
        holder, snapshot = found
        access_token_record_use(token_id=holder.token_id, last_used_at=holder.last_used_at)
        throttle.clear_failures(request, username)
        return SignIn(
            requester=holder_requester(holder, snapshot),
            signed_in_with=SIGNED_IN_WITH.ACCESS_TOKEN,
            user_id=holder.user_id,
            access_token_id=holder.token_id,
            credential=holder.credential,
        )
    if not settings.REGISTRY_PASSWORD_AUTH:
        raise unauthorized("invalid username or access token (sign in with an access token)")
    user = authenticate(request, username=username, password=secret)
    if user is None:
        refuse_if_locked(request, username)  # this failure may have been the one that locks
        raise unauthorized("invalid username or access token")
    throttle.clear_failures(request, username)
    return SignIn(
        requester=Requester(
            snapshot=pull_snapshot(user=user, references=references), is_staff=user.is_staff
        ),
        signed_in_with=SIGNED_IN_WITH.PASSWORD,
        user_id=user.pk,
    )


def holder_requester(holder: TokenHolder, snapshot: PullSnapshot) -> Requester:
    """The requester signed in with an access token or a registry session: a ``repo:read``
    token never pushes."""
    return Requester(
        snapshot=snapshot, is_staff=holder.is_staff, read_only=holder.scope == TokenScope.READ
    )


def identify_session(request, secret: str, references) -> SignIn:
    """A refresh-token grant: the session's holder, decided again like any sign-in. A wrong
    refresh token names no account, so it is not counted against one."""
    found = (
        session_holder_snapshot(secret=secret, references=references)
        if looks_like_refresh_token(secret)
        else None
    )
    if found is None:
        raise unauthorized("invalid or revoked refresh token")
    holder, snapshot = found
    refuse_if_locked(request, holder.username)
    refresh_token_record_use(session_id=holder.token_id, last_used_at=holder.last_used_at)
    throttle.clear_failures(request, holder.username)
    return SignIn(
        requester=holder_requester(holder, snapshot),
        signed_in_with=SIGNED_IN_WITH.REFRESH_TOKEN,
        user_id=holder.user_id,
        access_token_id=holder.access_token_id,
        refresh_token=secret,
        credential=holder.credential,
    )
