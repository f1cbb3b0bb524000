"""Check an image: what the decision engine says about pulling it, for the caller."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import Refused
from api.permissions import organization_token
from api.serializers import StrictSerializer, valid_data
from api.v1.exceptions import ReferenceField
from policies.engine import Category, Rule, pull_decide
from policies.selectors import pull_snapshot
from tokens.grants import OUTSIDE_PATTERNS, within_patterns
from tokens.selectors import organization_token_snapshot


class CheckSerializer(StrictSerializer):
    reference = ReferenceField(help_text="An image reference, e.g. ubuntu:22.04 or acme/app.")


class DecisionSerializer(serializers.Serializer):
    allowed = serializers.BooleanField()
    category = serializers.ChoiceField(choices=[c.value for c in Category])
    reference = serializers.CharField(help_text="The reference, normalised.")
    organization = serializers.CharField(
        allow_null=True, help_text="The organisation whose rule decided (null: none applies)."
    )
    rule = serializers.ChoiceField(choices=[r.value for r in Rule])
    reason = serializers.CharField()


class CheckView(APIView):
    """Whether you may pull an image, as the registry would decide now, with the rule that
    decides and the reason (the same JSON as ``manage.py check_pull``). A read: read-only
    access tokens may ask, and so may organisation tokens (for a plain member of their
    organisation alone; a repository outside their patterns is a 403)."""

    reads_only = True
    organization_tokens = True

    @extend_schema(
        operation_id="check",
        summary="Check an image",
        tags=["Check"],
        request=CheckSerializer,
        responses=DecisionSerializer,
        examples=[OpenApiExample("An image", value={"reference": "ubuntu:22.04"})],
    )
    def post(self, request):
        body = valid_data(CheckSerializer, request.data)
        reference = body["reference"]
        holder = organization_token(request)
        if holder is None:
            snapshot = pull_snapshot(user=request.user, references=[reference])
        elif within_patterns(holder.patterns, reference.path):
            snapshot = organization_token_snapshot(holder, references=[reference])
        else:
            raise Refused(403, f"{reference.path} is {OUTSIDE_PATTERNS} ({holder.label}).")
        return Response(pull_decide(snapshot, reference).as_dict())
