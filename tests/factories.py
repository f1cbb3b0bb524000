"""Factory functions for tests. They call the services, so the invariants hold in tests too."""

from django.contrib.auth import get_user_model

from activity.decisions import Caller, pull_decisions_record
from activity.models import PullDecision
from core.links import site_url
from orgs import services
from orgs.invitations.services import invitation_create
from orgs.models import Invitation, Organization, Team
from policies.exceptions.services import exception_request_create
from policies.models import AccessPolicy, Publisher
from policies.references import parse_reference
from policies.selectors import pull_snapshot
from policies.services import allowlist_entry_add, policy_update, team_grant_update
from tokens.grants import Requester, grant_access
from tokens.scopes import parse_scopes
from tokens.services import organization_token_create, token_policy_update

PASSWORD = "test-pass-123"


def make_user(username: str, **extra):
    return get_user_model().objects.create_user(username=username, password=PASSWORD, **extra)


def make_org(name: str, *, owner, members=(), team: str = "developers") -> Organization:
    """An organisation with ``members`` already in ``team``: fixtures build memberships
    directly; people using the portal join by accepting an invitation (see :func:`invite`)."""
    organization = services.organization_create(name=name, creator=owner)
    if members:
        developers = services.team_create(organization=organization, name=team)
        for member in members:
            services.team_member_add(team=developers, user=member)
    return organization


def add_owner(organization: Organization, user) -> None:
    services.team_member_add(
        team=Team.objects.get(organization=organization, name="owners"), user=user
    )


def set_policy(
    organization: Organization,
    *,
    actor,
    enabled=True,
    official=False,
    publishers=False,
    audit_only=False,
):
    policy = AccessPolicy.objects.get(organization=organization)
    return policy_update(
        organization=organization,
        actor=actor,
        expected_version=policy.version,
        values={
            "enabled": enabled,
            "audit_only": audit_only,
            "allow_official_images": official,
            "allow_verified_publishers": publishers,
        },
    )


def make_publisher(namespace: str, *, verified: bool = True) -> Publisher:
    return Publisher.objects.create(
        namespace=namespace, display_name=namespace.title(), verified=verified
    )


def invite(
    organization: Organization, invitee: str, *, by, team: str = "members"
) -> tuple[Invitation, str]:
    """``by`` invites ``invitee`` (a username or an e-mail address) into ``team``; returns the
    invitation and the token of its link."""
    return invitation_create(
        team=Team.objects.get(organization=organization, name=team),
        invited_by=by,
        invitee=invitee,
        absolute_url=site_url,
    )


def make_team(organization: Organization, name: str, *members) -> Team:
    team = services.team_create(organization=organization, name=name)
    for member in members:
        services.team_member_add(team=team, user=member)
    return team


def set_grant(team: Team, *, actor, official=False, publishers=False, community=False):
    return team_grant_update(
        team=team,
        actor=actor,
        expected_version=AccessPolicy.objects.get(organization=team.organization).version,
        values={
            "allow_official_images": official,
            "allow_verified_publishers": publishers,
            "allow_community_images": community,
        },
    )[0]


def add_entry(
    organization: Organization, pattern: str, *, actor, team=None, expires_at=None, reason="CI"
):
    return allowlist_entry_add(
        organization=organization,
        actor=actor,
        pattern=pattern,
        reason=reason,
        team=team,
        expires_at=expires_at,
    )


def ask_exception(organization: Organization, requester, image: str = "other/thing", why="CI"):
    """``requester`` asks ``organization``'s owners for ``image`` (it must refuse it to them)."""
    return exception_request_create(
        organization=organization,
        requester=requester,
        reference=parse_reference(image),
        justification=why,
    )


def record_pulls(user, *repositories: str, at=None, signed_in_with="access_token", **caller):
    """What the token service records when ``user`` (None: anonymous) asks to pull
    ``repositories``: decided by the engine, recorded by the service, as of ``at`` (default:
    now). Returns the rows recorded (one per repository)."""
    scopes = parse_scopes([f"repository:{name}:pull" for name in repositories])
    snapshot = pull_snapshot(user=user, references=[s.reference for s in scopes], as_of=at)
    grant = grant_access(Requester(snapshot=snapshot), scopes)
    last = PullDecision.objects.order_by("-id").values_list("id", flat=True).first() or 0
    pull_decisions_record(
        caller=Caller(
            user_id=user.pk if user else None,
            username=user.username if user else "",
            signed_in_with=signed_in_with,
            **caller,
        ),
        snapshot=snapshot,
        decisions=grant.decisions,
    )
    return list(PullDecision.objects.filter(id__gt=last))


def make_org_token(
    organization: Organization,
    *,
    by,
    name: str = "ci-pipeline",
    scope: str = "repo:read",
    repositories: str = "",
    expires_days: int | None = 90,
):
    """An organisation access token made by the owner ``by``; returns it with its secret."""
    return organization_token_create(
        organization=organization,
        actor=by,
        name=name,
        scope=scope,
        repositories=repositories,
        expires_days=expires_days,
    )


def set_token_policy(
    organization: Organization, *, by, allow_non_expiring=False, personal_token_max_days=None
):
    return token_policy_update(
        organization=organization,
        actor=by,
        allow_non_expiring=allow_non_expiring,
        personal_token_max_days=personal_token_max_days,
    )[0]
