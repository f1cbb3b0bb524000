"""Reads for organisations and teams."""

from django.db.models import Prefetch, QuerySet

from orgs.models import OWNERS_TEAM, Organization, Team, TeamMembership


def organization_for_member(*, user, name: str) -> Organization:
    """The organisation ``name`` if ``user`` is a member; raises ``Organization.DoesNotExist``
    otherwise, so that non-members cannot tell a hidden organisation from a missing one."""
    return Organization.objects.for_user(user).get(name=name)


def is_owner(*, user, organization: Organization) -> bool:
    """Whether ``user`` is in the organisation's owners team."""
    return TeamMembership.objects.filter(
        team__organization=organization, team__name=OWNERS_TEAM, user=user
    ).exists()


def organizations_of(*, user) -> list[dict]:
    """The user's organisations as ``{"organization", "is_owner"}`` rows, by name."""
    owned = set(Organization.objects.owned_by(user).values_list("pk", flat=True))
    return [
        {"organization": org, "is_owner": org.pk in owned}
        for org in Organization.objects.for_user(user)
    ]


def team_of_organization(*, organization: Organization, name: str) -> Team:
    """The organisation's team ``name``, its memberships prefetched; raises
    ``Team.DoesNotExist``."""
    return organization_teams(organization=organization).get(name=name)


def organization_members(*, organization: Organization) -> list[dict]:
    """Members of the organisation with their teams, ordered by username."""
    members: dict[int, dict] = {}
    rows = (
        TeamMembership.objects.filter(team__organization=organization)
        .select_related("user", "team")
        .order_by("user__username", "team__name")
    )
    for membership in rows:
        entry = members.setdefault(
            membership.user_id, {"user": membership.user, "teams": [], "is_owner": False}
        )
        entry["teams"].append(membership.team)
        entry["is_owner"] = entry["is_owner"] or membership.team.is_owners
    return list(members.values())


def organization_teams(*, organization: Organization) -> QuerySet[Team]:
    """Teams of the organisation with their memberships prefetched."""
    return organization.teams.prefetch_related(
        Prefetch("memberships", queryset=TeamMembership.objects.select_related("user"))
    ).order_by("name")
