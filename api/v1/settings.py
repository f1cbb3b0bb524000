"""An organisation's Image Access Management settings (every policy setting, as on the Org
Permissions page), their history, and its teams' grants. Reads for members, writes for
owners; every response carries the ``ETag`` of the policy version, and a write sent with a
stale ``If-Match`` is refused (412) and changes nothing."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.errors import refused
from api.hub import ETAG, IF_MATCH
from api.pagination import PageQuery, page_response, paginated
from api.serializers import settings_serializer, valid_data
from api.views import OrganizationView, save_policy, save_with_precondition, with_etag
from orgs.models import OWNERS_TEAM, Team
from orgs.selectors import team_of_organization
from policies.models import GRANT_FIELDS, POLICY_FIELDS, AccessPolicy, TeamGrant
from policies.selectors import policy_for_organization, policy_history
from policies.services import team_grant_update

TAG = "Settings"

PolicySettingsSerializer = settings_serializer(
    "PolicySettings",
    AccessPolicy,
    POLICY_FIELDS,
    "The organisation's Image Access Management settings (every one is required in a PUT; "
    "PATCH changes those it names).",
)
GrantSettingsSerializer = settings_serializer(
    "TeamGrantSettings",
    TeamGrant,
    GRANT_FIELDS,
    "Extra categories a team's members may pull in its organisation while Image Access "
    "Management is on (every one is required in a PUT).",
)


class SettingsView(OrganizationView):
    """The organisation's settings."""

    def answer(self, policy: AccessPolicy) -> Response:
        return with_etag(Response(policy.as_dict()), policy)

    @extend_schema(
        operation_id="orgs_settings_retrieve",
        summary="Get settings",
        tags=[TAG],
        responses=PolicySettingsSerializer,
        parameters=[ETAG],
    )
    def get(self, request, org):
        return self.answer(policy_for_organization(organization=self.organization))

    def save(self, request, *, partial: bool) -> Response:
        body = PolicySettingsSerializer(data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        return self.answer(save_policy(request, self.organization, dict(body.validated_data)))

    @extend_schema(
        operation_id="orgs_settings_update",
        summary="Replace settings",
        tags=[TAG],
        request=PolicySettingsSerializer,
        responses=PolicySettingsSerializer,
        parameters=[IF_MATCH, ETAG],
    )
    def put(self, request, org):
        return self.save(request, partial=False)

    @extend_schema(
        operation_id="orgs_settings_partial_update",
        summary="Change some settings",
        tags=[TAG],
        request=PolicySettingsSerializer,
        responses=PolicySettingsSerializer,
        parameters=[IF_MATCH, ETAG],
    )
    def patch(self, request, org):
        return self.save(request, partial=True)


class ChangeSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="The policy version the change made.")
    changed_at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_username", help_text="Who made it.")
    changes = serializers.DictField(
        help_text='What changed, as recorded: `{"<setting>": {"from": old, "to": new}, '
        '"team_grant": {...}, "allowlist_added": {...}, ...}`.'
    )
    description = serializers.ListField(
        child=serializers.CharField(), source="described", help_text="The change in words."
    )


class HistoryView(OrganizationView):
    """The recorded changes of the organisation's settings, newest first."""

    @extend_schema(
        operation_id="orgs_settings_history_list",
        summary="Settings history",
        tags=[TAG],
        parameters=[PageQuery],
        responses=paginated(ChangeSerializer),
    )
    def get(self, request, org):
        changes = policy_history(organization=self.organization, limit=None)
        return page_response(request, changes, ChangeSerializer)


class TeamGrantView(OrganizationView):
    """A team's grant: extra categories its members may pull (the owners team has none: it
    pulls anything already). A change is a new policy version, so the ``ETag`` is the
    organisation's settings' one."""

    def resolve(self, **kwargs):
        try:
            self.team = team_of_organization(organization=self.organization, name=kwargs["team"])
        except Team.DoesNotExist:
            raise Http404("No such team.") from None
        if self.team.name == OWNERS_TEAM:
            raise Http404("The owners team has no grant: it can pull any image.")

    def answer(self) -> Response:
        grant = TeamGrant.objects.filter(team=self.team).first()
        values = grant.as_dict() if grant else {field: False for field in GRANT_FIELDS}
        return with_etag(Response(values), policy_for_organization(organization=self.organization))

    @extend_schema(
        operation_id="orgs_teams_grant_retrieve",
        summary="Get a team's grant",
        tags=[TAG],
        responses=GrantSettingsSerializer,
        parameters=[ETAG],
    )
    def get(self, request, org, team):
        return self.answer()

    @extend_schema(
        operation_id="orgs_teams_grant_update",
        summary="Replace a team's grant",
        tags=[TAG],
        request=GrantSettingsSerializer,
        responses=GrantSettingsSerializer,
        parameters=[IF_MATCH, ETAG],
    )
    def put(self, request, org, team):
        body = valid_data(GrantSettingsSerializer, request.data)
        try:
            save_with_precondition(
                request,
                self.organization,
                lambda version: team_grant_update(
                    team=self.team,
                    actor=request.user,
                    expected_version=version,
                    values=dict(body),
                ),
            )
        except DjangoValidationError as error:
            raise refused(error) from None
        return self.answer()
