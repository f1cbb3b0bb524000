"""Pull activity: the token service's decisions, as the activity pages show them (the same
filters, validated by the same form, and the same queries): an organisation's for its owners,
and your own."""

from django import forms
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.views import APIView

from activity import selectors
from activity.forms import ActivityFilterForm
from activity.models import PullDecision
from api.errors import NON_FIELD
from api.pagination import PageNumbers, PageQuery, paginated
from api.views import OrganizationView
from orgs.models import Organization
from policies.engine import Category, Outcome, Rule

TAG = "Activity"


def _actions(value: str) -> list[str]:
    return [action for action in value.split(",") if action]


class PullDecisionSerializer(serializers.Serializer):
    """One decision of the token service about one repository scope that asked to pull (the
    fields of the activity pages and of the owners' CSV export)."""

    decided_at = serializers.DateTimeField()
    username = serializers.CharField()
    signed_in_with = serializers.ChoiceField(choices=PullDecision.SignIn.values)
    credential = serializers.SerializerMethodField(
        help_text="The access token's name or the registry session's client (null: none)."
    )
    client_address = serializers.CharField(allow_blank=True)
    user_agent = serializers.CharField(allow_blank=True)
    repository = serializers.CharField(help_text="e.g. library/ubuntu.")
    actions_asked = serializers.SerializerMethodField()
    actions_granted = serializers.SerializerMethodField(help_text="Empty: refused.")
    category = serializers.ChoiceField(choices=[c.value for c in Category])
    deciding_organization = serializers.SerializerMethodField(
        help_text="The organization whose rule decided (null: none applies). In an "
        "organization's activity, a decision of another organization the member belongs to "
        'is "another organization", and its reason is not given (its policy is its own '
        "business)."
    )
    rule = serializers.ChoiceField(choices=[r.value for r in Rule])
    reason = serializers.SerializerMethodField(
        help_text="Why. In your own activity, with the other organizations that also allowed the "
        "pull; in an organization's activity, only that organization's words (they name no "
        "other organization)."
    )
    outcome = serializers.ChoiceField(
        choices=[o.value for o in Outcome],
        help_text="would_block: allowed by audit-only mode, which would have blocked it.",
    )
    policy_version = serializers.SerializerMethodField(
        help_text="In an organization's activity, the version of that organization's policy "
        "the decision was made under; null in your own activity.",
    )

    @property
    def organization(self) -> Organization | None:
        """Whose owners read it (None: the user's own activity)."""
        return self.context.get("organization")

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_policy_version(self, decision: PullDecision) -> int | None:
        if self.organization is None:
            return None
        return decision.policy_version_for(self.organization.pk)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_credential(self, decision: PullDecision) -> str | None:
        return decision.credential or None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_actions_asked(self, decision: PullDecision) -> list[str]:
        return _actions(decision.actions_asked)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_actions_granted(self, decision: PullDecision) -> list[str]:
        return _actions(decision.actions_granted)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_deciding_organization(self, decision: PullDecision) -> str | None:
        decided_by = decision.deciding_organization
        if self.organization is not None:
            decided_by = selectors.shown_decider(decided_by, self.organization)
        return decided_by or None

    @extend_schema_field(serializers.CharField())
    def get_reason(self, decision: PullDecision) -> str:
        if self.organization is None:
            return decision.explanation
        return selectors.shown_reason(
            decision.reason, decision.deciding_organization, self.organization
        )


class ActivityPageSerializer(paginated(PullDecisionSerializer)):
    """A page of decisions, newest first."""

    count_capped = serializers.BooleanField(
        help_text=f"Counting stopped at {selectors.COUNT_CAP} (count): there are more, and the "
        "pages end there; narrow the dates to reach older decisions."
    )


# What each filter of ActivityFilterForm means (the form validates them).
FILTER_HELP = {
    "member": "Only this member's decisions (the exact username).",
    "image": "Only repositories whose name contains this (any case), e.g. ubuntu or someone/.",
    "outcome": "Only this outcome (empty: any).",
    "since": "From this day (UTC, YYYY-MM-DD), included (empty: no limit).",
    "until": "To this day (UTC, YYYY-MM-DD), included (empty: no limit).",
}


def filter_parameters(*, with_member: bool) -> list[OpenApiParameter]:
    """The fields of :class:`ActivityFilterForm` as the schema's query parameters."""
    parameters = []
    for name, field in ActivityFilterForm(with_member=with_member).fields.items():
        if isinstance(field, forms.DateField):
            # Empty is no filter, as the pages' form sends it.
            schema = {"anyOf": [{"type": "string", "format": "date"}, {"enum": [""]}]}
        elif isinstance(field, forms.ChoiceField):
            schema = {"type": "string", "enum": [value for value, _ in field.choices]}
        else:
            schema = {"type": "string", "maxLength": field.max_length}
        parameters.append(OpenApiParameter(name, schema, description=FILTER_HELP[name]))
    return parameters


def _query(request, *, with_member: bool) -> tuple[dict, dict]:
    """``(the queryset filters, the page)`` the query string asks for, read by the activity
    pages' filter form and :class:`PageQuery`; bad values are one 400 with a message per
    field."""
    form = ActivityFilterForm(request.query_params, with_member=with_member)
    page = PageQuery(data=request.query_params)
    errors = {} if form.is_valid() else dict(form.errors)
    if not page.is_valid():
        errors.update(page.errors)
    if errors:
        raise ValidationError(
            {NON_FIELD if name == "__all__" else name: list(m) for name, m in errors.items()}
        )
    return form.as_filters(), page.validated_data


def _page(request, decisions, query: dict, organization: Organization | None = None):
    """The answer with the page of ``decisions`` the query asks for: two queries (the capped
    count and the rows), whatever the size of the log."""
    page = selectors.activity_page(decisions, query["page"], per_page=query["page_size"])
    pages = PageNumbers()
    decisions = pages.paginate_page(page, request, requested=query["page"])
    results = PullDecisionSerializer(
        decisions, many=True, context={"organization": organization}
    ).data
    return pages.get_paginated_response(results, count_capped=page.paginator.capped)


class OrganizationActivityView(OrganizationView):
    """Owners: the decisions made for the organisation's members while they were members,
    newest first (the organisation's Activity page)."""

    owner_only = True

    @extend_schema(
        operation_id="orgs_activity_list",
        summary="List the organization's pull activity",
        tags=[TAG],
        parameters=[PageQuery, *filter_parameters(with_member=True)],
        responses=ActivityPageSerializer,
    )
    def get(self, request, org):
        filters, query = _query(request, with_member=True)
        decisions = selectors.organization_activity(organization=self.organization, filters=filters)
        return _page(request, decisions, query, self.organization)


class MyActivityView(APIView):
    """The decisions made about your own registry requests, once each, newest first (your
    Activity page)."""

    @extend_schema(
        operation_id="user_activity_list",
        summary="List my pull activity",
        tags=[TAG],
        parameters=[PageQuery, *filter_parameters(with_member=False)],
        responses=ActivityPageSerializer,
    )
    def get(self, request):
        filters, query = _query(request, with_member=False)
        return _page(request, selectors.member_activity(user=request.user, filters=filters), query)
