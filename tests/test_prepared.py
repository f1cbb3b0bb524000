"""core.prepared: the compiled INSERT of the decision log (one statement whatever the number of
rows on PostgreSQL) and the compiled reads (Django's own cursor, one statement whatever the
number of values in a list, a bounded cache of compiled shapes)."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import F
from django.db.transaction import TransactionManagementError

from activity.decisions import DECISION_COLUMNS
from activity.models import PullDecision
from core.prepared import AnyOf, CompiledInsert, CompiledRead
from tests.factories import make_org, make_user

pytestmark = pytest.mark.django_db(transaction=True)

WHEN = datetime(2026, 11, 27, 12, 0, 0, 123456, tzinfo=UTC)


def row(number: int, *, organization=None, user=None, **changes) -> tuple:
    """A decision row in DECISION_COLUMNS order, with values that differ from row to row."""
    values = {
        "decided_at": WHEN + timedelta(microseconds=number),
        "filed_under": json.dumps({str(organization.pk): number} if organization else {}),
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
    fields = [f"{name}_id" if name == "user" else name for name in DECISION_COLUMNS]
    filed = DECISION_COLUMNS.index("filed_under")
    return [
        (*values[:filed], json.dumps(values[filed]), *values[filed + 1 :])
        for values in PullDecision.objects.order_by("decided_at").values_list(*fields)
    ]


@pytest.mark.parametrize("count", [1, 3, 33, 700])
def test_rows_are_stored_exactly_whatever_their_number(count):
    """Whatever the number of rows (one INSERT of arrays on PostgreSQL, VALUES lists on
    SQLite), each value comes back as it went in (NULLs, booleans, microseconds, non-ASCII
    text, quotes, tabs and backslashes)."""
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
    user = DECISION_COLUMNS.index("user")
    rows[60] = (*rows[60][:user], 999_999, *rows[60][user + 1 :])  # no such user
    with pytest.raises(IntegrityError):
        CompiledInsert(PullDecision, DECISION_COLUMNS).insert(rows)
    assert PullDecision.objects.count() == 0


@pytest.mark.parametrize("count", [3, 100])
def test_asynchronous_commit_is_only_the_writes_own(count):
    """The INSERT turns synchronous_commit off for its own transaction only; the connection's
    next transactions wait for the disk again."""
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


def test_a_read_goes_through_djangos_cursor():
    """Counted like any other query (the tests' query counts, DEBUG's log), with each row as a
    dict of the named columns, converted as the ORM converts them (booleans on SQLite)."""
    from django.test.utils import CaptureQueriesContext

    for name in ("ann", "bob", "cid"):
        make_user(name, is_active=name != "cid")
    with CaptureQueriesContext(connection) as queries:
        rows = USERNAMES.rows("ann")
    assert len(queries) == 1
    assert rows == [
        {"username": "bob", "is_active": True},
        {"username": "cid", "is_active": False},
    ]


# The usernames among given ones.
NAMED = CompiledRead(
    lambda names: (
        get_user_model()
        .objects.filter(AnyOf(F("username"), names))
        .order_by("username")
        .values_list("username")
    ),
    ["username"],
)


def test_a_list_is_one_parameter_whatever_its_length():
    """1, 5, 50 or 500 values: one compiled statement, and the right rows each time."""
    for name in ("ann", "bob"):
        make_user(name)
    for length in (1, 5, 50, 500):
        names = ["bob", *(f"nobody-{n}" for n in range(length - 1))]
        assert NAMED.rows(names) == [{"username": "bob"}]
    assert NAMED.rows(["ann", "bob"]) == [{"username": "ann"}, {"username": "bob"}]
    assert NAMED.rows([]) == []
    assert len(NAMED.statements()) == 1


def test_a_list_filtered_with_in_is_refused():
    """``__in`` would compile one statement per length: only AnyOf takes a list."""
    by_in = CompiledRead(
        lambda names: get_user_model().objects.filter(username__in=names).values_list("username"),
        ["username"],
    )
    with pytest.raises(ValueError, match="AnyOf"):
        by_in.rows(["ann"])


def test_the_compiled_shapes_are_bounded():
    """Past CACHE_SIZE shapes, the least recently used one is dropped."""
    lookups = {str: "username", int: "pk", datetime: "date_joined__gt"}
    read = CompiledRead(
        lambda value: (
            get_user_model().objects.filter(**{lookups[type(value)]: value}).values_list("username")
        ),
        ["username"],
    )
    read.CACHE_SIZE = 2
    text = read.compiled(["ann"])
    read.compiled([1])
    assert read.compiled(["bob"]) is text  # the same shape; now the most recently used
    read.compiled([WHEN])
    assert len(read.statements()) == 2
    assert read.compiled(["cid"]) is text


def test_a_read_in_a_transaction_that_must_be_rolled_back_is_refused():
    """Django's own cursor's rule: after an error inside atomic(), no further query runs until
    the transaction is rolled back."""
    make_user("ann")
    with transaction.atomic():
        with pytest.raises(IntegrityError), transaction.atomic(savepoint=False):
            make_user("ann")
        with pytest.raises(TransactionManagementError):
            USERNAMES.rows("a")
        transaction.set_rollback(True)
    assert [r["username"] for r in USERNAMES.rows("a")] == ["ann"]


@pytest.mark.parametrize(("prepared", "threshold"), [("true", "5"), ("false", "None")])
def test_postgresql_connections_bind_on_the_server_and_prepare_unless_turned_off(
    prepared, threshold
):
    """DATABASE_PREPARED_STATEMENTS=false (a pooler in transaction mode) keeps server-side
    binding but prepares nothing: psycopg's prepare_threshold is None."""
    from tests.test_operations import manage, production_environment

    result = manage(
        production_environment(DATABASE_PREPARED_STATEMENTS=prepared),
        "shell",
        "-c",
        "from django.conf import settings; "
        "options = settings.DATABASES['default']['OPTIONS']; "
        "print(options['server_side_binding'], options['prepare_threshold'])",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["True", threshold]
