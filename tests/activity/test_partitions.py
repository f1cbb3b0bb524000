"""The decision log's monthly partitions on PostgreSQL: rows land in their month (or in the
default partition), new months are created ahead and take their rows out of the default
partition, and retention drops whole months. On SQLite the log is one table and these tests do
not apply (CI runs them on PostgreSQL)."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from activity import partitions
from activity.models import PullDecision
from tests.factories import record_pulls

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="partitioning is PostgreSQL's (CI runs these)"
)


def where(**filters) -> list[str]:
    """The partition (table) each matching row is stored in."""
    ids = list(PullDecision.objects.filter(**filters).values_list("id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT tableoid::regclass::text FROM {partitions.TABLE} WHERE id = ANY(%s) "
            "ORDER BY id",
            [ids],
        )
        return [name for (name,) in cursor.fetchall()]


def test_the_log_is_partitioned_by_month_with_months_ahead(db):
    assert partitions.is_partitioned()
    months = [p.name for p in partitions.month_partitions()]
    start = partitions.month_start(timezone.now())
    wanted = []
    for _ in range(partitions.MONTHS_AHEAD + 1):
        wanted.append(partitions.month_partition(start).name)
        start = partitions.next_month(start)
    assert set(wanted) <= set(months)


def test_a_row_of_a_month_without_partition_waits_in_the_default_then_moves(acme):
    later = timezone.now() + timedelta(days=400)
    record_pulls(acme.member, "library/alpine", at=later)
    assert where(repository="library/alpine") == [partitions.DEFAULT_PARTITION]
    created = partitions.partitions_ensure(now=later, months_ahead=0)
    month = partitions.month_partition(partitions.month_start(later)).name
    assert created == [month]
    assert where(repository="library/alpine") == [month]
    assert PullDecision.objects.filter(repository="library/alpine").count() == 1
    assert partitions.partitions_ensure(now=later, months_ahead=0) == []


def test_retention_drops_whole_months_and_deletes_the_rest(acme, settings):
    now = datetime(2027, 6, 15, 12, tzinfo=UTC)
    for days in (200, 170, 100, 85, 1):
        record_pulls(acme.member, f"library/d{days}", at=now - timedelta(days=days))
    # Partitions for those months (the migration made only this month's and the next ones).
    for days in (200, 170, 100, 85, 1):
        partitions.partitions_ensure(now=now - timedelta(days=days), months_ahead=0)
    assert set(where()) >= {partitions.month_partition(partitions.month_start(now)).name}
    before = now - timedelta(days=90)  # 2027-03-17: the months up to February end before it
    pruned = partitions_prune(before, now)
    dropped_months = {p.name for p in pruned.dropped_partitions}
    assert {
        partitions.month_partition(partitions.month_start(now - timedelta(days=d))).name
        for d in (200, 170)
    } <= dropped_months
    assert all(p.end <= before for p in pruned.dropped_partitions)
    assert pruned.result.dropped_rows == 2  # 200 and 170 days old: gone with their months
    assert pruned.result.deleted == 1  # 100 days old, in March, which straddles the cut
    assert sorted(PullDecision.objects.values_list("repository", flat=True)) == [
        "library/d1",
        "library/d85",
    ]
    left = {p.name for p in partitions.month_partitions()}
    assert not dropped_months & left


def test_rows_older_than_the_retention_in_a_straddling_month_are_deleted(acme):
    now = datetime(2027, 6, 15, 12, tzinfo=UTC)
    partitions.partitions_ensure(now=datetime(2027, 3, 1, tzinfo=UTC), months_ahead=3)
    record_pulls(acme.member, "library/old", at=datetime(2027, 3, 10, tzinfo=UTC))
    record_pulls(acme.member, "library/kept", at=datetime(2027, 3, 20, tzinfo=UTC))
    pruned = partitions_prune(datetime(2027, 3, 17, tzinfo=UTC), now)
    assert pruned.result.deleted == 1 and pruned.result.dropped_rows == 0
    assert list(PullDecision.objects.values_list("repository", flat=True)) == ["library/kept"]


def test_the_command_reports_dropped_partitions(acme):
    old = timezone.now() - timedelta(days=200)
    record_pulls(acme.member, "library/alpine", at=old)
    partitions.partitions_ensure(now=old, months_ahead=0)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as in partitions_prune below
    out = io.StringIO()
    call_command("prune_activity", stdout=out)
    assert "Deleted 1 pull decision made before" in out.getvalue()
    assert "Dropped 1 monthly partition(s) (1 decisions)" in out.getvalue()
    assert not PullDecision.objects.exists()


class _Pruned:
    def __init__(self, result, before_partitions):
        self.result = result
        self.dropped_partitions = [p for p in before_partitions if p.name in set(result.dropped)]


def partitions_prune(before, now):
    from activity.services import pull_decisions_prune

    existing = partitions.month_partitions()
    with connection.cursor() as cursor:
        # The test's own inserts, in its transaction, leave deferred foreign-key checks that a
        # DROP refuses to run before; the command runs in autocommit, where there are none.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return _Pruned(pull_decisions_prune(before=before, now=now), existing)
