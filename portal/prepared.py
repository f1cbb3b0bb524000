"""ORM reads compiled once and run as prepared statements, for the registry's hot path; and the
one write on that path, the INSERT of its decisions, built the same way.

The token service runs the same few small reads on every registry request. Compiling an ORM
query costs more CPU than PostgreSQL spends answering an indexed one, and PostgreSQL in turn
spends most of its time *planning* such a query, not running it. :class:`CompiledRead` keeps
the ORM as the only definition of the read (tables, joins and columns come from the models)
but compiles it once per process and database, with stand-in values, and then only swaps the
parameters. On PostgreSQL it runs through a server-side-binding cursor as a prepared statement,
so the server plans it once per connection; other backends run the same SQL through Django's
own cursor. While anyone watches a connection's queries (DEBUG's query log, the tests' query
counts, ``connection.execute_wrapper``) they pass through Django's cursor wrapper like any other;
otherwise through a cursor kept per connection, with the wrapper's checks and error translation.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count

import psycopg
from django.conf import settings
from django.db import InterfaceError, OperationalError, connections, transaction
from django.db.models import QuerySet

_stand_ins = count(1)
_EARLIEST = datetime(1, 1, 1, tzinfo=UTC)


def _kind(value) -> str:
    """The kind of a parameter value: "int", "datetime" or "str"."""
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, int) and not isinstance(value, bool):
        return "int"
    return "str"


def _stand_in(kind: str):
    """A unique value of the given kind that cannot occur in real data."""
    number = next(_stand_ins)
    if kind == "int":
        return -(2**62) - number
    if kind == "datetime":
        return _EARLIEST + timedelta(microseconds=number)
    return f"\x00stand-in-{number}\x00"


def _adapt(connection, kind: str, value):
    """The value as the ORM passes it to the database driver (a datetime becomes text on
    SQLite, say)."""
    if kind == "datetime":
        return connection.ops.adapt_datetimefield_value(value)
    return value


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: tuple[int, ...]  # positions in params that take the caller's values, in order
    kinds: tuple[str, ...]  # the kind of each slot's value
    converters: dict  # the ORM's {column: ([converter, ...], expression)}, e.g. SQLite booleans


class CompiledRead:
    """A ``values_list`` queryset built by ``build(*values)``, compiled once per shape.

    ``columns`` names the queryset's columns in order; :meth:`rows` returns each row as a dict
    keyed by them. The arguments to ``build`` are plain values (str, int or an aware datetime)
    or lists/tuples of str or int (for ``__in``); a sequence's length and element kind are part
    of the compiled shape.
    """

    def __init__(self, build: Callable[..., QuerySet], columns: Sequence[str]):
        self.build = build
        self.columns = tuple(columns)
        self._compiled: dict[tuple, _Compiled] = {}

    def _compile(self, alias: str, shape: tuple) -> _Compiled:
        connection = connections[alias]
        stand_ins, flat, kinds = [], [], []
        for kind in shape:
            if isinstance(kind, tuple):  # (element kind, length) of a sequence
                element, length = kind
                values = [_stand_in(element) for _ in range(length)]
                stand_ins.append(values)
                flat.extend(values)
                kinds.extend([element] * length)
            else:
                value = _stand_in(kind)
                stand_ins.append(value)
                flat.append(value)
                kinds.append(kind)
        compiler = self.build(*stand_ins).query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        expected = [_adapt(connection, k, value) for k, value in zip(kinds, flat, strict=True)]
        if len(compiler.select) != len(self.columns) or any(
            params.count(value) != 1 for value in expected
        ):
            raise ValueError("the query must select the named columns and use each value once")
        converters = compiler.get_converters([column[0] for column in compiler.select])
        return _Compiled(
            sql=sql,
            params=tuple(params),
            slots=tuple(params.index(value) for value in expected),
            kinds=tuple(kinds),
            converters=converters,
        )

    def statements(self) -> list[str]:
        """The SQL compiled so far in this process, one text per shape (what ``make bench``
        prints: a prepared statement's text is not kept by the driver for Django's query log)."""
        return [compiled.sql for compiled in self._compiled.values()]

    def rows(self, *values, using: str = "default") -> list[dict]:
        """Run the read with ``values``; each row as ``{column: value}``."""
        shape = tuple(
            (_kind(v[0]) if v else "str", len(v)) if isinstance(v, list | tuple) else _kind(v)
            for v in values
        )
        key = (using, shape)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(using, shape)
        connection = connections[using]
        params = list(compiled.params)
        flat = [item for v in values for item in (v if isinstance(v, list | tuple) else [v])]
        for slot, kind, value in zip(compiled.slots, compiled.kinds, flat, strict=True):
            params[slot] = _adapt(connection, kind, value)
        rows = []
        for row in _execute(connection, compiled.sql, params):
            row = list(row)
            for position, (converters, expression) in compiled.converters.items():
                for converter in converters:
                    row[position] = converter(row[position], expression, connection)
            rows.append(dict(zip(self.columns, row, strict=True)))
        return rows


class CompiledInsert:
    """A multi-row ``INSERT`` of one model's ``columns`` (field names), built once per database.

    :meth:`insert` takes each row as a tuple of values in the order of ``columns``, already in
    the form the database driver takes (str, int, bool, None or an aware datetime): no model
    instances, no per-value field conversion. Used where an ORM ``bulk_create`` would cost more
    CPU than the rest of the request (the token service's decision log).

    On PostgreSQL a few rows travel as one prepared ``INSERT`` with a ``VALUES`` list (one round
    trip); more travel as one binary ``COPY`` in a transaction of its own, whose rows the
    driver formats in C (a batch of thousands costs a few microseconds a row). With
    ``asynchronous_commit`` the write turns ``synchronous_commit`` off for its own transaction
    (``set_config(..., true)`` inside the ``INSERT``, ``SET LOCAL`` before the ``COPY``; the
    session keeps its setting): the server answers without waiting for the WAL to reach the
    disk, which halves the statement's cost and latency. The price: if PostgreSQL itself
    crashes, the rows of its last fraction of a second may be lost (never half-written; see
    PostgreSQL's "Asynchronous Commit"). Only for such rows, and only outside a transaction
    (inside one, the whole transaction would commit asynchronously). Other databases get
    ``VALUES`` lists (SQLite: about 50 rows per statement, in one transaction).
    """

    #: Up to this many rows, an INSERT with a VALUES list (one prepared statement per number of
    #: rows, one round trip); more travel by COPY (four round trips, any number of rows).
    VALUES_ROWS = 32

    def __init__(self, model, columns: Sequence[str], *, asynchronous_commit: bool = False):
        self.model = model
        self.fields = tuple(model._meta.get_field(name) for name in columns)
        self.asynchronous_commit = asynchronous_commit
        self.datetimes = frozenset(
            i for i, field in enumerate(self.fields) if field.get_internal_type() == "DateTimeField"
        )
        self._sql: dict[tuple[str, int], str] = {}

    def _head(self, connection) -> str:
        quote = connection.ops.quote_name
        return (
            f"{quote(self.model._meta.db_table)} "
            f"({', '.join(quote(field.column) for field in self.fields)})"
        )

    def _types(self, connection) -> list[str]:
        """The columns' types without their length: a too long value is an error, not cut."""
        return [re.sub(r"\(.*\)", "", field.db_type(connection)) for field in self.fields]

    def _values(self, connection, rows: int) -> str:
        key = (connection.alias, rows)
        sql = self._sql.get(key)
        if sql is None:
            if connection.vendor == "postgresql":
                # Typed placeholders: a VALUES list in FROM does not take its types from the
                # table.
                values = "(" + ", ".join(f"%s::{kind}" for kind in self._types(connection)) + ")"
                sql = (
                    f"INSERT INTO {self._head(connection)} SELECT * FROM (VALUES "
                    f"{', '.join([values] * rows)}) AS v{self._condition()}"
                )
            else:
                values = "(" + ", ".join(["%s"] * len(self.fields)) + ")"
                sql = f"INSERT INTO {self._head(connection)} VALUES {', '.join([values] * rows)}"
            if rows <= self.VALUES_ROWS:  # the usual sizes; others are built each time
                self._sql[key] = sql
        return sql

    def _condition(self) -> str:
        if not self.asynchronous_commit:
            return ""
        return " WHERE set_config('synchronous_commit', 'off', true) IS NOT NULL"

    def insert(self, rows: Sequence[tuple], using: str = "default") -> None:
        """Insert ``rows``: one statement (on SQLite, more for many rows, in one transaction)."""
        if not rows:
            return
        connection = connections[using]
        if connection.vendor == "postgresql":
            if len(rows) > self.VALUES_ROWS:
                self._copy(connection, rows)
            else:
                self._insert(connection, rows)
            return
        per_statement = max(1, connection.features.max_query_params // len(self.fields))
        adapt = connection.ops.adapt_datetimefield_value
        rows = [
            tuple(adapt(v) if i in self.datetimes else v for i, v in enumerate(row)) for row in rows
        ]
        chunks = [rows[i : i + per_statement] for i in range(0, len(rows), per_statement)]
        if len(chunks) == 1:
            self._insert(connection, chunks[0])
            return
        with transaction.atomic(using=using, savepoint=False):
            for chunk in chunks:
                self._insert(connection, chunk)

    def _insert(self, connection, rows: Sequence[tuple]) -> None:
        params = [value for row in rows for value in row]
        _execute(connection, self._values(connection, len(rows)), params, fetch=False)

    def _copy(self, connection, rows: Sequence[tuple]) -> None:
        sql = f"COPY {self._head(connection)} FROM STDIN (FORMAT BINARY)"
        with (
            transaction.atomic(using=connection.alias),
            connection.cursor() as cursor,
        ):
            if self.asynchronous_commit:
                cursor.execute("SET LOCAL synchronous_commit TO off")
            # The driver's own cursor: Django's wrapper has no COPY.
            with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
                copy.set_types(self._types(connection))
                for row in rows:
                    copy.write_row(row)


def _execute(connection, sql: str, params: list, fetch: bool = True) -> list[tuple]:
    if connection.vendor != "postgresql" or not settings.DATABASE_PREPARED_STATEMENTS:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if fetch else []
    # Django checks a reused connection with a round trip (SELECT 1) before the first query of
    # each request (CONN_HEALTH_CHECKS). This read checks it by running instead: if the
    # connection turns out to be broken (the server restarted, say), it is replaced and the
    # read runs once more, unless a transaction was under way on it.
    try:
        return _run_prepared(connection, sql, params, fetch)
    except (InterfaceError, OperationalError):
        # A write is not retried: it may have happened before the connection broke.
        if not fetch or connection.in_atomic_block or connection.is_usable():
            raise
        connection.close()
    return _run_prepared(connection, sql, params, fetch)


def _run_prepared(connection, sql: str, params: list, fetch: bool) -> list[tuple]:
    connection.ensure_connection()
    if connection.queries_logged or connection.execute_wrappers:
        # Someone is watching (DEBUG's query log, the tests' query counts, an execute_wrapper):
        # through Django's cursor wrapper, like any other query.
        with connection.wrap_database_errors:
            raw = _preparing_cursor_class()(connection.connection)
        with connection._prepare_cursor(raw) as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall() if fetch else []
    else:
        # What Django's wrapper would do with nobody watching (refuse to run in a transaction
        # that must be rolled back, translate the driver's errors), on a cursor kept for the
        # connection: a new cursor each time costs more than PostgreSQL's answer.
        connection.validate_no_broken_transaction()
        with connection.wrap_database_errors:
            cursor = _kept_cursor(connection)
            cursor.execute(sql, params, prepare=True, binary=True)
            rows = cursor.fetchall() if fetch else []
    connection.health_check_done = True  # it just answered: no SELECT 1 in this request
    return rows


def _kept_cursor(connection):
    """The driver's server-binding cursor kept on ``connection`` (a thread's own connection
    wrapper) for its current database connection; a new one after a reconnection."""
    raw = connection.connection
    kept = getattr(connection, "_prepared_cursor", None)
    if kept is None or kept.connection is not raw or kept.closed:
        connection.validate_thread_sharing()
        kept = connection._prepared_cursor = psycopg.Cursor(raw)
    return kept


def _preparing_cursor_class():
    """Django's server-binding psycopg cursor, preparing every statement it runs."""
    global _PreparingCursor
    if _PreparingCursor is None:
        from django.db.backends.postgresql.base import ServerBindingCursor

        class PreparingCursor(ServerBindingCursor):
            def execute(self, query, params=None, *, prepare=True, binary=True):
                return super().execute(query, params, prepare=prepare, binary=binary)

        _PreparingCursor = PreparingCursor
    return _PreparingCursor


_PreparingCursor = None
