"""Writes of the activity log other than the token service's own record
(:func:`activity.decisions.pull_decisions_record`): its partitions and pruning old decisions."""

from dataclasses import dataclass
from datetime import datetime

from activity import partitions
from activity.models import PullDecision


@dataclass(frozen=True)
class Pruned:
    """What :func:`pull_decisions_prune` did: the monthly partitions it dropped whole (with how
    many rows they held), the rows it deleted one batch at a time, the partitions it created."""

    dropped: tuple[str, ...] = ()
    dropped_rows: int = 0
    deleted: int = 0
    created: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return self.dropped_rows + self.deleted


def pull_decisions_prune(
    *, before: datetime, batch_size: int = 5000, now: datetime | None = None
) -> Pruned:
    """Remove the decisions made before ``before``.

    On PostgreSQL the months that end by then go by dropping their partitions; the partitions
    of this month and the next ones are created if missing (:mod:`activity.partitions`). The
    rows that remain older than ``before`` (in the month that straddles it, in the default
    partition, or everywhere on a database that does not partition the log) are deleted at most
    ``batch_size`` per statement, each its own transaction, through the time index, so the token
    service's inserts never wait long."""
    created = partitions.partitions_ensure(now=now)
    dropped, dropped_rows = [], 0
    for partition in partitions.month_partitions():
        if partition.end > before:
            break
        dropped_rows += PullDecision.objects.filter(
            decided_at__gte=partition.start, decided_at__lt=partition.end
        ).count()
        dropped.extend(partitions.partitions_drop_before(partition.end))
    deleted = 0
    rows = PullDecision.objects.filter(decided_at__lt=before)
    while True:
        batch = list(rows.order_by("-decided_at").values_list("id", flat=True)[:batch_size])
        if not batch:
            break
        deleted += PullDecision.objects.filter(id__in=batch).delete()[0]
    return Pruned(
        dropped=tuple(dropped), dropped_rows=dropped_rows, deleted=deleted, created=tuple(created)
    )
