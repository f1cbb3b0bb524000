"""Reads of single sign-on: an organisation's group mappings."""

from django.conf import settings
from django.db.models import QuerySet

from identity.config import Provider
from identity.models import GroupMapping, IdentityProvider, SsoIdentity
from orgs.models import Organization


def group_mappings_of(*, organization: Organization) -> QuerySet[GroupMapping]:
    """The organisation's group mappings, by provider, group and team."""
    return GroupMapping.objects.filter(team__organization=organization).select_related("team")


def has_sso_identity(*, user) -> bool:
    """Whether ``user`` has ever signed in through a provider (an account linked to it)."""
    return SsoIdentity.objects.filter(user=user).exists()


def configured_providers() -> tuple[Provider, ...]:
    """Every provider people may sign in with: ``OIDC_PROVIDERS``, then the enabled ones of
    the admin (by label) whose id the setting does not use."""
    from_settings = tuple(settings.OIDC_PROVIDERS)
    taken = {provider.id for provider in from_settings}
    from_admin = tuple(
        row.as_provider()
        for row in IdentityProvider.objects.filter(enabled=True)
        if row.slug not in taken
    )
    return from_settings + from_admin


def provider_by_id(provider_id: str) -> Provider | None:
    """The provider ``provider_id`` people may sign in with, or None."""
    return next((p for p in configured_providers() if p.id == provider_id), None)
