"""Writes of the activity log other than the token service's own record
(:func:`activity.decisions.pull_decisions_record`): pruning old decisions."""

from datetime import datetime

from activity.models import PullDecision
from orgs.models import Organization


def pull_decisions_prune(*, before: datetime, batch_size: int = 5000) -> int:
    """Delete the decisions made before ``before``, at most ``batch_size`` rows per statement
    (each its own transaction, so the token service's inserts never wait long), one
    organisation at a time through the (organisation, time) index; returns how many."""
    deleted = 0
    for organization_id in [None, *Organization.objects.values_list("id", flat=True)]:
        rows = PullDecision.objects.filter(organization_id=organization_id, decided_at__lt=before)
        while True:
            batch = list(rows.order_by().values_list("id", flat=True)[:batch_size])
            if not batch:
                break
            deleted += PullDecision.objects.filter(id__in=batch).delete()[0]
    return deleted
