"""The decision log's monthly partitions on PostgreSQL.

On PostgreSQL, :class:`activity.models.PullDecision`'s table is partitioned by range of
``decided_at`` (declarative partitioning, migration ``activity.0004``): one partition a calendar
month (UTC), named ``<table>_yYYYYmMM``, and a default partition that takes a row no month's
partition holds yet, so that the token service's write never fails for want of a partition.

* :func:`partitions_ensure` creates the partitions from this month to :data:`MONTHS_AHEAD`
  months ahead. A month's rows that wait in the default partition move into the new partition
  in the same transaction.
* :func:`partitions_drop_before` drops every month's partition that ends at or before a time:
  retention by dropping whole tables. That is immediate whatever their size, needs no vacuum,
  and returns the space to the system at once. A ``DROP`` takes a short exclusive lock on the
  log (the token service's writes wait for it, milliseconds).

``manage.py prune_activity`` runs both daily, then deletes the few rows older than the
retention that remain in the month that straddles it (see
:func:`activity.services.pull_decisions_prune`). On other databases (SQLite: development) the
table is one table and these functions do nothing.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection, transaction
from django.utils import timezone

from activity.models import PullDecision

TABLE = PullDecision._meta.db_table
DEFAULT_PARTITION = f"{TABLE}_default"
#: Months ahead of the current one whose partitions exist after :func:`partitions_ensure`.
MONTHS_AHEAD = 2
_MONTH = re.compile(re.escape(TABLE) + r"_y(?P<year>\d{4})m(?P<month>\d{2})")


@dataclass(frozen=True)
class Partition:
    """One month's partition: the rows with ``start <= decided_at < end``."""

    name: str
    start: datetime
    end: datetime


def month_start(moment: datetime) -> datetime:
    """The first instant (UTC) of ``moment``'s month."""
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def next_month(start: datetime) -> datetime:
    return datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)


def month_partition(start: datetime) -> Partition:
    """The partition of the month beginning at ``start``."""
    return Partition(
        name=f"{TABLE}_y{start.year:04d}m{start.month:02d}", start=start, end=next_month(start)
    )


def is_partitioned() -> bool:
    """Whether the log is a partitioned table (PostgreSQL after migration ``activity.0004``)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [TABLE]
        )
        return cursor.fetchone() is not None


def month_partitions() -> list[Partition]:
    """The log's monthly partitions, oldest first (the default partition is not one)."""
    if not is_partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [TABLE],
        )
        names = [name for (name,) in cursor.fetchall()]
    months = [
        datetime(int(match["year"]), int(match["month"]), 1, tzinfo=UTC)
        for name in names
        if (match := _MONTH.fullmatch(name))
    ]
    return [month_partition(start) for start in sorted(months)]


def _literal(moment: datetime) -> str:
    """A UTC time as an SQL literal (DDL takes no parameters; the value is ours, never input)."""
    return moment.astimezone(UTC).strftime("'%Y-%m-%d %H:%M:%S+00'")


def create_month_partition(cursor, partition: Partition) -> None:
    """Create ``partition`` and attach it, moving the rows of its month that wait in the default
    partition into it (run inside a transaction)."""
    quote = connection.ops.quote_name
    name, table, default = quote(partition.name), quote(TABLE), quote(DEFAULT_PARTITION)
    cursor.execute(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    cursor.execute(
        f"WITH moved AS (DELETE FROM {default} WHERE decided_at >= %s AND decided_at < %s "
        f"RETURNING *) INSERT INTO {name} SELECT * FROM moved",
        [partition.start, partition.end],
    )
    cursor.execute(
        f"ALTER TABLE {table} ATTACH PARTITION {name} "
        f"FOR VALUES FROM ({_literal(partition.start)}) TO ({_literal(partition.end)})"
    )


def partitions_ensure(
    *, now: datetime | None = None, months_ahead: int = MONTHS_AHEAD
) -> list[str]:
    """Create the missing partitions from this month to ``months_ahead`` months ahead; returns
    their names (none on a database that does not partition the log)."""
    if not is_partitioned():
        return []
    existing = {partition.name for partition in month_partitions()}
    start = month_start(now or timezone.now())
    created = []
    for _ in range(months_ahead + 1):
        partition = month_partition(start)
        if partition.name not in existing:
            with transaction.atomic(), connection.cursor() as cursor:
                create_month_partition(cursor, partition)
            created.append(partition.name)
        start = partition.end
    return created


def partitions_drop_before(before: datetime) -> list[str]:
    """Drop the monthly partitions whose every row is older than ``before`` (their month ends
    at or before it); returns their names."""
    dropped = []
    for partition in month_partitions():
        if partition.end > before:
            break
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {connection.ops.quote_name(partition.name)}")
        dropped.append(partition.name)
    return dropped
