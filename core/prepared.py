"""ORM reads compiled once and run as prepared statements, for the registry's hot path; and the
one write on that path, the INSERT of its decisions, built the same way.

The token service runs the same few small reads on every registry request. Compiling an ORM
query costs more CPU than PostgreSQL spends answering an indexed one, and PostgreSQL in turn
spends most of its time *planning* such a query, not running it. :class:`CompiledRead` keeps
the ORM as the only definition of the read (tables, joins and columns come from the models)
but compiles it once per shape, with stand-in values, and then only swaps the parameters.

Only documented Django runs these statements: Django's own ``connection.cursor()`` on a
connection that PostgreSQL's settings (``portal/settings.py``) open with psycopg's
``server_side_binding`` and a ``prepare_threshold``. psycopg then prepares a statement it has
run that many times on the connection, and PostgreSQL plans it once per connection; every
query is logged, counted, wrapped (``execute_wrapper``), checked and its errors translated as
Django does for any other. With ``DATABASE_PREPARED_STATEMENTS=false`` (a pooler in transaction
mode) the same statements run unprepared.

How the SQL is obtained: ``queryset.query.get_compiler(using=alias).as_sql()``, the compiler
API that Django documents for custom expressions and lookups (``as_sql(compiler,
connection)``), never its ``str(query)`` (which interpolates values for display, not for
running). Nothing else of the compiler is used.

A list is always passed as **one** parameter through :class:`AnyOf` (``= ANY(%s)`` with an
array on PostgreSQL, ``IN (SELECT value FROM json_each(%s))`` with a JSON text on SQLite), so
a read has one statement whatever the number of values: a request with 500 scopes uses the
statement of a request with one. The compiled shapes are kept in a small LRU cache per read.

On other databases than PostgreSQL (SQLite: development and tests) the queryset is evaluated
by the ORM itself with the real values, whose conversions (SQLite's booleans and datetimes)
then need no private API; the compiled SQL is still built, so that a read that cannot be
compiled fails in every test run.
"""

import contextlib
import json
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from threading import Lock

from django.db import InterfaceError, OperationalError, connections, transaction
from django.db.models import BooleanField, FloatField, Func, Lookup, QuerySet

_stand_ins = count(1)
_EARLIEST = datetime(1, 1, 1, tzinfo=UTC)


def _kind(value) -> str:
    """The kind of a parameter value: "list", "int", "datetime" or "str"."""
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, int) and not isinstance(value, bool):
        return "int"
    return "str"


def _stand_in(kind: str):
    """A unique value of the given kind that cannot occur in real data."""
    number = next(_stand_ins)
    if kind == "int":
        return -(2**31) + number  # a negative id, in the range of every integer column
    if kind == "datetime":
        return _EARLIEST + timedelta(microseconds=number)
    if kind == "list":
        return [f"\x00stand-in-{number}\x00"]
    return f"\x00stand-in-{number}\x00"


def _array(connection, values):
    """A list as the one parameter :class:`AnyOf` passes: an array on PostgreSQL (psycopg
    adapts a list), a JSON text elsewhere."""
    if connection.vendor == "postgresql":
        return list(values)
    return json.dumps(list(values))


def _adapt(connection, kind: str, value):
    """The value as the ORM passes it to the database driver (a datetime becomes text on
    SQLite, a list one array or JSON text)."""
    if kind == "datetime":
        return connection.ops.adapt_datetimefield_value(value)
    if kind == "list":
        return _array(connection, value)
    return value


class AnyOf(Lookup):
    """``lhs`` is one of the values of the list ``rhs``, passed as one parameter whatever its
    length: ``AnyOf(F("pattern"), patterns)`` in a ``filter()``. An empty list matches
    nothing. The values are compared as they are (no field conversion): str or int."""

    lookup_name = "any_of"
    prepare_rhs = False

    def __init__(self, lhs, rhs):
        super().__init__(lhs, rhs)
        self.output_field = BooleanField()

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        parameter = _array(connection, self.rhs)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", (*lhs_params, parameter)
        return f"{lhs} IN (SELECT value FROM json_each(%s))", (*lhs_params, parameter)


class EpochSeconds(Func):
    """A date and time column as seconds since 1970-01-01 UTC (a float; None stays None).

    For a hot read that returns a datetime on each of many rows but needs it from one: psycopg
    loads a float in C, while Django's time-zone-aware datetime loader is Python (a few µs a
    value). PostgreSQL gives it to the microsecond; SQLite (``julianday``) to about 50 µs.
    :func:`from_epoch` turns it back into an aware datetime."""

    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra):
        # date_part returns a float8 itself; EXTRACT makes a numeric (PostgreSQL 14 and later),
        # whose arithmetic and cast cost about twice as much, on every row of a holder's read.
        template = "date_part('epoch', %(expressions)s)"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        template = "(julianday(%(expressions)s) - 2440587.5) * 86400.0"
        return self.as_sql(compiler, connection, template=template, **extra)


def from_epoch(seconds: float | None) -> datetime | None:
    """An :class:`EpochSeconds` value as an aware datetime in UTC."""
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: tuple[int, ...]  # positions in params that take the caller's values, in order
    kinds: tuple[str, ...]  # the kind of each slot's value


class CompiledRead:
    """A ``values_list`` queryset built by ``build(*values)``, compiled once per shape.

    ``columns`` names the queryset's columns in order; :meth:`rows` returns each row as a dict
    keyed by them, :meth:`tuples` as a tuple. The arguments to ``build`` are plain values (str,
    int or an aware datetime) or lists of str or int, which ``build`` must filter with
    :class:`AnyOf` (one parameter whatever the length; ``__in`` would make one statement per
    length and is refused). A shape is the kinds of the arguments and the database, so a read
    has one statement per database; at most ``CACHE_SIZE`` shapes are kept (the least recently
    used goes first).
    """

    CACHE_SIZE = 16

    def __init__(self, build: Callable[..., QuerySet], columns: Sequence[str]):
        self.build = build
        self.columns = tuple(columns)
        self._compiled: OrderedDict[tuple, _Compiled] = OrderedDict()
        self._lock = Lock()

    def _compile(self, alias: str, shape: tuple) -> _Compiled:
        connection = connections[alias]
        stand_ins = [_stand_in(kind) for kind in shape]
        sql, params = self.build(*stand_ins).query.get_compiler(using=alias).as_sql()
        expected = [_adapt(connection, k, v) for k, v in zip(shape, stand_ins, strict=True)]
        if any(list(params).count(value) != 1 for value in expected):
            raise ValueError("the query must use each value once, and take each list through AnyOf")
        params = list(params)
        return _Compiled(
            sql=sql,
            params=tuple(params),
            slots=tuple(params.index(value) for value in expected),
            kinds=shape,
        )

    def compiled(self, values: Sequence, using: str = "default") -> _Compiled:
        """The compiled statement for ``values``' shape, from the cache or compiled now."""
        key = (using, tuple(_kind(v) for v in values))
        with self._lock:
            compiled = self._compiled.get(key)
            if compiled is not None:
                self._compiled.move_to_end(key)
                return compiled
        compiled = self._compile(using, key[1])
        with self._lock:
            self._compiled[key] = compiled
            while len(self._compiled) > self.CACHE_SIZE:
                self._compiled.popitem(last=False)
        return compiled

    def statements(self) -> list[str]:
        """The SQL compiled so far in this process and still cached, one text per shape."""
        with self._lock:
            return [compiled.sql for compiled in self._compiled.values()]

    def rows(self, *values, using: str = "default") -> list[dict]:
        """Run the read with ``values``; each row as ``{column: value}``."""
        return [
            dict(zip(self.columns, row, strict=True)) for row in self.tuples(*values, using=using)
        ]

    def tuples(self, *values, using: str = "default") -> list[tuple]:
        """Run the read with ``values``; each row as a tuple in the order of ``columns`` (for a
        read of many rows whose caller wants few of their values as a dict)."""
        compiled = self.compiled(values, using)
        connection = connections[using]
        if connection.vendor != "postgresql":
            return list(self.build(*values).using(using))
        params = list(compiled.params)
        for slot, kind, value in zip(compiled.slots, compiled.kinds, values, strict=True):
            params[slot] = _adapt(connection, kind, value)
        try:
            return self._fetch(connection, compiled.sql, params)
        except (OperationalError, InterfaceError):
            if not _dropped(connection):
                raise
        # The kept connection was dropped by the server (a restart, an idle timeout): a read
        # outside a transaction is run once more, on a new connection.
        connection.close()
        return self._fetch(connection, compiled.sql, params)

    def _fetch(self, connection, sql: str, params: list) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()


def _dropped(connection) -> bool:
    """Whether a failed read may be run again on a new connection: outside a transaction, on a
    connection that no longer answers."""
    return not connection.in_atomic_block and not connection.is_usable()


class CompiledInsert:
    """A multi-row ``INSERT`` of one model's ``columns`` (field names), built once per database.

    :meth:`insert` takes each row as a tuple of values in the order of ``columns``, already in
    the form the database driver takes (str, int, bool, None or an aware datetime): no model
    instances, no per-value field conversion. Used where an ORM ``bulk_create`` would cost more
    CPU than the rest of the request (the token service's decision log).

    On PostgreSQL every number of rows travels as one statement, ``INSERT ... SELECT * FROM
    unnest(%s::type[], ...)`` with one array parameter per column (psycopg adapts the lists,
    in C): one round trip, one prepared statement whatever the number of rows, run through
    Django's cursor. With ``asynchronous_commit`` the write turns ``synchronous_commit`` off
    for its own transaction (``set_config(..., true)`` inside the ``INSERT``; the session keeps
    its setting): the server answers without waiting for the WAL to reach the disk, which
    halves the statement's cost and latency. The price: if PostgreSQL itself crashes, the rows
    of its last fraction of a second may be lost (never half-written; see PostgreSQL's
    "Asynchronous Commit"). Only for such rows, and only outside a transaction (inside one, the
    whole transaction would commit asynchronously). Other databases get ``VALUES`` lists
    (SQLite: about 50 rows per statement, in one transaction).
    """

    def __init__(self, model, columns: Sequence[str], *, asynchronous_commit: bool = False):
        self.model = model
        self.fields = tuple(model._meta.get_field(name) for name in columns)
        self.asynchronous_commit = asynchronous_commit
        self.datetimes = frozenset(
            i for i, field in enumerate(self.fields) if field.get_internal_type() == "DateTimeField"
        )

    def _head(self, connection) -> str:
        quote = connection.ops.quote_name
        return (
            f"{quote(self.model._meta.db_table)} "
            f"({', '.join(quote(field.column) for field in self.fields)})"
        )

    def _unnest(self, connection) -> str:
        # The columns' types without their length: a too long value is an error, not cut.
        types = [re.sub(r"\(.*\)", "", field.db_type(connection)) for field in self.fields]
        arrays = ", ".join(f"%s::{kind}[]" for kind in types)
        condition = (
            " WHERE set_config('synchronous_commit', 'off', true) IS NOT NULL"
            if self.asynchronous_commit
            else ""
        )
        return (
            f"INSERT INTO {self._head(connection)} SELECT * FROM unnest({arrays}) AS v{condition}"
        )

    def insert(self, rows: Sequence[tuple], using: str = "default") -> None:
        """Insert ``rows``: one statement (on SQLite, more for many rows, in one transaction)."""
        if not rows:
            return
        connection = connections[using]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    self._unnest(connection), [list(column) for column in zip(*rows, strict=True)]
                )
            return
        per_statement = max(1, connection.features.max_query_params // len(self.fields))
        adapt = connection.ops.adapt_datetimefield_value
        rows = [
            tuple(adapt(v) if i in self.datetimes else v for i, v in enumerate(row)) for row in rows
        ]
        head = self._head(connection)
        values = "(" + ", ".join(["%s"] * len(self.fields)) + ")"
        chunks = [rows[i : i + per_statement] for i in range(0, len(rows), per_statement)]
        # Several statements in one transaction; one alone needs none (and a failure would then
        # break a transaction the caller is in).
        several = transaction.atomic(using=using, savepoint=False) if len(chunks) > 1 else None
        with several or contextlib.nullcontext(), connection.cursor() as cursor:
            for chunk in chunks:
                cursor.execute(
                    f"INSERT INTO {head} VALUES {', '.join([values] * len(chunk))}",
                    [value for row in chunk for value in row],
                )
