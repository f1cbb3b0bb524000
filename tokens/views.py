"""Access tokens (list, create with the secret shown once, revoke) and the registry's token
service (``GET /auth/token``, the Distribution token authentication protocol).

The registry sends clients to the token service; they authenticate with Basic auth (username
and access token, or the account password) and ask for ``scope=repository:NAME:ACTIONS``. The
answer is a JWT signed with the portal's key whose ``access`` claim holds only what the policy
grants.
"""

import base64
import binascii
import functools
import logging

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import DatabaseError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_safe

from policies.engine import PullSnapshot
from policies.selectors import pull_snapshot
from portal.mixins import ConfirmActionView, Confirmation, ServiceFormView
from tokens.forms import AccessTokenCreateForm
from tokens.grants import Requester, grant_access
from tokens.models import AccessToken
from tokens.scopes import InvalidScope, parse_scopes
from tokens.selectors import token_holder_snapshot
from tokens.services import (
    access_token_create,
    access_token_record_use,
    access_token_revoke,
    looks_like_token,
)
from tokens.signing import SigningKey, issue_registry_token, load_signing_key, token_response

logger = logging.getLogger(__name__)


class AccessTokenListView(LoginRequiredMixin, ServiceFormView):
    """My access tokens, and the form to create one."""

    template_name = "tokens/token_list.html"
    form_class = AccessTokenCreateForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tokens"] = AccessToken.objects.filter(user=self.request.user)
        return context

    def perform(self, form):
        return access_token_create(user=self.request.user, **form.cleaned_data)

    def succeeded(self, result):
        token, secret = result
        # Rendered, not redirected: the secret must not travel through the session.
        context = self.get_context_data(form=self.get_form_class()(), token=token, secret=secret)
        response = self.render_to_response(context)
        add_never_cache_headers(response)
        response["Cache-Control"] += ", no-store"
        return response


class AccessTokenRevokeView(LoginRequiredMixin, ConfirmActionView):
    """Revoke one of my tokens (someone else's is a 404): GET explains, POST revokes."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.token = get_object_or_404(AccessToken, pk=kwargs["pk"], user=request.user)
        return super().dispatch(request, *args, **kwargs)

    def confirmation(self):
        return Confirmation(
            title=f"Revoke token '{self.token.name}' (iamp_…{self.token.hint})?",
            consequences=(
                "It stops working at once: registry clients signed in with it are refused "
                "until they sign in again with another token.",
                "A revoked token cannot be restored.",
            ),
            button="Revoke token",
            cancel_url=reverse("tokens:list"),
            refusal="This token is already revoked." if self.token.revoked_at else None,
        )

    def perform(self):
        return access_token_revoke(token=self.token)

    def get_success_message(self, result):
        return f"Token '{result.name}' revoked. It no longer works."

    def get_success_url(self, result):
        return reverse("tokens:list")


# --- the registry's token service -------------------------------------------------------------


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


@no_store
@require_safe
def registry_token(request):
    """Issue a registry bearer token for the requested scopes, granting what the policy allows."""
    service = request.GET.get("service")
    if service is not None and service != settings.REGISTRY_SERVICE:
        return error_response(400, "UNSUPPORTED", f"Unknown service {service[:100]!r}.")
    try:
        scopes = parse_scopes(request.GET.getlist("scope"))
    except InvalidScope as error:
        return error_response(400, "INVALID_SCOPE", str(error))
    try:
        key = signing_key(
            str(settings.TOKEN_SIGNING_KEY_FILE), str(settings.TOKEN_SIGNING_CERT_FILE)
        )
    except (OSError, ValueError) as error:
        logger.error("Token signing key unavailable: %s", error)
        return error_response(503, "UNAVAILABLE", "The token service is not configured.")

    header = request.headers.get("Authorization", "")
    if not header and not settings.ANONYMOUS_PULLS:
        return error_response(
            401,
            "UNAUTHORIZED",
            "sign-in required: log in with your portal username and an access token",
        )
    credentials = basic_credentials(header) if header else None
    if header and credentials is None:
        return error_response(401, "UNAUTHORIZED", "Malformed Basic credentials.")
    references = [scope.reference for scope in scopes if scope.reference is not None]
    try:
        requester = identify(request, credentials, references)
    except DatabaseError:
        logger.exception("Token request failed: database unavailable")
        return error_response(503, "UNAVAILABLE", "The token service is temporarily unavailable.")
    if requester is None:
        return error_response(401, "UNAUTHORIZED", "invalid username or access token")

    grant = grant_access(requester, scopes)
    if grant.refusals:
        logger.info("Refused to %r: %s", requester.snapshot.username, "; ".join(grant.refusals))
    jwt, claims = issue_registry_token(
        key=key,
        issuer=settings.TOKEN_ISSUER,
        service=settings.REGISTRY_SERVICE,
        subject=requester.snapshot.username,
        access=grant.access,
        ttl_seconds=settings.TOKEN_TTL_SECONDS,
    )
    return JsonResponse(token_response(jwt, claims))


def identify(request, credentials, references) -> Requester | None:
    """Who is asking, with their pull snapshot; None for wrong credentials.

    An access token costs one query for the token, its user and their memberships (plus one
    for verified publishers when a namespace could be one); the account password costs a
    deliberately slow hash; no credentials (allowed only with ANONYMOUS_PULLS) make a user in
    no organisation.
    """
    if credentials is None:
        return Requester(snapshot=PullSnapshot(username=""))
    username, secret = credentials
    if looks_like_token(secret):
        found = token_holder_snapshot(secret=secret, references=references)
        if found is None or found[0].username != username:
            return None
        holder, snapshot = found
        access_token_record_use(token_id=holder.token_id, last_used_at=holder.last_used_at)
        return Requester(snapshot=snapshot, is_staff=holder.is_staff)
    if not settings.REGISTRY_PASSWORD_AUTH:
        return None
    user = authenticate(request, username=username, password=secret)
    if user is None or not user.is_active:
        return None
    return Requester(
        snapshot=pull_snapshot(user=user, references=references), is_staff=user.is_staff
    )
