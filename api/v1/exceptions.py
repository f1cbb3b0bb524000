"""Exception requests: a member whom the organisation refuses an image asks its owners for an
exception; owners list, approve (an allowlist entry with an expiry) or decline them; everyone
lists their own."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import refused
from api.pagination import PageQuery, page_response, paginated
from api.serializers import StrictCharField, StrictSerializer, valid_data
from api.v1.allowlist import RENAMED, EntrySerializer, TeamNameField
from api.views import OrganizationView
from core.links import site_url
from policies.exceptions.selectors import exception_request_of, exception_requests_by
from policies.exceptions.services import (
    exception_request_approve,
    exception_request_create,
    exception_request_decline,
)
from policies.models import ExceptionRequest
from policies.references import MAX_REFERENCE_LENGTH, InvalidReference, parse_reference

TAG = "Exception requests"


class GrantedSerializer(serializers.Serializer):
    """What an approval granted (kept after the entry expires or is removed)."""

    repository = serializers.CharField(source="granted_pattern")
    team = serializers.SerializerMethodField(help_text="null: the whole organization.")
    expires_at = serializers.DateTimeField(source="granted_expires_at", allow_null=True)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_team(self, request: ExceptionRequest) -> str | None:
        return request.granted_team or None


class ExceptionRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    organization = serializers.CharField(source="organization.name")
    requester = serializers.CharField(source="requester.username")
    reference = serializers.CharField(help_text="The image as checked, normalised.")
    repository = serializers.CharField()
    justification = serializers.CharField()
    status = serializers.ChoiceField(choices=ExceptionRequest.Status.values)
    created_at = serializers.DateTimeField()
    decided_by = serializers.CharField(source="decided_by_username", allow_blank=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    note = serializers.CharField(allow_blank=True, help_text="The owner's note.")
    granted = serializers.SerializerMethodField(help_text="null unless approved.")

    @extend_schema_field(GrantedSerializer(allow_null=True))
    def get_granted(self, request: ExceptionRequest) -> dict | None:
        if request.status != ExceptionRequest.Status.APPROVED:
            return None
        return GrantedSerializer(request).data


class ReferenceField(StrictCharField):
    """An image reference, parsed as Docker parses it."""

    def __init__(self, **kwargs):
        super().__init__(max_length=MAX_REFERENCE_LENGTH, trim_whitespace=False, **kwargs)

    def run_validation(self, data=serializers.empty):
        try:
            return parse_reference(super().run_validation(data))
        except InvalidReference as error:
            raise serializers.ValidationError(str(error)) from None


class NewRequestSerializer(StrictSerializer):
    reference = ReferenceField(help_text="The refused image, e.g. someone/tool:1.2.")
    justification = StrictCharField(max_length=1000, help_text="Why you need it.")


class StatusQuery(PageQuery):
    status = serializers.ChoiceField(
        choices=ExceptionRequest.Status.values, required=False, help_text="Only these."
    )


def _page(request, requests) -> Response:
    query = valid_data(StatusQuery, request.query_params)
    if "status" in query:
        requests = requests.filter(status=query["status"])
    return page_response(request, requests, ExceptionRequestSerializer)


class MyRequestsView(APIView):
    """The exception requests you made, in every organisation, newest first."""

    @extend_schema(
        operation_id="exception_requests_list",
        summary="List my exception requests",
        tags=[TAG],
        parameters=[StatusQuery],
        responses=paginated(ExceptionRequestSerializer),
    )
    def get(self, request):
        return _page(request, exception_requests_by(user=request.user))


class OrganizationRequestsView(OrganizationView):
    """The organisation's exception requests (owners, newest first), and asking for one
    (members whom it refuses the image)."""

    owner_only_methods = frozenset({"GET", "HEAD"})

    @extend_schema(
        operation_id="orgs_exception_requests_list",
        summary="List the organization's exception requests",
        tags=[TAG],
        parameters=[StatusQuery],
        responses=paginated(ExceptionRequestSerializer),
    )
    def get(self, request, org):
        return _page(
            request,
            ExceptionRequest.objects.filter(organization=self.organization).select_related(
                "organization", "requester"
            ),
        )

    @extend_schema(
        operation_id="orgs_exception_requests_create",
        summary="Ask for an exception",
        tags=[TAG],
        request=NewRequestSerializer,
        responses={201: ExceptionRequestSerializer},
    )
    def post(self, request, org):
        body = valid_data(NewRequestSerializer, request.data)
        try:
            created = exception_request_create(
                organization=self.organization,
                requester=request.user,
                reference=body["reference"],
                justification=body["justification"],
                site_url=site_url("/"),
            )
        except DjangoValidationError as error:
            raise refused(error) from None
        return Response(ExceptionRequestSerializer(created).data, status=status.HTTP_201_CREATED)


class RequestMixin:
    """An exception request of the organisation, for its owners."""

    owner_only = True

    def resolve(self, **kwargs):
        try:
            self.exception = exception_request_of(organization=self.organization, pk=kwargs["pk"])
        except ExceptionRequest.DoesNotExist:
            raise Http404("No such exception request.") from None


class RequestView(RequestMixin, OrganizationView):
    @extend_schema(
        operation_id="orgs_exception_requests_retrieve",
        summary="Get an exception request",
        tags=[TAG],
        responses=ExceptionRequestSerializer,
    )
    def get(self, request, org, pk):
        return Response(ExceptionRequestSerializer(self.exception).data)


class ApproveSerializer(StrictSerializer):
    repository = StrictCharField(
        max_length=600,
        trim_whitespace=False,
        help_text="The allowlist pattern to add; it must cover the requested repository.",
    )
    expires_at = serializers.DateTimeField(help_text="When the exception ends (required).")
    team = TeamNameField(
        help_text="One of the requester's teams; null or absent: the whole organization."
    )
    note = StrictCharField(
        max_length=1000, required=False, allow_blank=True, help_text="For the requester."
    )


class ApproveView(RequestMixin, OrganizationView):
    """Approve a pending request: an allowlist entry for the organisation or one of the
    requester's teams, with an expiry. The requester is told by e-mail."""

    @extend_schema(
        operation_id="orgs_exception_requests_approve",
        summary="Approve an exception request",
        tags=[TAG],
        request=ApproveSerializer,
        responses={201: EntrySerializer},
    )
    def post(self, request, org, pk):
        body = valid_data(ApproveSerializer, request.data, organization=self.organization)
        data = body
        try:
            entry = exception_request_approve(
                request=self.exception,
                actor=request.user,
                pattern=data["repository"],
                expires_at=data["expires_at"],
                team=data.get("team"),
                note=data.get("note", ""),
            )
        except DjangoValidationError as error:
            raise refused(error, rename=RENAMED) from None
        return Response(EntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class DeclineSerializer(StrictSerializer):
    note = StrictCharField(max_length=1000, help_text="Why (the requester reads it).")


class DeclineView(RequestMixin, OrganizationView):
    """Decline a pending request with a note. The requester is told by e-mail."""

    @extend_schema(
        operation_id="orgs_exception_requests_decline",
        summary="Decline an exception request",
        tags=[TAG],
        request=DeclineSerializer,
        responses=ExceptionRequestSerializer,
    )
    def post(self, request, org, pk):
        body = valid_data(DeclineSerializer, request.data)
        try:
            declined = exception_request_decline(
                request=self.exception, actor=request.user, note=body["note"]
            )
        except DjangoValidationError as error:
            raise refused(error) from None
        return Response(ExceptionRequestSerializer(declined).data)
