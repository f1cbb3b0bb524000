"""Reads of single sign-on: an organisation's group mappings."""

from django.db.models import QuerySet

from identity.models import GroupMapping, SsoIdentity
from orgs.models import Organization


def group_mappings_of(*, organization: Organization) -> QuerySet[GroupMapping]:
    """The organisation's group mappings, by provider, group and team."""
    return GroupMapping.objects.filter(team__organization=organization).select_related("team")


def has_sso_identity(*, user) -> bool:
    """Whether ``user`` has ever signed in through a provider (an account linked to it)."""
    return SsoIdentity.objects.filter(user=user).exists()
