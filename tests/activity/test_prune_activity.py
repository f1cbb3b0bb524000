"""``manage.py prune_activity``: decisions older than the retention period go, in batches."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from activity.models import PullDecision
from tests.factories import make_team, make_user, record_pulls


def prune(*args):
    out = io.StringIO()
    call_command("prune_activity", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def aged(acme):
    """Decisions 100, 80 and 1 days old of mike (in acme and globex) and of a user in no
    organisation."""
    make_team(acme.globex, "contractors", acme.member)
    loner = make_user("loner")
    now = timezone.now()
    for days in (100, 80, 1):
        record_pulls(acme.member, "library/alpine", "someone/thing", at=now - timedelta(days=days))
        record_pulls(loner, "library/alpine", at=now - timedelta(days=days))
    return now


def ages(now):
    return sorted(
        {(now - d).days for d in PullDecision.objects.values_list("decided_at", flat=True)}
    )


def test_keeps_the_retention_period(aged, settings):
    settings.DECISION_LOG_RETENTION_DAYS = 90
    assert PullDecision.objects.count() == 9
    assert "Deleted 3 pull decisions made before" in prune()
    assert ages(aged) == [1, 80]
    assert "(keeping 30 days)" in prune("--days", "30")
    assert ages(aged) == [1]
    assert prune().startswith("Deleted 0 pull decisions")


def test_deletes_in_bounded_batches(aged):
    with CaptureQueriesContext(connection) as captured:
        prune("--days", "30", "--batch-size", "2")
    deletes = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("DELETE")]
    # 6 rows to delete (2 days of 3), 2 per statement.
    assert len(deletes) == 3
    assert ages(aged) == [1]


@pytest.mark.parametrize("args", [("--days", "0"), ("--batch-size", "0")])
def test_refuses_nonsense(db, args):
    with pytest.raises(CommandError):
        prune(*args)
