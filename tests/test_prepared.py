"""portal.prepared: the compiled INSERT of the decision log (a few rows as one INSERT, many as a
binary COPY on PostgreSQL) and the compiled read's path with nobody watching its queries."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import DataError, IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError

from activity.decisions import DECISION_COLUMNS
from activity.models import PullDecision
from portal.prepared import CompiledInsert, CompiledRead
from tests.factories import make_org, make_user

pytestmark = pytest.mark.django_db(transaction=True)

WHEN = datetime(2026, 11, 27, 12, 0, 0, 123456, tzinfo=UTC)


def row(number: int, *, organization=None, user=None, **changes) -> tuple:
    """A decision row in DECISION_COLUMNS order, with values that differ from row to row."""
    values = {
        "decided_at": WHEN + timedelta(microseconds=number),
        "organization": organization.pk if organization else None,
        "policy_version": number if organization else None,
        "primary": number % 2 == 0,
        "user": user.pk if user else None,
        "username": user.username if user else "",
        "signed_in_with": "access_token" if user else "anonymous",
        "credential": f"ci-{number}",
        "client_address": f"10.0.0.{number % 250}",
        "user_agent": f"skopeo/1.13 ünïcødé \u2603 {number}",
        "repository": f"acme/app-{number}",
        "actions_asked": "pull,push",
        "actions_granted": "" if number % 3 else "pull",
        "category": "organization",
        "deciding_organization": "acme" if organization else "",
        "rule": "own_namespace",
        "reason": 'It\'s "quoted", with a\ttab and a backslash \\ ' * (number % 5),
        "outcome": "blocked" if number % 3 else "allowed",
        "also_allowed_by": "globex,initech" if number % 5 == 0 else "",
    }
    values.update(changes)
    return tuple(values[column] for column in DECISION_COLUMNS)


def stored() -> list[tuple]:
    fields = [
        f"{name}_id" if name in ("organization", "user") else name for name in DECISION_COLUMNS
    ]
    return [
        tuple(values) for values in PullDecision.objects.order_by("decided_at").values_list(*fields)
    ]


@pytest.mark.parametrize(
    "count", [1, CompiledInsert.VALUES_ROWS, CompiledInsert.VALUES_ROWS + 1, 700]
)
def test_rows_are_stored_exactly_whatever_their_number(count):
    """Up to VALUES_ROWS rows go as one INSERT, more (on PostgreSQL) as one binary COPY: either
    way each value comes back as it went in (NULLs, booleans, microseconds, non-ASCII text,
    quotes, tabs and backslashes)."""
    mike = make_user("mike")
    acme = make_org("acme", owner=mike)
    rows = [
        row(n, organization=acme if n % 2 else None, user=mike if n % 4 else None)
        for n in range(count)
    ]
    CompiledInsert(PullDecision, DECISION_COLUMNS, asynchronous_commit=True).insert(rows)
    assert stored() == rows


@pytest.mark.parametrize("count", [3, 100])
def test_a_too_long_value_is_an_error_and_nothing_is_written(count):
    """A value longer than its column is refused, not cut, and the rows before it are not kept."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite does not enforce a column's length")
    rows = [row(n) for n in range(count)]
    rows[-1] = row(count, client_address="x" * 65)  # client_address is 64 characters at most
    insert = CompiledInsert(PullDecision, DECISION_COLUMNS)
    with pytest.raises(DataError):
        insert.insert(rows)
    assert PullDecision.objects.count() == 0


def test_a_row_that_breaks_a_constraint_is_an_error_and_nothing_is_written():
    rows = [row(n) for n in range(100)]
    rows[60] = (*rows[60][:4], 999_999, *rows[60][5:])  # no such user
    with pytest.raises(IntegrityError):
        CompiledInsert(PullDecision, DECISION_COLUMNS).insert(rows)
    assert PullDecision.objects.count() == 0


@pytest.mark.parametrize("count", [3, 100])
def test_asynchronous_commit_is_only_the_writes_own(count):
    """The INSERT and the COPY turn synchronous_commit off for their own transaction only; the
    connection's next transactions wait for the disk again."""
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is a PostgreSQL setting")
    CompiledInsert(PullDecision, DECISION_COLUMNS, asynchronous_commit=True).insert(
        [row(n) for n in range(count)]
    )
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
    assert PullDecision.objects.count() == count


# The usernames after a given one, in order.
USERNAMES = CompiledRead(
    lambda after: (
        get_user_model()
        .objects.filter(username__gt=after)
        .order_by("username")
        .values_list("username", "is_active")
    ),
    ["username", "is_active"],
)


def test_a_read_nobody_watches_gives_the_same_rows_as_one_that_is_watched():
    """With nobody watching the connection's queries the read runs on a cursor kept for the
    connection; watched (the tests' query counts, DEBUG's log) it goes through Django's cursor
    wrapper and is counted. Both give the same rows."""
    from django.test.utils import CaptureQueriesContext

    for name in ("ann", "bob", "cid"):
        make_user(name, is_active=name != "cid")
    unwatched = [USERNAMES.rows("ann"), USERNAMES.rows("ann")]
    with CaptureQueriesContext(connection) as queries:
        watched = USERNAMES.rows("ann")
    assert len(queries) == 1
    expected = [{"username": "bob", "is_active": True}, {"username": "cid", "is_active": False}]
    assert unwatched == [expected, expected]
    assert watched == expected


def test_a_read_in_a_transaction_that_must_be_rolled_back_is_refused():
    """As through Django's own cursor: after an error inside atomic(), no further query runs
    until the transaction is rolled back."""
    make_user("ann")
    with transaction.atomic():
        with pytest.raises(IntegrityError), transaction.atomic(savepoint=False):
            make_user("ann")
        with pytest.raises(TransactionManagementError):
            USERNAMES.rows("a")
        transaction.set_rollback(True)
    assert [r["username"] for r in USERNAMES.rows("a")] == ["ann"]
