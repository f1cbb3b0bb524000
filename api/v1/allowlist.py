"""An organisation's repository allowlist: members read it, owners add and remove entries.
Each change is recorded and is a new policy version (the settings' ``ETag`` changes)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from api.errors import refused
from api.pagination import PageQuery, page_response, paginated
from api.serializers import StrictCharField, StrictSerializer, valid_data
from api.views import OrganizationView
from orgs.models import Team
from policies.selectors import allowlist_of
from policies.services import allowlist_entry_add, allowlist_entry_remove

TAG = "Allowlist"
# The services name the pattern "pattern"; the API calls it "repository", as the page's
# "Repository pattern".
RENAMED = {"pattern": "repository"}


class EntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    repository = serializers.CharField(
        source="pattern",
        help_text="someone/tool (one repository), someone/* (one level below someone/) or "
        "someone/** (any depth); ubuntu is library/ubuntu.",
    )
    team = serializers.CharField(
        source="team.name", allow_null=True, help_text="null: the whole organization."
    )
    reason = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True, help_text="null: never expires.")
    expired = serializers.BooleanField(source="is_expired")
    added_by = serializers.CharField(source="added_by_username")
    created_at = serializers.DateTimeField()


class TeamNameField(StrictCharField):
    """A team of the view's organisation, by name (the owners team is the service's to refuse)."""

    def __init__(self, **kwargs):
        super().__init__(max_length=30, allow_null=True, required=False, **kwargs)

    def run_validation(self, data=serializers.empty):
        name = super().run_validation(data)
        if name is None:
            return None
        organization = self.context["organization"]
        team = Team.objects.filter(organization=organization, name=name).first()
        if team is None:
            raise serializers.ValidationError(f"{organization.name} has no team {name!r}.")
        return team


class NewEntrySerializer(StrictSerializer):
    repository = StrictCharField(
        max_length=600,
        trim_whitespace=False,
        help_text=EntrySerializer().fields["repository"].help_text,
    )
    reason = StrictCharField(max_length=600, help_text="Why members need it.")
    expires_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="When it stops applying (a day means 00:00 UTC that day); null or absent: never.",
    )
    team = TeamNameField(
        help_text="A team other than owners; null or absent: the whole organization."
    )


class AllowlistView(OrganizationView):
    """The organisation's allowlist entries (expired ones included), by repository pattern."""

    @extend_schema(
        operation_id="orgs_allowlist_list",
        summary="List allowlist entries",
        tags=[TAG],
        parameters=[PageQuery],
        responses=paginated(EntrySerializer),
    )
    def get(self, request, org):
        entries = allowlist_of(organization=self.organization)
        return page_response(request, entries, EntrySerializer)

    @extend_schema(
        operation_id="orgs_allowlist_create",
        summary="Add an allowlist entry",
        tags=[TAG],
        request=NewEntrySerializer,
        responses={201: EntrySerializer},
        examples=[
            OpenApiExample(
                "A community image for one team until the end of the year",
                value={
                    "repository": "someone/tool",
                    "reason": "CI base image",
                    "expires_at": "2030-01-01",
                    "team": "developers",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request, org):
        body = valid_data(NewEntrySerializer, request.data, organization=self.organization)
        data = body
        try:
            entry = allowlist_entry_add(
                organization=self.organization,
                actor=request.user,
                pattern=data["repository"],
                reason=data["reason"],
                team=data.get("team"),
                expires_at=data.get("expires_at"),
            )
        except DjangoValidationError as error:
            raise refused(error, rename=RENAMED) from None
        return Response(EntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class AllowlistEntryView(OrganizationView):
    """One allowlist entry of the organisation (another organisation's is not found)."""

    @extend_schema(
        operation_id="orgs_allowlist_destroy",
        summary="Remove an allowlist entry",
        tags=[TAG],
        responses={204: None},
    )
    def delete(self, request, org, pk):
        try:
            allowlist_entry_remove(organization=self.organization, entry_id=pk, actor=request.user)
        except DjangoValidationError as error:
            raise refused(error, rename=RENAMED) from None
        return Response(status=status.HTTP_204_NO_CONTENT)
