"""Docker Hub-compatible endpoints: the paths, bodies and status codes of Docker Hub's API
(``https://docs.docker.com/reference/api/hub/latest/``), so that a script written for Docker
Hub manages the portal unchanged.

* ``POST /v2/auth/token`` ``{"identifier", "secret"}`` -> ``{"access_token"}``: a bearer that
  expires in 10 minutes.
* ``GET``/``PUT /v2/orgs/{name}/settings``: ``{"restricted_images": {"enabled",
  "allow_official_images", "allow_verified_publishers"}}`` (exactly Docker's three settings;
  the portal's others are in ``/api/v1/``). ``enabled`` is what Docker Hub means by it, images
  restricted: false in audit-only mode (:func:`hub_settings`).
* ``GET``/``POST /v2/access-tokens``, ``GET``/``DELETE /v2/access-tokens/{uuid}``: the caller's
  personal access tokens. As on Docker Hub, not with a bearer made from an access token.
"""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, AuthenticationFailed, NotFound, Throttled
from rest_framework.response import Response
from rest_framework.views import APIView

from api.credentials import api_sign_in, bearer_for
from api.errors import refused
from api.pagination import HubPageNumbers, HubPageQuery, page_response
from api.permissions import NotWithAccessToken, SignedIn
from api.serializers import StrictCharField, StrictSerializer, settings_serializer, valid_data
from api.views import OrganizationView, save_with_precondition, with_etag
from core import throttle
from core.middleware import printable
from policies.models import AccessPolicy
from policies.selectors import policy_for_organization
from policies.services import policy_update
from tokens.authentication import SignInRefused
from tokens.models import AccessToken, TokenScope
from tokens.selectors import access_tokens_of
from tokens.services import access_token_create, access_token_revoke

logger = logging.getLogger(__name__)

TAG = "Docker Hub compatible"
HUB_SETTINGS = ("enabled", "allow_official_images", "allow_verified_publishers")
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200],
    description="The settings' version; send it back as If-Match to refuse a stale write.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='Optional: the ETag you read (e.g. "3"). If the settings changed since, the '
    "write is refused with 412 and nothing changes.",
)


class ServiceUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Sign-in is temporarily unavailable."


# --- POST /v2/auth/token ---------------------------------------------------------------------


class AuthCredentialsSerializer(StrictSerializer):
    identifier = StrictCharField(
        max_length=150, help_text="Your portal username.", trim_whitespace=False
    )
    secret = StrictCharField(
        max_length=1024,
        trim_whitespace=False,
        help_text="One of your access tokens (iamp_...), or your password where the operator "
        "allows passwords (REGISTRY_PASSWORD_AUTH).",
    )


class AuthTokenSerializer(serializers.Serializer):
    access_token = serializers.CharField(
        help_text="A bearer for 'Authorization: Bearer ...'. It expires in 10 minutes."
    )


class AuthTokenView(APIView):
    """Creates a short-lived bearer (a JWT that expires in 10 minutes) for the
    ``Authorization: Bearer`` header. Sign-in is throttled like every other: too many wrong
    passwords lock the account from your address for a while (429 with Retry-After)."""

    authentication_classes = []
    permission_classes = []
    docker_hub = True
    error_statuses = [401, 429, 503]

    def get_authenticate_header(self, request):
        return 'Bearer realm="iam-portal"'

    @extend_schema(
        operation_id="AuthCreateAccessToken",
        summary="Create access token",
        tags=[TAG],
        auth=[],
        request=AuthCredentialsSerializer,
        responses={200: AuthTokenSerializer},
        examples=[
            OpenApiExample(
                "Sign in with an access token",
                value={"identifier": "mike", "secret": "iamp_..."},
                request_only=True,
            )
        ],
    )
    def post(self, request):
        body = valid_data(AuthCredentialsSerializer, request.data)
        identifier = body["identifier"]
        try:
            credential = api_sign_in(request._request, **body)
        except SignInRefused as refused:
            self._log_refusal(request, identifier, refused.message)
            if refused.status == 429:
                raise Throttled(wait=refused.retry_after, detail=refused.message) from None
            if refused.status == 503:
                raise ServiceUnavailable(detail=refused.message) from None
            raise AuthenticationFailed(refused.message) from None
        response = Response({"access_token": bearer_for(credential)})
        response["Cache-Control"] = "no-store"  # a credential (RFC 6749, 5.1)
        response["Pragma"] = "no-cache"
        return response

    @staticmethod
    def _log_refusal(request, identifier: str, reason: str) -> None:
        logger.info(
            "API sign-in refused for '%s' from %s: %s",
            printable(identifier),
            printable(throttle.client_address(request._request)),
            reason,
        )


# --- /v2/orgs/{name}/settings ------------------------------------------------------------------

RestrictedImagesSerializer = settings_serializer(
    "RestrictedImages",
    AccessPolicy,
    HUB_SETTINGS,
    "Image Access Management, as Docker Hub names it (all three are required in a PUT). "
    "'enabled' is whether it is enforced: false while the organisation is in the portal's "
    "audit-only mode, where nothing is blocked (see /api/v1/orgs/{org}/settings for "
    "audit_only). PUT 'enabled': true enforces it (ending audit-only mode); false switches an "
    "enforced policy off and leaves an audit-only one as it is.",
)


class OrgSettingsSerializer(StrictSerializer):
    restricted_images = RestrictedImagesSerializer()


def hub_settings(policy: AccessPolicy) -> dict:
    """Docker's three settings of ``policy``. Docker Hub's ``enabled`` means that images are
    restricted, so it is the policy *enforced*: false in audit-only mode, where nothing is
    blocked (a script checking ``enabled`` must not take an audit for a restriction)."""
    values = {field: getattr(policy, field) for field in HUB_SETTINGS}
    values["enabled"] = policy.enabled and not policy.audit_only
    return {"restricted_images": values}


def policy_values(hub_values: dict, policy: AccessPolicy) -> dict:
    """The policy settings a PUT of Docker's three settings asks for, ``enabled`` read as
    :func:`hub_settings` writes it: ``true`` enforces the policy (audit-only mode ends);
    ``false`` is already true of an audit-only policy, which stays as it is (so that a script
    that reads the settings and writes them back changes nothing), and switches an enforced
    policy off."""
    values = dict(hub_values)
    if values["enabled"]:
        values["audit_only"] = False
    elif policy.enabled and policy.audit_only:
        values["enabled"] = True
    return values


class OrgSettingsView(OrganizationView):
    """An organisation's Image Access Management settings: members and owners read them,
    owners change them (each change is recorded in the settings history, as a form save)."""

    org_kwarg = "name"
    docker_hub = True

    @extend_schema(
        operation_id="getV2OrgsByNameSettings",
        summary="Get organization settings",
        tags=[TAG],
        responses={200: OrgSettingsSerializer},
        parameters=[ETAG],
    )
    def get(self, request, name):
        policy = policy_for_organization(organization=self.organization)
        return with_etag(Response(hub_settings(policy)), policy)

    @extend_schema(
        operation_id="putV2OrgsByNameSettings",
        summary="Update organization settings",
        tags=[TAG],
        request=OrgSettingsSerializer,
        responses={200: OrgSettingsSerializer},
        parameters=[IF_MATCH, ETAG],
        examples=[
            OpenApiExample(
                "Allow Docker Official Images only",
                value={
                    "restricted_images": {
                        "enabled": True,
                        "allow_official_images": True,
                        "allow_verified_publishers": False,
                    }
                },
            )
        ],
    )
    def put(self, request, name):
        values = valid_data(OrgSettingsSerializer, request.data)["restricted_images"]

        def save(version: int) -> AccessPolicy:
            current = policy_for_organization(organization=self.organization)
            return policy_update(
                organization=self.organization,
                actor=request.user,
                expected_version=version,
                values=policy_values(values, current),
            )[0]

        policy = save_with_precondition(request, self.organization, save)
        return with_etag(Response(hub_settings(policy)), policy)


# --- /v2/access-tokens -------------------------------------------------------------------------

# Docker Hub's scopes for personal access tokens; the portal's tokens are read or write.
DOCKER_SCOPES = ("repo:admin", "repo:write", "repo:read", "repo:public_read")


class AccessTokenSerializer(serializers.Serializer):
    """A personal access token, as Docker Hub describes one (``token`` is empty except in the
    answer that creates it: the secret is shown once)."""

    uuid = serializers.UUIDField()
    token_label = serializers.CharField(source="name")
    scopes = serializers.SerializerMethodField()
    is_active = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    last_used = serializers.DateTimeField(source="last_used_at", allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    token = serializers.SerializerMethodField()

    def get_scopes(self, token: AccessToken) -> list[str]:
        return [token.scope]

    def get_is_active(self, token: AccessToken) -> bool:
        return token.status == "active"

    def get_token(self, token: AccessToken) -> str:
        return self.context.get("secret", "")


class AccessTokenListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    active_count = serializers.IntegerField()
    results = AccessTokenSerializer(many=True)


class CreateAccessTokenSerializer(StrictSerializer):
    token_label = StrictCharField(
        min_length=1, max_length=100, help_text="Friendly name for you to identify the token."
    )
    scopes = serializers.ListField(
        child=StrictCharField(max_length=30),
        allow_empty=False,
        max_length=4,
        help_text="repo:read (pull; API reads) or repo:write (also push; API writes). As on "
        "Docker Hub, the highest scope given counts. The portal never grants delete, so "
        "repo:admin is refused, and so is repo:public_read.",
    )
    expires_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="Optional expiration date for the token. If omitted, the token does not expire.",
    )

    def validate_scopes(self, scopes: list[str]) -> str:
        """The one scope the token gets: the highest of those given."""
        errors = []
        for scope in scopes:
            if scope in ("repo:admin", "repo:public_read"):
                errors.append(
                    f"{scope} is not offered here: the portal's tokens are repo:read or "
                    "repo:write (it never grants delete, and has no public-only images)."
                )
            elif scope not in DOCKER_SCOPES:
                errors.append(f"Unknown scope {scope!r}: use repo:read or repo:write.")
        if errors:
            raise serializers.ValidationError(errors)
        return TokenScope.WRITE if TokenScope.WRITE in scopes else TokenScope.READ


class AccessTokensView(APIView):
    """Your personal access tokens. Not with a bearer made from an access token, as on Docker
    Hub: sign in with your password at ``POST /v2/auth/token`` (or use the Access tokens page)."""

    permission_classes = [SignedIn, NotWithAccessToken]
    docker_hub = True

    @extend_schema(
        operation_id="getV2AccessTokens",
        summary="List personal access tokens",
        tags=[TAG],
        parameters=[HubPageQuery],
        responses={200: AccessTokenListSerializer},
    )
    def get(self, request):
        return page_response(
            request,
            access_tokens_of(user=request.user),
            AccessTokenSerializer,
            pagination=HubPageNumbers,
            active_count=access_tokens_of(user=request.user, active=True).count(),
        )

    @extend_schema(
        operation_id="postV2AccessTokens",
        summary="Create personal access token",
        tags=[TAG],
        request=CreateAccessTokenSerializer,
        responses={201: AccessTokenSerializer},
        examples=[
            OpenApiExample(
                "A read-only token",
                value={"token_label": "My read only token", "scopes": ["repo:read"]},
                request_only=True,
            )
        ],
    )
    def post(self, request):
        body = valid_data(CreateAccessTokenSerializer, request.data)
        try:
            token, secret = access_token_create(
                user=request.user,
                name=body["token_label"],
                scope=body["scopes"],
                expires_at=body.get("expires_at"),
            )
        except DjangoValidationError as error:
            raise refused(error, rename={"name": "token_label"}) from None
        data = AccessTokenSerializer(token, context={"secret": secret}).data
        response = Response(data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response


class AccessTokenView(APIView):
    """One of your personal access tokens, by UUID (another user's is not found)."""

    permission_classes = [SignedIn, NotWithAccessToken]
    docker_hub = True

    def token(self, request, uuid) -> AccessToken:
        token = access_tokens_of(user=request.user).filter(uuid=uuid).first()
        if token is None:
            raise NotFound("No such access token.")
        return token

    @extend_schema(
        operation_id="getV2AccessTokensUuid",
        summary="Get personal access token",
        tags=[TAG],
        responses={200: AccessTokenSerializer},
    )
    def get(self, request, uuid):
        return Response(AccessTokenSerializer(self.token(request, uuid)).data)

    @extend_schema(
        operation_id="deleteV2AccessTokensUuid",
        summary="Delete personal access token",
        tags=[TAG],
        responses={204: None},
        description="Revokes the token: it stops working at once, with the registry sessions "
        "it opened, and cannot be restored (it stays listed as inactive, as on the Access "
        "tokens page). Deleting it again is a 404.",
    )
    def delete(self, request, uuid):
        token = self.token(request, uuid)
        if token.revoked_at is not None:
            raise NotFound("This access token was already deleted (revoked).")
        access_token_revoke(token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)
