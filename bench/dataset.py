"""The bench's data, seeded through the project's models and services (needs django.setup()).

- Organisation ``acme``: an owner (``benchowner``) and 10,000 members spread over ten teams,
  one of them ``benchuser`` (in two teams); Image Access Management on, Docker Official Images
  allowed. ``bitnami`` is in the publisher catalogue.
- ``benchmulti``: a member of 50 small organisations (``benchorg00`` ...), every fifth with
  Image Access Management on and Docker Official Images allowed, so that the user's many
  memberships all take part in the decision.
- ``acme``'s repository allowlist: 1,000 entries ``vendor0000/*`` ... ``vendor0999/*`` (the most
  an organisation may have), so a community image like ``vendor0500/app`` is allowed by one.
- ``benchflood``: an account with a real (slow, PBKDF2) password, the target of the
  wrong-password flood.
- One million recorded pull decisions of ``acme``'s members over the last 90 days
  (:func:`seed_decisions`, one SQL statement; only for the activity-page measurement).

Other users get an unusable password (nothing to hash). Seeding is idempotent: a second run only
replaces the two access tokens, whose secrets are never stored, and deletes the decisions that
earlier runs' load recorded (:func:`forget_load_decisions`), so every run starts from the same
decision log.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from activity import partitions
from activity.decisions import DECISION_COLUMNS
from activity.models import PullDecision
from orgs import services as org_services
from orgs.models import OWNERS_TEAM, Organization, Team, TeamMembership
from policies.models import (
    ALLOWLIST_MAX_ENTRIES,
    AccessPolicy,
    AllowlistEntry,
    Publisher,
)
from policies.services import policy_update
from tokens.models import AccessToken
from tokens.services import access_token_create

ORG = "acme"
OWNER = "benchowner"
BENCH_USER = "benchuser"
TEAMS = [f"squad-{i:02d}" for i in range(10)]
MEMBER_PREFIX = "member"
MULTI_USER = "benchmulti"
MULTI_ORG_PREFIX = "benchorg"
MULTI_TEAM = "developers"
MULTI_MANAGED_EVERY = 5
ALLOWLIST_PATTERN = "vendor{:04d}/*"
ALLOWLISTED_REPOSITORY = "vendor0500/app"
FLOOD_USER = "benchflood"
TOKEN_NAME = "bench"
OFFICIAL_ALLOWED = {
    "enabled": True,
    "allow_official_images": True,
    "allow_verified_publishers": False,
}
MANAGEMENT_OFF = {
    "enabled": False,
    "allow_official_images": False,
    "allow_verified_publishers": False,
}


@dataclass(frozen=True)
class Credential:
    """A user and the secret of the access token the bench made for them."""

    username: str
    secret: str


@dataclass(frozen=True)
class Seeded:
    """What the scenarios need, with the data set's shape as counted in the database."""

    member: Credential
    multi_member: Credential
    acme_members: int
    acme_teams: int
    acme_memberships: int
    acme_allowlist: int
    multi_orgs: int
    multi_orgs_managed: int
    users_total: int


def seed(*, members: int, orgs: int) -> Seeded:
    """Create (or complete) the whole data set and refresh the planner's statistics."""
    unusable = make_password(None)  # one "!..." value for everyone: nothing to hash
    with transaction.atomic():
        owner = _user(OWNER, unusable)
        acme = _seed_acme(owner=owner, members=members, password=unusable)
        _seed_allowlist(acme)
        multi_user = _user(MULTI_USER, unusable)
        _seed_multi_member(owner=owner, user=multi_user, orgs=orgs)
        if not get_user_model().objects.filter(username=FLOOD_USER).exists():
            get_user_model().objects.create_user(FLOOD_USER, password=secrets.token_urlsafe(16))
        Publisher.objects.update_or_create(
            namespace="bitnami", defaults={"display_name": "Bitnami by VMware", "verified": True}
        )
        member = _fresh_token(get_user_model().objects.get(username=BENCH_USER))
        multi_member = _fresh_token(multi_user)
    forget_load_decisions()
    _analyze()
    return _counted(acme=acme, multi_user=multi_user, member=member, multi_member=multi_member)


def _user(username: str, password: str):
    user, _ = get_user_model().objects.get_or_create(
        username=username, defaults={"password": password}
    )
    return user


def _set_policy(organization: Organization, owner, wanted: dict[str, bool]) -> None:
    """The organisation's policy with these settings (a no-op, unrecorded, if it has them)."""
    policy = AccessPolicy.objects.get(organization=organization)
    policy_update(
        organization=organization, actor=owner, expected_version=policy.version, values=wanted
    )


def _seed_acme(*, owner, members: int, password: str) -> Organization:
    """``acme`` with ``members`` members (``benchuser`` included) over ten teams."""
    User = get_user_model()
    organization = Organization.objects.filter(name=ORG).first()
    if organization is None:
        organization = org_services.organization_create(name=ORG, creator=owner)
    teams = []
    for name in TEAMS:
        team = Team.objects.filter(organization=organization, name=name).first()
        if team is None:
            team = org_services.team_create(organization=organization, name=name)
        teams.append(team)

    names = [f"{MEMBER_PREFIX}{i:05d}" for i in range(1, members)]  # + benchuser
    have = TeamMembership.objects.filter(
        team__in=teams, user__username__startswith=MEMBER_PREFIX
    ).count()
    if have != len(names):
        User.objects.bulk_create(
            [User(username=name, password=password) for name in names],
            batch_size=2000,
            ignore_conflicts=True,
        )
        ids = dict(User.objects.filter(username__in=names).values_list("username", "id").iterator())
        TeamMembership.objects.bulk_create(
            [
                TeamMembership(team=teams[i % len(teams)], user_id=ids[name])
                for i, name in enumerate(names)
            ],
            batch_size=5000,
            ignore_conflicts=True,
        )
    bench = _user(BENCH_USER, password)
    for team in teams[:2]:
        TeamMembership.objects.get_or_create(team=team, user=bench)
    _set_policy(organization, owner, OFFICIAL_ALLOWED)
    return organization


def _seed_allowlist(organization: Organization) -> None:
    """The most entries an organisation may have; none of them is needed by the other
    scenarios, which pull an official image."""
    patterns = [ALLOWLIST_PATTERN.format(i) for i in range(ALLOWLIST_MAX_ENTRIES)]
    have = set(
        AllowlistEntry.objects.filter(organization=organization, team=None).values_list(
            "pattern", flat=True
        )
    )
    AllowlistEntry.objects.bulk_create(
        AllowlistEntry(
            organization=organization,
            team=None,
            pattern=pattern,
            reason="bench: vendor images",
            added_by_username=OWNER,
        )
        for pattern in patterns
        if pattern not in have
    )


def _seed_multi_member(*, owner, user, orgs: int) -> None:
    """``user`` in team ``developers`` of ``orgs`` organisations; every fifth one managed."""
    existing = {
        org.name: org for org in Organization.objects.filter(name__startswith=MULTI_ORG_PREFIX)
    }
    for number in range(orgs):
        name = f"{MULTI_ORG_PREFIX}{number:02d}"
        organization = existing.get(name)
        if organization is None:
            organization = org_services.organization_create(name=name, creator=owner)
        team = Team.objects.filter(organization=organization, name=MULTI_TEAM).first()
        if team is None:
            team = org_services.team_create(organization=organization, name=MULTI_TEAM)
        if not TeamMembership.objects.filter(team=team, user=user).exists():
            org_services.team_member_add(team=team, user=user)
        managed = number % MULTI_MANAGED_EVERY == 0
        _set_policy(organization, owner, OFFICIAL_ALLOWED if managed else MANAGEMENT_OFF)


def _fresh_token(user) -> Credential:
    """Replace the user's bench token (its secret is shown once, never stored)."""
    AccessToken.objects.filter(user=user, name=TOKEN_NAME).delete()
    _, secret = access_token_create(user=user, name=TOKEN_NAME, expires_days=1)
    return Credential(username=user.get_username(), secret=secret)


def _analyze() -> None:
    """Fresh planner statistics after a bulk load, as autovacuum would eventually make."""
    models = (
        get_user_model(),
        Organization,
        Team,
        TeamMembership,
        AccessPolicy,
        Publisher,
        AllowlistEntry,
    )
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(model._meta.db_table)}")
        cursor.execute(f"ANALYZE {connection.ops.quote_name(AccessToken._meta.db_table)}")


def _counted(*, acme, multi_user, member, multi_member) -> Seeded:
    """The data set's shape counted in the database, not assumed."""
    in_acme = TeamMembership.objects.filter(team__organization=acme)
    owners = set(in_acme.filter(team__name=OWNERS_TEAM).values_list("user_id", flat=True))
    everyone = set(in_acme.values_list("user_id", flat=True))
    multi_orgs = Organization.objects.filter(teams__memberships__user=multi_user).distinct()
    return Seeded(
        member=member,
        multi_member=multi_member,
        acme_members=len(everyone - owners),
        acme_teams=Team.objects.filter(organization=acme).count(),
        acme_memberships=in_acme.count(),
        acme_allowlist=AllowlistEntry.objects.filter(organization=acme).count(),
        multi_orgs=multi_orgs.count(),
        multi_orgs_managed=multi_orgs.filter(access_policy__enabled=True).count(),
        users_total=get_user_model().objects.count(),
    )


# (repository, category, rule, outcome, actions granted, reason): what acme's members pull.
DECISION_PROFILES = [
    (
        "library/alpine",
        "official",
        "category",
        "allowed",
        "pull",
        "Docker Official Images are allowed by acme's Image Access Management.",
    ),
    (
        "library/ubuntu",
        "official",
        "category",
        "allowed",
        "pull",
        "Docker Official Images are allowed by acme's Image Access Management.",
    ),
    (
        "acme/app",
        "organization",
        "organization",
        "allowed",
        "pull",
        "acme's own images are allowed by acme's Image Access Management.",
    ),
    (
        "bitnami/redis",
        "verified_publisher",
        "category",
        "blocked",
        "",
        "Docker Verified Publisher images are blocked by acme's Image Access Management.",
    ),
    (
        "someone/thing",
        "community",
        "category",
        "blocked",
        "",
        "Community images are blocked by acme's Image Access Management.",
    ),
    (
        "vendor0500/app",
        "community",
        "allowlist",
        "allowed",
        "pull",
        "Allowed by acme's allowlist entry vendor0500/*.",
    ),
]
DECISIONS = 1_000_000
# What the seeded decisions say about the client; the token service never records these for the
# bench's own requests (wrk connects from 127.0.0.1).
SEEDED_ADDRESS, SEEDED_AGENT = "10.0.0.1", "bench"


def forget_load_decisions() -> int:
    """Delete the decisions that the load recorded (every row but the seeded ones); returns how
    many. Each run starts with the same decision log, and the activity pages are measured over
    exactly :data:`DECISIONS` rows."""
    deleted, _ = PullDecision.objects.exclude(
        client_address=SEEDED_ADDRESS, user_agent=SEEDED_AGENT
    ).delete()
    if deleted:
        with connection.cursor() as cursor:
            cursor.execute(
                f"VACUUM (ANALYZE) {connection.ops.quote_name(PullDecision._meta.db_table)}"
            )
    return deleted


def seed_decisions(total: int = DECISIONS) -> int:
    """Exactly ``total`` recorded decisions of ``acme``'s members (PostgreSQL: one INSERT ...
    SELECT over generate_series), spread over the last 90 days, after deleting what the load
    recorded; returns how many acme has."""
    forget_load_decisions()
    organization = Organization.objects.get(name=ORG)
    acme_rows = PullDecision.objects.filter(filed_under__has_key=str(organization.pk))
    have = acme_rows.count()
    if have > total:  # seeded by a run with a larger total
        surplus = acme_rows.order_by("-id")
        PullDecision.objects.filter(pk__in=surplus.values("pk")[: have - total]).delete()
    if have >= total:
        return acme_rows.count()
    # The months of the last 90 days get their partitions, as a log in use would have them.
    partitions.partitions_ensure(now=timezone.now() - timedelta(days=91), months_ahead=5)
    table = connection.ops.quote_name(PullDecision._meta.db_table)
    # The SELECT below gives the values in the order of the token service's rows.
    columns = {
        name: connection.ops.quote_name(PullDecision._meta.get_field(name).column)
        for name in DECISION_COLUMNS
    }
    users = connection.ops.quote_name(get_user_model()._meta.db_table)
    memberships = connection.ops.quote_name(TeamMembership._meta.db_table)
    teams = connection.ops.quote_name(Team._meta.db_table)
    profile = [list(column) for column in zip(*DECISION_PROFILES, strict=True)]
    sql = f"""
        WITH members AS (
            SELECT array_agg(DISTINCT u.id) AS ids FROM {users} u
            JOIN {memberships} m ON m.user_id = u.id JOIN {teams} t ON t.id = m.team_id
            WHERE t.organization_id = %(org)s AND t.name <> %(owners)s
        ), named AS (
            SELECT members.ids, array_agg(u.username ORDER BY array_position(members.ids, u.id))
                AS names
            FROM members, {users} u WHERE u.id = ANY(members.ids) GROUP BY members.ids
        )
        INSERT INTO {table} ({", ".join(columns.values())})
        SELECT now() - ((g * 7919) %% (90 * 86400)) * interval '1 second',
               jsonb_build_object(%(org_key)s::text, 1),
               ids[1 + (g * 31) %% cardinality(ids)], names[1 + (g * 31) %% cardinality(ids)],
               'access_token', 'bench', %(address)s, %(agent)s,
               (%(repos)s::text[])[1 + g %% %(kinds)s], 'pull',
               (%(granted)s::text[])[1 + g %% %(kinds)s],
               (%(categories)s::text[])[1 + g %% %(kinds)s], %(name)s,
               (%(rules)s::text[])[1 + g %% %(kinds)s],
               (%(reasons)s::text[])[1 + g %% %(kinds)s],
               (%(outcomes)s::text[])[1 + g %% %(kinds)s], ''
        FROM generate_series(1::bigint, %(count)s) g, named
    """
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "org": organization.pk,
                "org_key": str(organization.pk),
                "owners": OWNERS_TEAM,
                "address": SEEDED_ADDRESS,
                "agent": SEEDED_AGENT,
                "name": ORG,
                "count": total - have,
                "kinds": len(DECISION_PROFILES),
                "repos": profile[0],
                "categories": profile[1],
                "rules": profile[2],
                "outcomes": profile[3],
                "granted": profile[4],
                "reasons": profile[5],
            },
        )
        cursor.execute(f"VACUUM (ANALYZE) {table}")
    return acme_rows.count()
