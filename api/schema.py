"""The OpenAPI schema, generated from the views by drf-spectacular, plus what it cannot see:
the bearer scheme, and every error an operation can answer (documented, so that clients and
the schema fuzzing in the tests know them)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent

from api.serializers import StrictSerializer

ERROR = {
    "type": "object",
    "description": "An error: detail says what went wrong and what to do.",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
INVALID_INPUT = {
    "type": "object",
    "description": "Invalid input: detail sums it up; fields has one message per field, named "
    "by its dotted path (e.g. restricted_images.enabled).",
    "properties": {
        "detail": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "required": ["detail"],
}
# Docker Hub's ValueError ({"text", "fields"}), with detail as well.
HUB_VALUE_ERROR = {
    **INVALID_INPUT,
    "properties": {**INVALID_INPUT["properties"], "text": {"type": "string"}},
}
WHY = {
    400: "Invalid input",
    401: "Not signed in, or an invalid, expired or revoked bearer",
    403: "Not allowed (a member on an owner action, a read-only access token writing, or an "
    "access token managing access tokens)",
    404: "Not found (also an organization you are not a member of)",
    409: "Conflicts with the current state (already decided, a duplicate)",
    412: "If-Match is stale: the settings changed since you read them; nothing was changed",
    415: "The body must be JSON (Content-Type: application/json)",
    429: "Too many failed sign-ins for this account from your address (see Retry-After)",
    503: "Sign-in is temporarily unavailable",
}


class BearerScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BearerAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An access token (iamp_...), or the bearer POST /v2/auth/token "
            "returns (a JWT that expires in 10 minutes).",
        }


class ApiSchema(AutoSchema):
    """drf-spectacular's schema of an operation, with the errors it can answer, and request
    bodies that refuse unknown fields (``additionalProperties: false``) as the API does."""

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and isinstance(serializer, StrictSerializer):
            schema["additionalProperties"] = False
        return schema

    def _component(self, name: str, schema: dict) -> dict:
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, schema=schema, object=name
        )
        self.registry.register_on_missing(component)
        return component.ref

    def error_statuses(self, operation: dict) -> list[int]:
        parameters = operation.get("parameters", [])
        statuses = []
        if "requestBody" in operation or any(p["in"] == "query" for p in parameters):
            statuses.append(400)
        if operation.get("security") != [{}] and "security" in operation:
            statuses += [401, 403]
        if "{" in self.path:
            statuses.append(404)
        if self.method in ("POST", "PUT", "PATCH", "DELETE") and "{" in self.path:
            statuses.append(409)
        if any(p["in"] == "header" and p["name"] == "If-Match" for p in parameters):
            statuses.append(412)
        if "requestBody" in operation:
            statuses.append(415)
        statuses += getattr(self.view, "error_statuses", [])
        return statuses

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        hub = getattr(self.view, "docker_hub", False)
        for status in self.error_statuses(operation):
            if status == 400:
                ref = self._component(
                    "HubValueError" if hub else "InvalidInput",
                    HUB_VALUE_ERROR if hub else INVALID_INPUT,
                )
            else:
                ref = self._component("Error", ERROR)
            operation["responses"].setdefault(
                str(status),
                {"description": WHY[status], "content": {"application/json": {"schema": ref}}},
            )
        return operation
