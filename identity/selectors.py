"""Reads of single sign-on: an organisation's group mappings."""

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse

from identity.config import Provider
from identity.models import GroupMapping, IdentityProvider, SsoIdentity
from orgs.models import Organization, Team
from orgs.team_extensions import TeamSection


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


def team_section(team: Team) -> TeamSection | None:
    """The team page's single sign-on section: the groups whose members join the team, and
    that deleting the team ends those mappings (registered with :mod:`orgs.team_extensions`
    from ``IdentityConfig.ready``). None when no group maps to the team."""
    mappings = list(team.group_mappings.order_by("provider", "group"))
    if not mappings:
        return None
    labels = {provider.id: provider.label for provider in configured_providers()}
    return TeamSection(
        title="Single sign-on",
        lines=tuple(
            f"Members of group '{m.group}' of {labels.get(m.provider, m.provider)} join this team"
            for m in mappings
        ),
        link_text="Single sign-on settings",
        link_url=reverse("identity:organization", kwargs={"org": team.organization.name}),
        deleted_with=(
            f"Single sign-on: {len(mappings)} group mapping{'s' if len(mappings) > 1 else ''} "
            "to this team end."
        ),
    )
