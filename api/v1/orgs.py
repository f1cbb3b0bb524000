"""Who you are, your organisations, their members and teams (read only: people join by
accepting an invitation, in the portal)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from api.credentials import ApiCredential
from api.pagination import PageNumbers, PageQuery, paginated
from api.permissions import organization_token
from api.serializers import valid_data
from api.views import OrganizationView
from orgs.selectors import organization_members, organization_teams, organizations_of
from policies.selectors import policy_for_organization

TAG = "Organizations"


def role(is_owner: bool) -> str:
    return "owner" if is_owner else "member"


class UserSerializer(serializers.Serializer):
    username = serializers.CharField()
    scope = serializers.CharField(
        allow_null=True,
        help_text="The scope of the access token you called with (repo:read or repo:write); "
        "null when you signed in with your password or a browser session.",
    )


class UserView(APIView):
    """You, as the API sees you (an organisation token: its label, e.g. ``acme/ci-pipeline``,
    and its scope)."""

    organization_tokens = True

    @extend_schema(operation_id="user", summary="Who am I", tags=[TAG], responses=UserSerializer)
    def get(self, request):
        holder = organization_token(request)
        if holder is not None:
            return Response({"username": holder.label, "scope": holder.scope})
        credential = request.auth
        token = credential.token if isinstance(credential, ApiCredential) else None
        return Response(
            {"username": request.user.get_username(), "scope": token.scope if token else None}
        )


class OrganizationSerializer(serializers.Serializer):
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=["owner", "member"], help_text="Your role in it.")
    image_access_management = serializers.BooleanField(
        help_text="Whether Image Access Management is on."
    )


class OrganizationListView(APIView):
    """The organisations you are a member of, by name."""

    @extend_schema(
        operation_id="orgs_list",
        summary="List my organizations",
        tags=[TAG],
        responses=OrganizationSerializer(many=True),
    )
    def get(self, request):
        return Response(
            [
                {
                    "name": org.name,
                    "role": role(org.is_owner),
                    "image_access_management": org.iam_enabled,
                }
                for org in organizations_of(user=request.user)
            ]
        )


class OrganizationDetailView(OrganizationView):
    """One of your organisations."""

    @extend_schema(
        operation_id="orgs_retrieve",
        summary="Get an organization",
        tags=[TAG],
        responses=OrganizationSerializer,
    )
    def get(self, request, org):
        policy = policy_for_organization(organization=self.organization)
        return Response(
            {
                "name": self.organization.name,
                "role": role(self.is_owner),
                "image_access_management": policy.enabled,
            }
        )


class MemberSerializer(serializers.Serializer):
    username = serializers.CharField()
    role = serializers.ChoiceField(choices=["owner", "member"])
    teams = serializers.ListField(child=serializers.CharField(), help_text="By name.")


class MemberQuery(PageQuery):
    search = serializers.CharField(
        required=False, max_length=150, help_text="Usernames containing this (any case)."
    )


class MemberListView(OrganizationView):
    """The organisation's members, by username, with their teams."""

    @extend_schema(
        operation_id="orgs_members_list",
        summary="List members",
        tags=[TAG],
        parameters=[MemberQuery],
        responses=paginated(MemberSerializer),
    )
    def get(self, request, org):
        query = valid_data(MemberQuery, request.query_params)
        page = organization_members(
            organization=self.organization,
            query=query.get("search", ""),
            page=query["page"],
            per_page=query["page_size"],
        )
        results = [
            {
                "username": row.user.get_username(),
                "role": role(row.is_owner),
                "teams": [team.name for team in row.teams],
            }
            for row in page.object_list
        ]
        pages = PageNumbers()
        pages.paginate_page(page, request, requested=query["page"])
        return pages.get_paginated_response(results)


class TeamSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    member_count = serializers.IntegerField()


class TeamListView(OrganizationView):
    """The organisation's teams, by name."""

    @extend_schema(
        operation_id="orgs_teams_list",
        summary="List teams",
        tags=[TAG],
        responses=TeamSerializer(many=True),
    )
    def get(self, request, org):
        teams = organization_teams(organization=self.organization)
        return Response(TeamSerializer(teams, many=True).data)
