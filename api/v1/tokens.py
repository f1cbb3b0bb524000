"""An organisation's access tokens and its members' personal tokens (owners): list, create an
organisation token (its secret in that answer only), revoke either. Creating and revoking are
recorded in the organisation's settings history. Not with a personal access token: a leaked
one must not be able to mint tokens that outlive its revocation (as on Docker Hub)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from api.errors import refused
from api.pagination import PageQuery, page_response, paginated
from api.permissions import NotWithAccessToken
from api.serializers import StrictCharField, StrictSerializer, valid_data
from api.views import OrganizationView
from core.links import site_url
from tokens.models import AccessToken, OrganizationToken, TokenScope
from tokens.selectors import member_tokens_of, organization_tokens_of
from tokens.services import (
    LIFETIMES,
    member_token_revoke,
    organization_token_create,
    organization_token_revoke,
)

TAG = "Access tokens"


class OrganizationTokenSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    name = serializers.CharField()
    label = serializers.CharField(help_text="How the activity log names it: org/name.")
    scope = serializers.ChoiceField(
        choices=TokenScope.values, help_text="repo:read pulls; repo:write also pushes."
    )
    repositories = serializers.ListField(
        child=serializers.CharField(),
        source="patterns",
        help_text="The repository patterns it is limited to; empty: any.",
    )
    status = serializers.ChoiceField(choices=["active", "expired", "revoked"])
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by_username")
    expires_at = serializers.DateTimeField(allow_null=True, help_text="null: never.")
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    hint = serializers.CharField(help_text="The secret's last characters.")
    token = serializers.SerializerMethodField(
        help_text="The secret: only in the answer that creates the token."
    )

    def get_token(self, token) -> str:
        return self.context.get("secret", "")


class NewOrganizationTokenSerializer(StrictSerializer):
    name = StrictCharField(max_length=100, help_text="What it is for, e.g. ci-pipeline.")
    scope = serializers.ChoiceField(choices=TokenScope.values, default=TokenScope.READ)
    repositories = serializers.ListField(
        child=StrictCharField(max_length=600),
        required=False,
        max_length=50,
        help_text="Allowlist patterns (acme/app, acme/*, acme/**); absent or empty: any.",
    )
    expires_in_days = serializers.ChoiceField(
        choices=LIFETIMES,
        allow_null=True,
        help_text="30, 90 or 365; null: never (only where the organization allows it).",
    )


class MemberTokenSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    member = serializers.CharField(source="user.username")
    name = serializers.CharField()
    scope = serializers.ChoiceField(choices=TokenScope.values)
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)
    hint = serializers.CharField()


class OwnersTokenView(OrganizationView):
    """Owners only; writes not with a personal access token."""

    owner_only = True

    def get_permissions(self):
        permissions = super().get_permissions()
        if self.request.method not in SAFE_METHODS:
            permissions.append(NotWithAccessToken())
        return permissions


class OrganizationTokensView(OwnersTokenView):
    """The organisation's access tokens (revoked and expired ones too), newest first."""

    @extend_schema(
        operation_id="orgs_tokens_list",
        summary="List organization access tokens",
        tags=[TAG],
        parameters=[PageQuery],
        responses=paginated(OrganizationTokenSerializer),
    )
    def get(self, request, org):
        tokens = organization_tokens_of(organization=self.organization)
        return page_response(request, tokens, OrganizationTokenSerializer)

    @extend_schema(
        operation_id="orgs_tokens_create",
        summary="Create an organization access token",
        tags=[TAG],
        request=NewOrganizationTokenSerializer,
        responses={201: OrganizationTokenSerializer},
        examples=[
            OpenApiExample(
                "A CI token that pushes acme/app",
                value={
                    "name": "ci-pipeline",
                    "scope": "repo:write",
                    "repositories": ["acme/app"],
                    "expires_in_days": 90,
                },
                request_only=True,
            )
        ],
    )
    def post(self, request, org):
        body = valid_data(NewOrganizationTokenSerializer, request.data)
        try:
            token, secret = organization_token_create(
                organization=self.organization,
                actor=request.user,
                name=body["name"],
                scope=body["scope"],
                repositories=body.get("repositories", []),
                expires_days=body["expires_in_days"],
            )
        except DjangoValidationError as error:
            raise refused(error, rename={"expires_days": "expires_in_days"}) from None
        data = OrganizationTokenSerializer(token, context={"secret": secret}).data
        response = Response(data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response


class OrganizationTokenView(OwnersTokenView):
    """One of the organisation's tokens (another organisation's is not found)."""

    def resolve(self, uuid, **kwargs):
        try:
            self.token = organization_tokens_of(organization=self.organization).get(uuid=uuid)
        except OrganizationToken.DoesNotExist:
            raise Http404("No such token.") from None

    @extend_schema(
        operation_id="orgs_tokens_destroy",
        summary="Revoke an organization access token",
        tags=[TAG],
        responses={204: None},
    )
    def delete(self, request, org, uuid):
        organization_token_revoke(token=self.token, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberTokensView(OwnersTokenView):
    """The working personal access tokens of the organisation's members (never a secret)."""

    @extend_schema(
        operation_id="orgs_member_tokens_list",
        summary="List members' personal access tokens",
        tags=[TAG],
        parameters=[PageQuery],
        responses=paginated(MemberTokenSerializer),
    )
    def get(self, request, org):
        tokens = member_tokens_of(organization=self.organization)
        return page_response(request, tokens, MemberTokenSerializer)


class MemberTokenView(OwnersTokenView):
    """A member's working personal access token (anyone else's is not found)."""

    def resolve(self, uuid, **kwargs):
        try:
            self.token = member_tokens_of(organization=self.organization).get(uuid=uuid)
        except AccessToken.DoesNotExist:
            raise Http404("No such token.") from None

    @extend_schema(
        operation_id="orgs_member_tokens_destroy",
        summary="Revoke a member's personal access token",
        description="It stops working everywhere; the member is e-mailed.",
        tags=[TAG],
        responses={204: None},
    )
    def delete(self, request, org, uuid):
        try:
            member_token_revoke(
                organization=self.organization,
                token=self.token,
                actor=request.user,
                site_url=site_url(""),
            )
        except DjangoValidationError as error:
            raise refused(error) from None
        return Response(status=status.HTTP_204_NO_CONTENT)
