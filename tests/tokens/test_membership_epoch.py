"""The memberships epoch: the token service keeps a holder's memberships while it is unchanged,
and every write to a table they are read from changes it (database triggers), however the
write is made."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from orgs.models import Organization, Team, TeamMembership
from policies.models import AccessPolicy, TeamGrant
from tests.factories import make_user, set_policy
from tests.tokens.test_token_service import pulls
from tokens import selectors
from tokens.models import AccessToken, MembershipEpoch, OrganizationTokenPolicy

WATCHED = (Organization, Team, TeamMembership, AccessPolicy, TeamGrant, OrganizationTokenPolicy)


def epoch() -> int | None:
    return MembershipEpoch.objects.values_list("value", flat=True).first()


def tables_with_epoch_triggers() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT DISTINCT event_object_table FROM information_schema.triggers "
                "WHERE action_statement LIKE '%%tokens_membership_epoch_bump%%'"
            )
        else:
            cursor.execute(
                "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' "
                "AND sql LIKE '%%tokens_membershipepoch%%'"
            )
        return {row[0] for row in cursor.fetchall()}


def test_every_table_the_memberships_are_read_from_changes_the_epoch(db):
    """The memberships read joins these tables; each one has the triggers. A table added to
    the read (a new policy setting's model, say) fails here until a migration adds them."""
    query = selectors._HOLDER_MEMBERSHIPS.build(1).query
    read = {
        join.table_name for alias, join in query.alias_map.items() if query.alias_refcount[alias]
    }
    assert read == {model._meta.db_table for model in WATCHED}
    assert tables_with_epoch_triggers() == read


@pytest.mark.parametrize("model", WATCHED, ids=lambda model: model.__name__)
def test_a_queryset_update_changes_the_epoch(acme, model):
    """No signal, no save(): the trigger sees it anyway."""
    OrganizationTokenPolicy.objects.get_or_create(organization=acme.org)
    TeamGrant.objects.get_or_create(team=Team.objects.get(organization=acme.org, name="developers"))
    before = epoch()
    assert before is not None
    key = model._meta.pk.attname
    assert model.objects.update(**{key: F(key)}) > 0
    assert epoch() not in (None, before)


def test_a_bulk_delete_and_insert_change_the_epoch(acme):
    before = epoch()
    TeamMembership.objects.filter(user=acme.member).delete()
    deleted = epoch()
    assert deleted != before
    developers = Team.objects.get(organization=acme.org, name="developers")
    TeamMembership.objects.bulk_create([TeamMembership(team=developers, user=acme.member)])
    assert epoch() not in (before, deleted)


def test_a_rolled_back_change_does_not_bring_back_an_earlier_epoch(acme):
    """A value is never used twice: memberships kept under one are never taken for another
    state's."""
    seen = {epoch()}
    with transaction.atomic():
        sid = transaction.savepoint()
        AccessPolicy.objects.update(version=F("version"))
        seen.add(epoch())
        transaction.savepoint_rollback(sid)
    assert epoch() in seen
    AccessPolicy.objects.update(version=F("version"))
    assert epoch() not in seen


def test_memberships_are_read_once_per_epoch(acme, ask, granted, token_of):
    auth = token_of(acme.member)
    selectors._memberships_at.cache_clear()
    ask(*pulls("library/alpine"), auth=auth)
    ask(*pulls("library/alpine"), auth=auth)
    assert selectors._memberships_at.cache_info().misses == 1
    assert selectors._memberships_at.cache_info().hits == 1
    AccessPolicy.objects.filter(organization=acme.org).update(version=F("version"))
    ask(*pulls("library/alpine"), auth=auth)
    assert selectors._memberships_at.cache_info().misses == 2


def test_without_an_epoch_the_memberships_are_read_each_time(acme, ask, granted, token_of):
    auth = token_of(acme.member)
    MembershipEpoch.objects.all().delete()
    selectors._memberships_at.cache_clear()
    for _ in range(2):
        assert granted(ask(*pulls("acme/app"), auth=auth)) == {"acme/app": ["pull"]}
    assert selectors._memberships_at.cache_info().currsize == 0


# Each change is made without the services (a queryset update, a bulk delete or insert, as a
# data migration or a script would), right after a token request that kept the memberships:
# the next request is decided on the changed ones.


def test_a_policy_changed_by_update_applies_at_once(acme, ask, granted, token_of):
    auth = token_of(acme.member)
    assert granted(ask(*pulls("someone/thing"), auth=auth)) == {"someone/thing": ["pull"]}
    AccessPolicy.objects.filter(organization=acme.org).update(enabled=True)
    assert granted(ask(*pulls("someone/thing"), auth=auth)) == {}


def test_a_membership_deleted_in_bulk_applies_at_once(acme, ask, granted, token_of):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    auth = token_of(acme.member)
    assert granted(ask(*pulls("someone/thing"), auth=auth)) == {}
    TeamMembership.objects.filter(user=acme.member).delete()
    assert granted(ask(*pulls("someone/thing"), auth=auth)) == {"someone/thing": ["pull"]}


def test_a_membership_inserted_in_bulk_applies_at_once(acme, ask, granted, token_of):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    newcomer = make_user("nina")
    auth = token_of(newcomer)
    assert granted(ask(*pulls("someone/thing"), auth=auth)) == {"someone/thing": ["pull"]}
    developers = Team.objects.get(organization=acme.org, name="developers")
    TeamMembership.objects.bulk_create([TeamMembership(team=developers, user=newcomer)])
    assert granted(ask(*pulls("someone/thing"), auth=auth)) == {}


def test_a_grant_created_in_bulk_applies_at_once(acme, ask, granted, token_of):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    auth = token_of(acme.member)
    assert granted(ask(*pulls("someone/thing"), auth=auth)) == {}
    developers = Team.objects.get(organization=acme.org, name="developers")
    TeamGrant.objects.bulk_create([TeamGrant(team=developers, allow_community_images=True)])
    assert granted(ask(*pulls("someone/thing"), auth=auth)) == {"someone/thing": ["pull"]}


def test_a_renamed_organization_applies_at_once(acme, ask, granted, token_of):
    """Organization images are those of the member's organisation, by name."""
    set_policy(acme.org, actor=acme.owner, enabled=True)
    auth = token_of(acme.member)
    assert granted(ask(*pulls("acme2/app"), auth=auth)) == {}
    Organization.objects.filter(pk=acme.org.pk).update(name="acme2")
    assert granted(ask(*pulls("acme2/app"), auth=auth)) == {"acme2/app": ["pull"]}


def test_a_cap_on_personal_tokens_set_by_update_applies_at_once(acme, ask, granted, token_of):
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True)
    auth = token_of(acme.member)
    rules, _ = OrganizationTokenPolicy.objects.get_or_create(organization=acme.org)
    assert granted(ask(*pulls("acme/app"), auth=auth)) == {"acme/app": ["pull"]}
    # A cap the token has outlived: made 31 days ago, capped at 30.
    AccessToken.objects.filter(user=acme.member).update(
        created_at=timezone.now() - timedelta(days=31)
    )
    assert granted(ask(*pulls("acme/app"), auth=auth)) == {"acme/app": ["pull"]}
    OrganizationTokenPolicy.objects.filter(pk=rules.pk).update(personal_token_max_days=30)
    assert granted(ask(*pulls("acme/app"), auth=auth)) == {}
