"""Writes for organisations and teams. Every rule that spans rows lives here."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from orgs.models import MEMBERS_TEAM, OWNERS_TEAM, Organization, Team, TeamMembership
from orgs.naming import org_name_error
from orgs.selectors import last_owner_refusal
from policies.models import AccessPolicy, Publisher

User = get_user_model()

# Namespaces that must never belong to an organisation: the official images' namespace, and
# names that would pass for the registry or Docker itself.
RESERVED_NAMES = frozenset({"library", "docker", "dockerhub", "registry", "official", "admin"})


def organization_name_refusal(name: str) -> str | None:
    """Why ``name`` cannot be a new organisation's namespace, or ``None`` if it can: the name
    rule, reserved names, publishers' namespaces, names taken. (The admin's form asks too.)"""
    error = org_name_error(name)
    if error is not None:
        return error
    if name in RESERVED_NAMES:
        return f"The name '{name}' is reserved."
    if Publisher.objects.filter(namespace=name).exists():
        # Members may push to their organisation's namespace: owning a publisher's namespace
        # would let anyone publish "Verified Publisher" images.
        return f"The name '{name}' belongs to a publisher."
    if Organization.objects.filter(name=name).exists():
        return f"The name '{name}' is already taken."
    return None


@transaction.atomic
def organization_create(*, name: str, creator) -> Organization:
    """Create an organisation with its ``owners`` team (holding ``creator``), an empty
    ``members`` team (where invitations go by default) and its policy (Image Access Management
    off), all or nothing."""
    error = organization_name_refusal(name)
    if error is not None:
        raise ValidationError({"name": error})
    try:
        with transaction.atomic():
            organization = Organization.objects.create(name=name)
    except IntegrityError as exc:  # lost a race for the same name
        raise ValidationError({"name": f"The name '{name}' is already taken."}) from exc
    owners = Team.objects.create(
        organization=organization,
        name=OWNERS_TEAM,
        description="Members of this team manage the organization and can pull any image.",
    )
    TeamMembership.objects.create(team=owners, user=creator)
    Team.objects.create(
        organization=organization,
        name=MEMBERS_TEAM,
        description="Members of the organization: Image Access Management applies to their pulls.",
    )
    AccessPolicy.objects.create(organization=organization)
    return organization


@transaction.atomic
def team_create(*, organization: Organization, name: str, description: str = "") -> Team:
    """Create a team in ``organization``; names are unique within the organisation."""
    team = Team(organization=organization, name=name, description=description)
    team.full_clean(validate_unique=False, validate_constraints=False)
    if Team.objects.filter(organization=organization, name=name).exists():
        raise ValidationError({"name": f"A team named '{name}' already exists."})
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError as exc:
        raise ValidationError({"name": f"A team named '{name}' already exists."}) from exc
    return team


@transaction.atomic
def team_member_add(*, team: Team, user) -> TeamMembership:
    """Add an existing, active user to a team (which makes them a member of its organisation).

    Internal: people join by accepting an invitation (:mod:`orgs.invitations.services`), which
    calls this; no page adds members directly.
    """
    if not user.is_active:
        raise ValidationError({"username": f"The account '{user.username}' is deactivated."})
    membership, created = TeamMembership.objects.get_or_create(team=team, user=user)
    if not created:
        raise ValidationError({"username": f"{user.username} is already in team {team.name}."})
    return membership


def _lock_owners(organization: Organization) -> Team:
    """Lock the owners team row so that concurrent removals of owners are serialised."""
    return Team.objects.select_for_update().get(organization=organization, name=OWNERS_TEAM)


@transaction.atomic
def team_member_remove(*, team: Team, user) -> None:
    """Remove ``user`` from ``team``; the organisation never loses its last owner."""
    owners = _lock_owners(team.organization)
    if team.pk == owners.pk:
        _refuse_last_owner(owners, user)
    deleted, _ = TeamMembership.objects.filter(team=team, user=user).delete()
    if not deleted:
        raise ValidationError(f"{user.username} is not in team {team.name}.")


@transaction.atomic
def organization_member_remove(*, organization: Organization, user) -> None:
    """Remove ``user`` from every team of ``organization``; never the last owner."""
    owners = _lock_owners(organization)
    _refuse_last_owner(owners, user)
    deleted, _ = TeamMembership.objects.filter(team__organization=organization, user=user).delete()
    if not deleted:
        raise ValidationError(f"{user.username} is not a member of {organization.name}.")


def _refuse_last_owner(owners: Team, user) -> None:
    refusal = last_owner_refusal(organization=owners.organization, users=[user])
    if refusal is not None:
        raise ValidationError(refusal)
