"""Reads for organisations and teams."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.template.defaultfilters import pluralize

from orgs.models import OWNERS_TEAM, Invitation, Organization, Team, TeamMembership

MEMBERS_PER_PAGE = 50


def organization_for_member(*, user, name: str) -> Organization:
    """The organisation ``name`` if ``user`` is a member; raises ``Organization.DoesNotExist``
    otherwise, so that non-members cannot tell a hidden organisation from a missing one."""
    return Organization.objects.for_user(user).get(name=name)


def is_owner(*, user, organization: Organization) -> bool:
    """Whether ``user`` is in the organisation's owners team."""
    return TeamMembership.objects.filter(
        team__organization=organization, team__name=OWNERS_TEAM, user=user
    ).exists()


def last_owner_refusal(*, organization: Organization, users: Iterable) -> str | None:
    """Why ``users`` may not all stop being owners of ``organization``: it would be left
    without an active owner. ``None`` when they may (or none of them is an owner)."""
    users = list(users)
    owners = TeamMembership.objects.filter(team__organization=organization, team__name=OWNERS_TEAM)
    leaving = sorted(owners.filter(user__in=users).values_list("user__username", flat=True))
    if not leaving or owners.exclude(user__in=users).filter(user__is_active=True).exists():
        return None
    who = f"{leaving[0]} is" if len(leaving) == 1 else f"{' and '.join(leaving)} are"
    return (
        f"{who} the last owner{pluralize(len(leaving))} of {organization.name}. An "
        "organization needs an owner: invite another owner, and once they have accepted, try "
        "again."
    )


def last_owner_refusals(*, users: Iterable) -> list[str]:
    """Why ``users`` may not all stop being owners at once (their accounts deleted or
    deactivated): one :func:`last_owner_refusal` per organisation that would be left without an
    active owner. Empty when none would."""
    users = list(users)
    organizations = Organization.objects.filter(
        teams__name=OWNERS_TEAM, teams__memberships__user__in=users
    ).distinct()
    refusals = (
        last_owner_refusal(organization=organization, users=users)
        for organization in organizations.order_by("name")
    )
    return [refusal for refusal in refusals if refusal]


def organizations_of(*, user) -> QuerySet[Organization]:
    """The user's organisations by name, each annotated with ``is_owner`` (the user's role),
    ``iam_enabled`` (whether Image Access Management is on) and ``iam_audit_only`` (whether
    it is in audit-only mode): one query."""
    owners = TeamMembership.objects.filter(
        team__organization=OuterRef("pk"), team__name=OWNERS_TEAM, user=user
    )
    return Organization.objects.for_user(user).annotate(
        is_owner=Exists(owners),
        iam_enabled=F("access_policy__enabled"),
        iam_audit_only=F("access_policy__audit_only"),
    )


def team_of_organization(*, organization: Organization, name: str) -> Team:
    """The organisation's team ``name``; raises ``Team.DoesNotExist``."""
    return organization.teams.get(name=name)


@dataclass(frozen=True)
class MemberRow:
    """One member on the members page: the user, their teams in the organisation, and whether
    one of them is the owners team."""

    user: object
    teams: tuple[Team, ...]

    @property
    def is_owner(self) -> bool:
        return any(team.is_owners for team in self.teams)


def organization_members(
    *,
    organization: Organization,
    query: str = "",
    page: str | int | None = 1,
    per_page: int = MEMBERS_PER_PAGE,
) -> Page:
    """One page of ``per_page`` of the organisation's members (usernames containing ``query``,
    ignoring case) by username, as :class:`MemberRow` objects: three queries (count, page,
    their teams) whatever the organisation's size. A malformed or out-of-range ``page`` gives
    the nearest valid page."""
    memberships = TeamMembership.objects.filter(team__organization=organization)
    users = (
        get_user_model()
        .objects.filter(Exists(memberships.filter(user=OuterRef("pk"))))
        .order_by("username")
    )
    if query:
        users = users.filter(username__icontains=query)
    result = Paginator(users, per_page).get_page(page)
    teams: dict[int, list[Team]] = {user.pk: [] for user in result}
    for membership in (
        memberships.filter(user__in=list(teams)).select_related("team").order_by("team__name")
    ):
        teams[membership.user_id].append(membership.team)
    result.object_list = [
        MemberRow(user=user, teams=tuple(teams[user.pk])) for user in result.object_list
    ]
    return result


def team_members(*, team: Team, query: str = "", page: str | int | None = 1) -> Page:
    """One page of the team's memberships (with their users), by username; two queries."""
    memberships = team.memberships.select_related("user").order_by("user__username")
    if query:
        memberships = memberships.filter(user__username__icontains=query)
    return Paginator(memberships, MEMBERS_PER_PAGE).get_page(page)


def team_member_candidates(*, team: Team) -> QuerySet:
    """Users an owner may add to ``team`` directly: the organisation's active members who are
    not in it yet, by username (everyone else is invited)."""
    in_organization = TeamMembership.objects.filter(
        team__organization_id=team.organization_id, user=OuterRef("pk")
    )
    in_team = TeamMembership.objects.filter(team=team, user=OuterRef("pk"))
    return (
        get_user_model()
        .objects.filter(Exists(in_organization), ~Exists(in_team), is_active=True)
        .order_by("username")
    )


def team_only_members(*, team: Team) -> list[str]:
    """Usernames of ``team``'s members who are in no other team of its organisation: deleting
    the team takes them out of the organisation."""
    elsewhere = TeamMembership.objects.filter(
        team__organization_id=team.organization_id, user=OuterRef("user")
    ).exclude(team=team)
    return list(
        team.memberships.filter(~Exists(elsewhere))
        .order_by("user__username")
        .values_list("user__username", flat=True)
    )


@dataclass(frozen=True)
class NextStep:
    """One of the first things an owner does in a new organisation, and whether it is done
    (``None``: the portal can't tell)."""

    label: str
    url_name: str
    done: bool | None


def organization_next_steps(*, organization: Organization) -> list[NextStep]:
    """The "Next steps" an owner sees on the organisation's home until an owner dismisses them:
    invite members (done once someone else is a member or invited), turn on Image Access
    Management, enforce sign-in in Docker Desktop (which the portal can't see: ``done`` is
    None). Empty once dismissed."""
    if organization.next_steps_dismissed_at is not None:
        return []
    memberships = TeamMembership.objects.filter(team__organization=organization)
    row = (
        Organization.objects.filter(pk=organization.pk)
        .annotate(
            iam_enabled=F("access_policy__enabled"),
            others=Exists(
                memberships.exclude(
                    user__in=memberships.filter(team__name=OWNERS_TEAM).values("user")
                )
            ),
            owners=Count("teams__memberships", filter=Q(teams__name=OWNERS_TEAM)),
            invited=Exists(Invitation.objects.filter(team__organization=OuterRef("pk"))),
        )
        .values("iam_enabled", "others", "owners", "invited")
        .get()
    )
    return [
        NextStep(
            "Invite members",
            "orgs:invitations",
            row["others"] or row["invited"] or row["owners"] > 1,
        ),
        NextStep(
            "Turn on Image Access Management", "policies:permissions", bool(row["iam_enabled"])
        ),
        NextStep("Set up sign-in enforcement for Docker Desktop", "signin:sign_in", None),
    ]


def teams_of_member(*, organization: Organization, user) -> list[Team]:
    """The teams of ``organization`` that ``user`` is in, by name."""
    return list(organization.teams.filter(memberships__user=user).order_by("name"))


def organization_teams(*, organization: Organization) -> QuerySet[Team]:
    """Teams of the organisation by name, each annotated with ``member_count``."""
    return organization.teams.annotate(member_count=Count("memberships")).order_by("name")


def organization_creation_refusal(*, user) -> str | None:
    """Why ``user`` may not create organisations in the portal (``ORGANIZATION_CREATION``:
    ``any`` signed-in user, or ``staff`` only), or ``None`` if they may."""
    if settings.ORGANIZATION_CREATION == "staff" and not user.is_staff:
        return (
            "Only site staff can create organizations on this portal. Ask a staff member to "
            "create one for you, or ask an owner of an existing organization to invite you."
        )
    return None


def password_sign_in_refusal(*, user_id: int, username: str) -> str | None:
    """Why the account may not sign in with its password, nor keep using a registry session
    opened with it: the operator made single sign-on the only way in (``SSO_ONLY``, except for
    the break-glass accounts of ``SSO_BREAK_GLASS_USERS``), or an organisation of theirs
    requires it. ``None`` when the password may be used. The portal's and the admin's sign-in
    forms, ``/auth/token`` and ``POST /v2/auth/token`` all ask, through
    :class:`core.throttle.ThrottledModelBackend` and :func:`tokens.authentication.sign_in`.
    Access tokens are never refused here."""
    if settings.SSO_ONLY and username not in settings.SSO_BREAK_GLASS_USERS:
        return (
            "Passwords are turned off on this portal: sign in with your company's single "
            "sign-on. Registry clients sign in with an access token."
        )
    requiring = list(
        Organization.objects.filter(require_sso=True, teams__memberships__user_id=user_id)
        .distinct()
        .order_by("name")
        .values_list("name", flat=True)
    )
    if requiring:
        return (
            f"{', '.join(requiring)} require{'s' if len(requiring) == 1 else ''} single sign-on: "
            "sign in with your company's single sign-on, not a password. Registry clients sign "
            "in with an access token (create one under Access tokens)."
        )
    return None
