"""The SCIM resources of one organisation, for scim2-server: its users and teams as SCIM Users
and Groups. scim2-server does the protocol (routing, validation, PATCH, filters' meaning,
paging parameters, errors); this storage reads and writes through the selectors and services,
and maps their refusals to SCIM errors."""

import hashlib
import json
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from scim2_models import (
    ConflictException,
    InvalidFilterException,
    InvalidValueException,
    MutabilityException,
    NotFoundException,
    NotImplementedException,
    Resource,
    ResourceType,
    ScimFilter,
    SearchRequest,
    UniquenessException,
)
from scim2_server.storage import ScimStorage, SearchPage
from scim2_server.utils import parametrize

from orgs.models import Organization, Team
from provisioning import selectors, services
from provisioning.models import ProvisionedTeam, ScimToken
from provisioning.schema import GROUP_SCHEMA, USER_SCHEMA

USER, GROUP = "User", "Group"
_ERRORS = {
    "uniqueness": UniquenessException,
    "last_owner": ConflictException,
    "mutability": MutabilityException,
}


@contextmanager
def scim_errors():
    """A service's ``ValidationError`` as the SCIM error its code names (400 invalidValue by
    default; the last owner is a 409)."""
    try:
        yield
    except ValidationError as error:
        raise _ERRORS.get(getattr(error, "code", None), InvalidValueException)(
            detail=" ".join(error.messages)
        ) from error


def _version(document: dict) -> str:
    digest = hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode())
    return f'W/"{digest.hexdigest()[:16]}"'


def _meta(resource_type: str, created, modified, document: dict) -> dict:
    return {
        "resourceType": resource_type,
        "created": created.isoformat(),
        "lastModified": max(created, modified).isoformat(),
        "version": _version(document),
    }


def _id(resource_id: str) -> int:
    """A resource id as a primary key; anything else names no resource (404)."""
    if not resource_id.isascii() or not resource_id.isdigit() or len(resource_id) > 18:
        raise NotFoundException(detail=f"No resource {resource_id[:40]!r}")
    return int(resource_id)


def _equality(scim_filter) -> tuple[str, Any] | None:
    """``(attribute, value)`` of a filter that compares one attribute with ``eq``, to narrow
    the rows read before the filter itself is applied."""
    node = getattr(scim_filter, "ast", None)
    if node is None or getattr(getattr(node, "op", None), "value", None) != "eq":
        return None
    value = getattr(node, "value", None)
    if not isinstance(value, str):
        return None
    return str(node.attr_path).rsplit(":", 1)[-1].lower(), value


class OrganizationStorage(ScimStorage):
    """One organisation's users and teams, as seen by the holder of one of its SCIM tokens."""

    def __init__(self, *, organization: Organization | None, token: ScimToken | None, models: dict):
        self.organization = organization
        self.token = token
        self.models = models  # resource type name -> model

    # -- Reading -----------------------------------------------------------------------------

    def _user_documents(self, users) -> list[dict]:
        users = list(users)
        ids = [user.pk for user in users]
        rows = selectors.provisioned_accounts(organization=self.organization, user_ids=ids)
        groups: dict[int, list[dict]] = {}
        for user_id, team_id, team_name in selectors.team_memberships(
            organization=self.organization, user_ids=ids
        ):
            groups.setdefault(user_id, []).append(
                {"value": str(team_id), "$ref": f"Groups/{team_id}", "display": team_name}
            )
        documents = []
        for user in users:
            row = rows.get(user.pk)
            document = {
                "schemas": [USER_SCHEMA],
                "id": str(user.pk),
                "userName": user.username,
                "groups": groups.get(user.pk, []),
            }
            name = {"givenName": user.first_name, "familyName": user.last_name}
            if any(name.values()):
                document["name"] = {key: value for key, value in name.items() if value}
            if user.email:
                document["emails"] = [{"value": user.email}]
            if row is None:
                document["active"] = user.is_active
            else:
                if row.active is not None:
                    document["active"] = row.active
                if row.display_name:
                    document["displayName"] = row.display_name
                if row.external_id:
                    document["externalId"] = row.external_id
            created = row.created_at if row else user.date_joined
            modified = row.updated_at if row else user.date_joined
            document["meta"] = _meta(USER, created, modified, document)
            documents.append(document)
        return documents

    def _group_documents(self, teams) -> list[dict]:
        teams = list(teams)
        members: dict[int, list[dict]] = {}
        for user_id, team_id, _ in selectors.team_memberships(
            organization=self.organization, team_ids=[team.pk for team in teams]
        ):
            members.setdefault(team_id, []).append(
                {"value": str(user_id), "$ref": f"Users/{user_id}", "type": USER}
            )
        documents = []
        for team in teams:
            provisioned = getattr(team, "provisioned", None)
            document = {
                "schemas": [GROUP_SCHEMA],
                "id": str(team.pk),
                "displayName": provisioned.display_name if provisioned else team.name,
                "members": members.get(team.pk, []),
            }
            if provisioned and provisioned.external_id:
                document["externalId"] = provisioned.external_id
            modified = provisioned.updated_at if provisioned else team.created_at
            document["meta"] = _meta(GROUP, team.created_at, modified, document)
            documents.append(document)
        return documents

    def _users(self):
        return selectors.scim_users(organization=self.organization)

    def _groups(self):
        return selectors.scim_groups(organization=self.organization).select_related("provisioned")

    def _resources(self, resource_type: ResourceType, objects) -> list[Resource[Any]]:
        model = self.models[resource_type.name]
        documents = (
            self._user_documents(objects)
            if resource_type.name == USER
            else self._group_documents(objects)
        )
        return [model.model_validate(document) for document in documents]

    def _user(self, resource_id: str):
        user = self._users().filter(pk=_id(resource_id)).first()
        if user is None:
            raise NotFoundException(detail=f"No user {resource_id[:40]!r}")
        return user

    def _team(self, resource_id: str) -> Team:
        team = self._groups().filter(pk=_id(resource_id)).first()
        if team is None:
            raise NotFoundException(detail=f"No group {resource_id[:40]!r}")
        return team

    def get(self, resource_type, resource_id, *, response_parameters=None):
        objects = (
            [self._user(resource_id)] if resource_type.name == USER else [self._team(resource_id)]
        )
        return self._resources(resource_type, objects)[0]

    def search(self, resource_types, search_request: SearchRequest, *, position=None):
        if len(resource_types) != 1:
            raise NotImplementedException(detail="Search Users or Groups, not the root.")
        resource_type = resource_types[0]
        model = self.models[resource_type.name]
        objects = self._users() if resource_type.name == USER else self._groups()
        scim_filter = search_request.filter
        if scim_filter is not None:
            if not scim_filter.models:
                scim_filter = parametrize(ScimFilter, model)(str(scim_filter))
            objects = self._narrowed(resource_type, objects, scim_filter)
        resources = self._resources(resource_type, objects)
        if scim_filter is not None:
            try:
                resources = [resource for resource in resources if scim_filter.match(resource)]
            except (ValueError, TypeError) as error:
                raise InvalidFilterException(detail=str(error)) from error
        start = search_request.start_index_0 or 0
        stop = None if search_request.count is None else start + search_request.count
        return SearchPage(total=len(resources), resources=resources[start:stop])

    def _narrowed(self, resource_type, objects, scim_filter):
        """Fewer rows for the most common filters (``userName eq``, ``externalId eq``,
        ``displayName eq``); the filter is applied to what is left in any case."""
        equality = _equality(scim_filter)
        if equality is None:
            return objects
        attribute, value = equality
        if resource_type.name == USER:
            if attribute == "username":
                return objects.filter(username__iexact=value)
            if attribute == "externalid":
                return objects.filter(
                    provisioned_by__organization=self.organization,
                    provisioned_by__external_id=value,
                )
        elif attribute == "displayname":
            return objects.filter(
                pk__in=ProvisionedTeam.objects.filter(display_name__iexact=value).values("team")
            ) | objects.filter(name__iexact=value, provisioned__isnull=True)
        elif attribute == "externalid":
            return objects.filter(provisioned__external_id=value)
        return objects

    # -- Writing -----------------------------------------------------------------------------

    @staticmethod
    def _user_data(resource: Resource[Any]) -> services.UserData:
        document = resource.model_dump()
        emails = document.get("emails") or []
        name = document.get("name") or {}
        return services.UserData(
            username=document.get("userName") or "",
            first_name=name.get("givenName") or "",
            last_name=name.get("familyName") or "",
            email=(emails[0].get("value") or "") if emails else "",
            display_name=document.get("displayName") or "",
            external_id=document.get("externalId") or "",
            active=document.get("active"),
        )

    @staticmethod
    def _group_data(resource: Resource[Any]) -> services.GroupData:
        document = resource.model_dump()
        ids = set()
        for member in document.get("members") or []:
            value = str(member.get("value") or "")
            if not value.isascii() or not value.isdigit() or len(value) > 18:
                raise InvalidValueException(detail=f"No such user: {value[:40]!r}.")
            ids.add(int(value))
        return services.GroupData(
            display_name=document.get("displayName") or "",
            external_id=document.get("externalId") or "",
            member_ids=frozenset(ids),
        )

    def create(self, resource_type, resource):
        with scim_errors():
            if resource_type.name == USER:
                account = services.scim_user_create(
                    organization=self.organization,
                    token=self.token,
                    data=self._user_data(resource),
                )
                objects = [account.user]
            else:
                team = services.scim_group_create(
                    organization=self.organization,
                    token=self.token,
                    data=self._group_data(resource),
                    allowed=self._users(),
                )
                objects = [self._groups().get(pk=team.pk)]
        return self._resources(resource_type, objects)[0]

    def update(self, resource_type, resource, *, expected_version=None):
        with scim_errors():
            if resource_type.name == USER:
                user = self._user(resource.id)
                services.scim_user_update(
                    organization=self.organization,
                    token=self.token,
                    user=user,
                    data=self._user_data(resource),
                )
            else:
                services.scim_group_update(
                    team=self._team(resource.id),
                    token=self.token,
                    data=self._group_data(resource),
                    allowed=self._users(),
                )
        return self.get(resource_type, resource.id)

    def delete(self, resource_type, resource_id, *, expected_version=None):
        with scim_errors():
            if resource_type.name == USER:
                services.scim_user_delete(
                    organization=self.organization, token=self.token, user=self._user(resource_id)
                )
            else:
                services.scim_group_delete(team=self._team(resource_id), token=self.token)

    @contextmanager
    def operation(self):
        """One SCIM operation, all or nothing."""
        with transaction.atomic():
            yield
