"""What the SCIM service announces: the RFC 7643 User (with the enterprise extension) and
Group schemas, from scim2-server's copy of the RFC, with every attribute the portal does not
keep read-only; the two resource types; and the service provider configuration (PATCH and
filtering; no bulk, sort, ETag or password change).

An identity provider (and scim2-tester) learns from ``/Schemas`` which attributes it may write:
those the portal stores and returns. What it sends of the others is ignored, as the RFC says
of read-only attributes, so no IdP's extra attribute makes a request fail.
"""

from functools import cache

from scim2_models import (
    Attribute,
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    ETag,
    Filter,
    Mutability,
    Patch,
    Schema,
    ScimProvider,
    ServiceProviderConfig,
    Sort,
)
from scim2_server.utils import load_default_resource_types, load_default_schemas

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
MAX_RESULTS = 200

# What the portal keeps: attribute -> the sub-attributes kept (None: a simple attribute).
# Every other attribute (and sub-attribute) is announced read-only, so that what identity
# providers commonly send (locale, title, emails' type and primary, the enterprise extension,
# a member's display) is accepted and ignored (RFC 7643 §2.2), never stored.
KEPT = {
    USER_SCHEMA: {
        "userName": None,
        "name": {"givenName", "familyName"},
        "displayName": None,
        "active": None,
        "emails": {"value"},
    },
    GROUP_SCHEMA: {
        "displayName": None,
        "members": {"value", "$ref", "type"},
    },
    ENTERPRISE_SCHEMA: {},
}


def _read_only(attribute: Attribute) -> Attribute:
    return attribute.model_copy(
        update={
            "mutability": Mutability.read_only,
            "sub_attributes": [_read_only(sub) for sub in attribute.sub_attributes or []] or None,
        }
    )


def _announced(schema: Schema) -> Schema:
    """The RFC's schema, with what the portal does not keep read-only, and a group's members
    users only (teams hold people, not teams)."""
    kept = KEPT[schema.id]
    attributes = []
    for attribute in schema.attributes:
        if attribute.name not in kept:
            attributes.append(_read_only(attribute))
            continue
        subattributes = kept[attribute.name]
        if subattributes is not None:
            only_users = {
                "$ref": {"reference_types": ["User"]},
                "type": {"canonical_values": ["User"]},
            }
            attribute = attribute.model_copy(
                update={
                    "sub_attributes": [
                        (
                            sub.model_copy(update=only_users[sub.name])
                            if sub.name in only_users
                            else sub
                        )
                        if sub.name in subattributes
                        else _read_only(sub)
                        for sub in attribute.sub_attributes
                    ]
                }
            )
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
    schemas = [_announced(schema) for schema in load_default_schemas().values()]
    resource_types = load_default_resource_types().values()
    return ScimProvider.from_discovery(schemas, resource_types, config=service_provider_config())
