"""The registry's token service (``/auth/token``).

The registry sends clients to the token service. They sign in by ``GET`` with Basic auth
(username and access token, or the account password) or by ``POST`` with the OAuth2 form
(:mod:`tokens.protocol`), and ask for ``scope=repository:NAME:ACTIONS``. Both flows go through
:func:`issue_token`: the answer is a JWT signed with the portal's key whose ``access`` claim
holds only what the policy grants; or, for Docker Engine asking only for pulls the policy
refuses, a 403 with the reason, which it shows the member (:func:`refusal_response`).
"""

import functools
import json
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import DatabaseError, Error
from django.http import HttpResponse, JsonResponse, UnreadablePostError
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from activity.decisions import Caller, DecisionBacklog, pull_decisions_record
from core import throttle
from core.links import site_url
from core.middleware import no_content_security_policy, printable
from policies.engine import PullSnapshot
from policies.hub_cache import refusal_message
from policies.selectors import pull_snapshot
from tokens.authentication import SIGNED_IN_WITH, SignIn, SignInRefused, sign_in
from tokens.grants import Grant, Requester, grant_access, refused_as_a_whole
from tokens.protocol import (
    Password,
    Refusal,
    TokenRequest,
    granted_scope,
    read_get,
    read_post,
    requested_scopes,
    too_large,
    unauthorized,
)
from tokens.selectors import capped_organizations, holder_snapshot, organization_token_snapshot
from tokens.services import refresh_token_create
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


#: The largest ``POST`` body read: the form's fields with the scopes' bound
#: (:data:`tokens.scopes.MAX_SCOPE_BYTES`) and credentials fit in it many times over. A
#: longer one is refused before it is read.
MAX_BODY_BYTES = 64 * 1024
_FORM = "application/x-www-form-urlencoded"


def read_request(request) -> TokenRequest:
    """The request's parameters, or a refusal in the protocol's format: the body's length and
    type are checked before the form is read, so an oversized or odd body costs nothing.

    :raises Refusal: 405 for another method, 400 for a body that is too large, not a form, or
        unreadable (too many fields, bad encoding).
    """
    if request.method in ("GET", "HEAD"):
        # META directly: request.headers would first copy every header of the request.
        return read_get(request.GET, request.META.get("HTTP_AUTHORIZATION", ""))
    if request.method != "POST":
        raise Refusal(405, "UNSUPPORTED", f"Method {request.method[:20]} is not allowed here.")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = -1
    if not 0 <= length <= MAX_BODY_BYTES:
        raise too_large(f"The request body must be at most {MAX_BODY_BYTES} bytes.")
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if length and content_type != _FORM:
        raise Refusal(400, "INVALID_REQUEST", f"The OAuth2 token request must be sent as {_FORM}.")
    try:
        form = request.POST
    except (RequestDataTooBig, TooManyFieldsSent, UnreadablePostError, ValueError) as error:
        raise Refusal(400, "INVALID_REQUEST", f"Unreadable request body: {error}") from None
    return read_post(form)


@csrf_exempt  # a machine endpoint: it reads no cookie, so there is no session to ride on
@no_content_security_policy  # JSON for registries, never rendered: no policy to build
@no_store
def registry_token(request):
    """``GET`` (Distribution token flow) or ``POST`` (OAuth2 flow) ``/auth/token``: read the
    request, then the one path for both, :func:`issue_token`. Every refusal is answered in the
    protocol's JSON and logged once, without a traceback."""
    asked = None
    try:
        asked = read_request(request)
        return issue_token(request, asked)
    except Refusal as refusal:
        credentials = asked.credentials if asked is not None else None
        who = credentials.username if isinstance(credentials, Password) else None
        logger.log(
            logging.ERROR if refusal.status >= 500 else logging.INFO,
            "Token request refused (%s, %d %s) for %s from %s: %s",
            printable(request.method[:20]),
            refusal.status,
            refusal.code,
            f"'{printable(who)}'" if who else "(no username)",
            printable(throttle.client_address(request)),
            getattr(refusal, "detail", refusal.message),
        )
        request.refusal_logged = True  # core.logfilters: not again by django.request
        response = error_response(refusal.status, refusal.code, refusal.message)
        if refusal.status == 405:
            response["Allow"] = ALLOWED_METHODS
        if refusal.retry_after is not None:
            response["Retry-After"] = str(refusal.retry_after)
        return response


def issue_token(request, asked: TokenRequest) -> JsonResponse:
    """Identify the requester, then (only then) read the scopes, grant what the policy allows
    for each, and sign the token.

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
    try:
        signed_in = identify(request, asked.credentials)
        scopes = requested_scopes(asked)
        if logger.isEnabledFor(logging.DEBUG):  # the agent is escaped only when it is logged
            logger.debug(
                "Token request with %d scope(s) from %s",
                len(scopes),
                printable(request.META.get("HTTP_USER_AGENT", "")[:200]),
            )
        references = [scope.reference for scope in scopes if scope.reference is not None]
        requester = Requester(
            snapshot=requester_snapshot(signed_in, references),
            is_staff=signed_in.is_staff,
            read_only=signed_in.read_only,
            patterns=(
                signed_in.organization_token.patterns if signed_in.organization_token else ()
            ),
            capped=(
                capped_organizations(signed_in.holder, now=timezone.now())
                if signed_in.holder is not None
                else {}
            ),
        )
    except DatabaseError as error:
        raise ServiceUnavailable(
            "The token service is temporarily unavailable.", f"database unavailable: {error}"
        ) from None

    grant = grant_access(requester, scopes)
    if grant.refusals:
        logger.info("Refused to %r: %s", requester.snapshot.username, "; ".join(grant.refusals))
    if settings.DECISION_LOG_ENABLED:
        record_decisions(request, signed_in, requester, grant)
    refused = refusal_response(request, grant)
    if refused is not None:
        return refused
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
    if asked.offline and signed_in.user_id is not None:
        body["refresh_token"] = signed_in.refresh_token or open_session(signed_in, asked.client_id)
    return HttpResponse(json.dumps(body), content_type="application/json")


#: User agents that show the token service's refusal to the member: Docker Engine (and Docker
#: Desktop's) daemon prints a 403's ``details`` as ``denied: ...`` (docs/docker-hub-cache.md).
SHOWS_REFUSAL_REASON = ("docker/",)


def refusal_response(request, grant: Grant) -> JsonResponse | None:
    """A 403 carrying the policy's reason, for a client that shows it, when the request is
    refused as a whole; otherwise None, and the token leaves the refused scopes out (the spec's
    way, which every client reports as a bare "denied").

    Only then: a non-200 would also stop a request whose other scopes are granted, and skopeo
    and containerd show a 403's status without its body (skopeo even blames the password on a
    401)."""
    refused = refused_as_a_whole(grant)
    limited = grant.limits if not grant.access else []
    if not (refused or limited) or not request.META.get("HTTP_USER_AGENT", "").startswith(
        SHOWS_REFUSAL_REASON
    ):
        return None
    if refused:
        activity_url = site_url(reverse("activity:my_activity"))
        message = refusal_message(refused, activity_url=activity_url)
    else:  # refused before the engine: the token's patterns, a cap on personal tokens
        message = "; ".join(limited) + "."
    request.refusal_logged = True  # issue_token logged it; core.logfilters: not again
    return JsonResponse(
        {"errors": [{"code": "DENIED", "message": message}], "details": message}, status=403
    )


def requester_snapshot(signed_in: SignIn, references) -> PullSnapshot:
    """The pull snapshot of whoever signed in, for these references."""
    if signed_in.organization_token is not None:
        return organization_token_snapshot(signed_in.organization_token, references=references)
    if signed_in.holder is not None:
        return holder_snapshot(signed_in.holder, references=references)
    if signed_in.user is not None:
        return pull_snapshot(user=signed_in.user, references=references)
    return PullSnapshot(username="", as_of=timezone.now())


def record_decisions(request, signed_in: SignIn, requester: Requester, grant) -> None:
    """Record the request's pull decisions (:mod:`activity.decisions`). A decision that cannot be
    recorded is not handed out: the request is refused with 503, like any other database
    failure (and when too many decisions wait to be written)."""
    caller = Caller(
        user_id=signed_in.user_id,
        username=requester.snapshot.username,
        signed_in_with=signed_in.signed_in_with,
        credential=signed_in.credential,
        client_address=throttle.client_address(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    try:
        pull_decisions_record(caller=caller, snapshot=requester.snapshot, decisions=grant.decisions)
    except (Error, DecisionBacklog) as error:
        raise ServiceUnavailable(
            "The token service is temporarily unavailable.",
            f"pull decisions could not be recorded: {error}",
        ) from None


def open_session(signed_in: SignIn, client_id: str) -> str:
    """A new refresh token for a sign-in with ``access_type=offline`` (``offline_token=true``)."""
    try:
        return refresh_token_create(
            user_id=signed_in.user_id,
            access_token_id=signed_in.access_token_id,
            client_id=client_id,
            password_binding=signed_in.password_binding,
        )[1]
    except DatabaseError as error:
        raise ServiceUnavailable(
            "The token service is temporarily unavailable.", f"database unavailable: {error}"
        ) from None


ANONYMOUS = SignIn(
    user_id=None, username="", is_staff=False, signed_in_with=SIGNED_IN_WITH.ANONYMOUS
)


def identify(request, credentials) -> SignIn:
    """Who is asking (:func:`tokens.authentication.sign_in`). No credentials (allowed only with
    ``ANONYMOUS_PULLS``) make a user in no organisation.

    :raises Refusal: 401 for wrong credentials, 429 when locked, 503 when busy.
    """
    if credentials is None:
        if not settings.ANONYMOUS_PULLS:
            raise unauthorized(
                "sign-in required: log in with your portal username and an access token"
            )
        return ANONYMOUS
    try:
        return sign_in(request, credentials)
    except SignInRefused as refused:
        code = {401: "UNAUTHORIZED", 429: "TOOMANYREQUESTS"}.get(refused.status, "UNAVAILABLE")
        raise Refusal(
            refused.status, code, refused.message, retry_after=refused.retry_after
        ) from None
