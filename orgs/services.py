"""Writes for organisations and teams. Every rule that spans rows lives here."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core import ratelimit
from orgs.models import MEMBERS_TEAM, OWNERS_TEAM, Organization, Team, TeamMembership
from orgs.namespaces import (
    is_personal_namespace,
    namespace_is_referenced,
    organization_setups_run,
    registered_name_refusal,
)
from orgs.naming import org_name_error
from orgs.selectors import last_owner_refusal, organization_creation_refusal
from orgs.team_extensions import team_deletion_hooks_run

User = get_user_model()

# Namespaces that must never belong to an organisation: the official images' namespace, and
# names that would pass for the registry or Docker itself.
RESERVED_NAMES = frozenset({"library", "docker", "dockerhub", "registry", "official", "admin"})


def organization_name_refusal(name: str) -> str | None:
    """Why ``name`` cannot be a new organisation's namespace, or ``None`` if it can: the name
    rule, reserved names, publishers' namespaces, users' personal namespaces, names taken.
    (The admin's form asks too: these hold for site staff as well.)"""
    error = org_name_error(name)
    if error is not None:
        return error
    if name in RESERVED_NAMES:
        return f"The name '{name}' is reserved."
    refused = registered_name_refusal(name)  # e.g. a publisher's namespace (policies)
    if refused is not None:
        return refused
    if Organization.objects.filter(name=name).exists():
        return f"The name '{name}' is already taken."
    if is_personal_namespace(name):
        # Docker Hub: a username is its user's namespace, so no organisation can have it.
        return f"The name '{name}' is already taken: it is a user's personal namespace."
    return None


def _attempts_rate() -> ratelimit.RateLimit:
    return ratelimit.RateLimit(
        name="organization-create",
        limit=settings.ORGANIZATION_CREATE_ATTEMPTS_PER_USER_PER_HOUR,
        window=3600,
    )


def organization_create_checked(*, name: str, creator) -> Organization:
    """An organisation that a signed-in user creates in the portal (:func:`organization_create`
    is the unchecked step, for the admin, commands and fixtures).

    Refused: a user who may not create organisations (``ORGANIZATION_CREATION``,
    ``PermissionDenied``); more than ``ORGANIZATION_CREATE_ATTEMPTS_PER_USER_PER_HOUR``
    attempts an hour (each answer says whether a name is taken), or any attempt while the
    shared cache that counts them is down; and, unless ``creator`` is site staff, a namespace
    the portal already names (:mod:`orgs.namespaces`): a staff member must create it.
    """
    refusal = organization_creation_refusal(user=creator)
    if refusal is not None:
        raise PermissionDenied(refusal)
    ratelimit.hit_or_refuse(
        _attempts_rate(),
        str(creator.pk),
        refusal="You have made {limit} attempts to create an organization within the hour, the "
        "most the portal allows (each says whether a name is taken); try again {wait}.",
        unavailable="Organizations can't be created right now: the portal's rate-limit store "
        "(its shared cache) is unavailable. Try again later; if it keeps failing, site staff "
        "must check CACHE_URL.",
    )
    error = organization_name_refusal(name)
    if error is None and not creator.is_staff and namespace_is_referenced(name):
        error = (
            f"The namespace '{name}' is already in use on this portal: repositories under "
            f"{name}/ are named in allowlists, exception requests or pull records. Members of "
            "an organization can push to its namespace, so only site staff can create the "
            f"organization {name}: ask a staff member to create it for you."
        )
    if error is not None:
        raise ValidationError({"name": error})
    return organization_create(name=name, creator=creator)


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
    organization_setups_run(organization)  # e.g. its access policy (policies)
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


def _team_name_taken(name: str) -> ValidationError:
    return ValidationError({"name": f"A team named '{name}' already exists."}, code="taken")


@transaction.atomic
def team_update(*, team: Team, name: str, description: str) -> Team:
    """Rename ``team`` and/or change its description. The ``owners`` team keeps its name, and no
    team can take it; names stay unique within the organisation (a form error, never an
    overwrite). Grants, allowlist entries and mappings follow the team, not its name."""
    team = Team.objects.select_for_update().get(pk=team.pk)
    if name != team.name:
        if team.is_owners:
            raise ValidationError(
                {
                    "name": f"The {OWNERS_TEAM} team can't be renamed: it is who manages the "
                    "organization."
                },
                code="owners",
            )
        if (
            name == OWNERS_TEAM
            or Team.objects.filter(organization=team.organization, name=name).exists()
        ):
            raise _team_name_taken(name)
    team.name, team.description = name, description
    team.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            team.save(update_fields=["name", "description"])
    except IntegrityError as exc:  # a concurrent rename or create took the name
        raise _team_name_taken(name) from exc
    return team


@transaction.atomic
def team_delete(*, team: Team, actor) -> None:
    """Delete ``team`` with its memberships, pending invitations and what the apps above keep
    for it (grants, allowlist entries, single sign-on mappings; their registered hooks record it
    first). Never the ``owners`` team. Members in no other team leave the organisation."""
    team = Team.objects.select_for_update().filter(pk=team.pk).first()
    if team is None:
        raise ValidationError("This team no longer exists.", code="gone")
    if team.is_owners:
        raise ValidationError(
            f"The {OWNERS_TEAM} team can't be deleted: it is who manages the organization.",
            code="owners",
        )
    team_deletion_hooks_run(team, actor)
    team.delete()


@transaction.atomic
def team_member_add_existing(*, team: Team, user) -> TeamMembership:
    """An owner adds someone who is already a member of the organisation (in another team) to
    ``team`` directly: they agreed to be in the organisation when they accepted an invitation.
    People not yet members are invited instead (:mod:`orgs.invitations.services`)."""
    if not TeamMembership.objects.filter(team__organization=team.organization, user=user).exists():
        raise ValidationError(
            {
                "username": f"{user.username} is not a member of {team.organization.name}: "
                "invite them instead."
            },
            code="not_member",
        )
    return team_member_add(team=team, user=user)


@transaction.atomic
def team_member_add(*, team: Team, user) -> TeamMembership:
    """Add an existing, active user to a team (which makes them a member of its organisation).

    Internal: people join by accepting an invitation (:mod:`orgs.invitations.services`), which
    calls this; owners add members of the organisation to more teams through
    :func:`team_member_add_existing`.
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


@transaction.atomic
def organization_next_steps_dismiss(*, organization: Organization) -> None:
    """Hide the "Next steps" box from the organisation's home, for every owner (the first
    dismissal counts)."""
    Organization.objects.filter(pk=organization.pk, next_steps_dismissed_at=None).update(
        next_steps_dismissed_at=timezone.now()
    )
