"""What the SCIM service announces: the RFC 7643 User and Group schemas (from scim2-server's
copy of the RFC) narrowed to the attributes the portal keeps, the two resource types, and the
service provider configuration (PATCH and filtering; no bulk, sort, ETag or password change).

An identity provider (and scim2-tester) learns from ``/Schemas`` which attributes exist, so
announcing only those the portal stores means nothing it sends is silently dropped.
"""

from functools import cache

from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    ETag,
    Filter,
    Patch,
    Schema,
    ScimProvider,
    ServiceProviderConfig,
    Sort,
)
from scim2_server.utils import load_default_resource_types, load_default_schemas

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
MAX_RESULTS = 200

# Attribute -> the sub-attributes kept (None: a simple attribute).
KEPT = {
    USER_SCHEMA: {
        "userName": None,
        "name": {"givenName", "familyName"},
        "displayName": None,
        "active": None,
        "emails": {"value"},
        "groups": {"value", "$ref", "display"},
    },
    GROUP_SCHEMA: {
        "displayName": None,
        "members": {"value", "$ref", "type"},
    },
}


def _narrowed(schema: Schema) -> Schema:
    kept = KEPT[schema.id]
    attributes = []
    for attribute in schema.attributes:
        if attribute.name not in kept:
            continue
        subattributes = kept[attribute.name]
        if subattributes is not None:
            attribute = attribute.model_copy(
                update={
                    "sub_attributes": [
                        sub for sub in attribute.sub_attributes if sub.name in subattributes
                    ]
                }
            )
        if attribute.name == "members":
            only_users = {
                "$ref": {"reference_types": ["User"]},
                "type": {"canonical_values": ["User"]},
            }
            attribute.sub_attributes = [
                sub.model_copy(update=only_users[sub.name]) if sub.name in only_users else sub
                for sub in attribute.sub_attributes
            ]
        attributes.append(attribute)
    return schema.model_copy(update={"attributes": attributes})


def service_provider_config() -> ServiceProviderConfig:
    """PATCH and filtering (at most :data:`MAX_RESULTS` a page), bearer tokens."""
    return ServiceProviderConfig(
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=False),
        authentication_schemes=[
            AuthenticationScheme(
                type="oauthbearertoken",
                name="Bearer token",
                description="A SCIM token made by the organisation's owners on its "
                "Provisioning settings page.",
                primary=True,
            )
        ],
    )


@cache
def provider() -> ScimProvider:
    """The description of the service: narrowed schemas, User and Group (no extension)."""
    schemas = [_narrowed(schema) for schema in load_default_schemas().values() if schema.id in KEPT]
    resource_types = [
        resource_type.model_copy(update={"schema_extensions": None})
        for resource_type in load_default_resource_types().values()
    ]
    return ScimProvider.from_discovery(schemas, resource_types, config=service_provider_config())
