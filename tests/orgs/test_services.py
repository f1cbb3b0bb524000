"""Organisation invariants: the owners team, the last owner, the name rule."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from orgs import selectors, services
from orgs.models import Organization, Team, TeamMembership
from orgs.naming import org_name_error
from policies.models import AccessPolicy
from tests.factories import add_owner, make_org, make_user


@pytest.mark.parametrize("name", ["acme", "a1b2", "x" * 30, "1234", "globex2026"])
def test_valid_names(name):
    assert org_name_error(name) is None


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "required"),
        ("abc", "4 to 30 characters"),
        ("x" * 31, "4 to 30 characters"),
        ("Acme", "lowercase letters"),
        ("ACME", "lowercase letters"),
        (" acme", "lowercase letters"),
        ("acme ", "lowercase letters"),
        ("ac-me", "lowercase letters"),
        ("ac_me", "lowercase letters"),
        ("acmé", "lowercase letters"),
        ("acme\n", "lowercase letters"),
        ("$(id)", "lowercase letters"),
    ],
)
def test_invalid_names_are_refused_not_repaired(name, message):
    assert message in org_name_error(name)


def test_create_makes_owners_team_with_creator_an_empty_members_team_and_default_policy(db):
    olivia = make_user("olivia")
    org = services.organization_create(name="acme", creator=olivia)
    owners = Team.objects.get(organization=org, name="owners")
    assert list(owners.members.all()) == [olivia]
    assert list(org.teams.order_by("name").values_list("name", flat=True)) == ["members", "owners"]
    assert not org.teams.get(name="members").members.exists()
    assert selectors.is_owner(user=olivia, organization=org)
    policy = AccessPolicy.objects.get(organization=org)
    assert (policy.enabled, policy.allow_official_images, policy.allow_verified_publishers) == (
        False,
        False,
        False,
    )


@pytest.mark.parametrize("name", ["Acme", "abc", "ac me", "acme!"])
def test_create_refuses_bad_names_and_writes_nothing(db, name):
    olivia = make_user("olivia")
    with pytest.raises(ValidationError) as excinfo:
        services.organization_create(name=name, creator=olivia)
    assert "name" in excinfo.value.message_dict
    assert Organization.objects.count() == 0
    assert Team.objects.count() == 0


def test_duplicate_name_is_refused(db):
    make_org("acme", owner=make_user("olivia"))
    with pytest.raises(ValidationError, match="already taken"):
        services.organization_create(name="acme", creator=make_user("gina"))
    assert Organization.objects.count() == 1


def test_database_enforces_one_owners_team_and_the_name_rule(db):
    org = make_org("acme", owner=make_user("olivia"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Team.objects.create(organization=org, name="owners")
    with pytest.raises(IntegrityError), transaction.atomic():
        Organization.objects.create(name="Bad Name")


def test_last_owner_cannot_leave(db):
    olivia = make_user("olivia")
    org = make_org("acme", owner=olivia)
    owners = org.teams.get(name="owners")
    with pytest.raises(ValidationError, match="last owner"):
        services.team_member_remove(team=owners, user=olivia)
    with pytest.raises(ValidationError, match="last owner"):
        services.organization_member_remove(organization=org, user=olivia)
    assert owners.memberships.filter(user=olivia).exists()


def test_an_owner_can_leave_when_another_remains(db):
    olivia, gina = make_user("olivia"), make_user("gina")
    org = make_org("acme", owner=olivia)
    add_owner(org, gina)
    services.organization_member_remove(organization=org, user=olivia)
    assert not Organization.objects.for_user(olivia).exists()
    with pytest.raises(ValidationError, match="last owner"):
        services.organization_member_remove(organization=org, user=gina)


def test_deactivated_owner_does_not_count_as_remaining_owner(db):
    olivia, gina = make_user("olivia"), make_user("gina")
    org = make_org("acme", owner=olivia)
    add_owner(org, gina)
    gina.is_active = False
    gina.save()
    with pytest.raises(ValidationError, match="last owner"):
        services.organization_member_remove(organization=org, user=olivia)


def test_member_remove_takes_user_out_of_every_team(db):
    olivia, mike = make_user("olivia"), make_user("mike")
    org = make_org("acme", owner=olivia, members=[mike])
    qa = services.team_create(organization=org, name="qa")
    services.team_member_add(team=qa, user=mike)
    services.organization_member_remove(organization=org, user=mike)
    assert not TeamMembership.objects.filter(user=mike).exists()
    with pytest.raises(ValidationError, match="not a member"):
        services.organization_member_remove(organization=org, user=mike)


def test_team_rules(db):
    olivia, mike = make_user("olivia"), make_user("mike")
    org = make_org("acme", owner=olivia)
    team = services.team_create(organization=org, name="developers")
    with pytest.raises(ValidationError, match="already exists"):
        services.team_create(organization=org, name="developers")
    for bad in ("Bad Team", "qa\n", "\nqa", "-qa", "q" * 31):
        with pytest.raises(ValidationError, match="Up to 30 characters"):
            services.team_create(organization=org, name=bad)
    services.team_member_add(team=team, user=mike)
    with pytest.raises(ValidationError, match="already in team"):
        services.team_member_add(team=team, user=mike)
    mike.is_active = False
    with pytest.raises(ValidationError, match="deactivated"):
        services.team_member_add(team=services.team_create(organization=org, name="qa"), user=mike)


def test_for_user_scoping(db):
    olivia, mike, oscar = make_user("olivia"), make_user("mike"), make_user("oscar")
    acme = make_org("acme", owner=olivia, members=[mike])
    make_org("globex", owner=oscar)
    assert list(Organization.objects.for_user(mike)) == [acme]
    assert list(Organization.objects.owned_by(mike)) == []
    assert list(Organization.objects.owned_by(olivia)) == [acme]
    with pytest.raises(Organization.DoesNotExist):
        selectors.organization_for_member(user=mike, name="globex")


@pytest.mark.parametrize(("name", "message"), [("library", "reserved"), ("bitnami", "publisher")])
def test_reserved_and_publisher_namespaces_cannot_become_orgs(db, name, message):
    """Members may push to their org's namespace; owning library/ or a publisher's would let
    anyone publish "official" or "verified" images."""
    from tests.factories import make_publisher

    make_publisher("bitnami")
    with pytest.raises(ValidationError, match=message):
        services.organization_create(name=name, creator=make_user("mallory"))
    assert not Organization.objects.filter(name=name).exists()


@pytest.mark.django_db(transaction=True)
def test_two_owners_removing_each_other_at_once_leave_one_owner():
    """Each removal locks the owners team, so two concurrent removals cannot both pass the
    last-owner check. Every membership read is slowed down so that, without the lock, both
    checks would run before either delete. SQLite serialises writers by itself, so only a
    database with row locks can show the difference."""
    import threading
    import time

    from django.db import DatabaseError, connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs row locks (PostgreSQL): SQLite serialises the two writers anyway")
    olivia, gina = make_user("olivia"), make_user("gina")
    org = make_org("acme", owner=olivia)
    add_owner(org, gina)
    barrier = threading.Barrier(2)
    outcomes = []

    def slow_reads(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith("SELECT") and "orgs_teammembership" in sql:
            time.sleep(0.2)
        return result

    def remove(user):
        try:
            with connections["default"].execute_wrapper(slow_reads):
                barrier.wait(timeout=10)
                services.organization_member_remove(organization=org, user=user)
            outcomes.append("removed")
        except (ValidationError, DatabaseError) as error:
            outcomes.append(type(error).__name__)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=remove, args=(user,)) for user in (olivia, gina)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["ValidationError", "removed"], outcomes
    assert org.teams.get(name="owners").memberships.count() == 1


def test_migration_gives_existing_organisations_a_members_team(db):
    """Organisations made before the members team existed get one (and only one)."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("orgs.migrations.0003_members_team")
    older = make_org("acme", owner=make_user("olivia"))
    older.teams.get(name="members").delete()
    current = make_org("globex", owner=make_user("gina"))
    migration.add_members_team(apps, None)
    assert older.teams.filter(name="members").count() == 1
    assert current.teams.filter(name="members").count() == 1
