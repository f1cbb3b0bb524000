"""The bench's PostgreSQL database: created if missing, and its server-side counters.

Nothing here goes through Django: the counters are read on a connection to the maintenance
database ``postgres``, so that reading them adds neither a transaction nor a backend (with its
CPU time) to the bench database being measured. Between cycles the bench vacuums the decision
log itself (:func:`vacuum_decision_log`), outside the rounds.
"""

import time
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

#: The token service's decision log (activity.models.PullDecision).
DECISION_TABLE = "policies_pulldecision"


class DatabaseUnavailable(Exception):
    """PostgreSQL does not answer or the URL is not usable; the message says what to do."""


@dataclass(frozen=True)
class DbCounters:
    """Cumulative counters of one database from ``pg_stat_database``."""

    xact_commit: int
    xact_rollback: int
    sessions: int

    def __sub__(self, other: "DbCounters") -> "DbCounters":
        return DbCounters(
            xact_commit=self.xact_commit - other.xact_commit,
            xact_rollback=self.xact_rollback - other.xact_rollback,
            sessions=self.sessions - other.sessions,
        )


def database_name(url: str) -> str:
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise DatabaseUnavailable(f"not a valid PostgreSQL URL: {exc}") from None
    return params.get("dbname") or "iam_bench"


def prepare(url: str) -> tuple[bool, str]:
    """Make sure the database exists; ``(created, server version)``."""
    dbname = database_name(url)
    with _maintenance(url) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname])
        created = exists.fetchone() is None
        if created:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    return created, version


def vacuum_decision_log(url: str) -> float:
    """``VACUUM (ANALYZE)`` the decision log of the bench database; returns the seconds it took.

    Every token request adds rows to it (50 for a member of 50 organisations), so during a long
    run PostgreSQL's autovacuum would wake up in the middle of some round and take CPU from
    whichever scenario happens to run. The bench does that work itself between cycles and
    phases, and reports how long it took, so that it lands in no round.
    """
    started = time.monotonic()
    with _maintenance(url, dbname=database_name(url)) as conn:
        conn.execute(f"VACUUM (ANALYZE) {DECISION_TABLE}")
    return time.monotonic() - started


def _maintenance(url: str, dbname: str = "postgres") -> psycopg.Connection:
    params = conninfo_to_dict(url)
    where = f"{params.get('host', 'localhost')}:{params.get('port', 5432)}"
    try:
        return psycopg.connect(
            make_conninfo(url, dbname=dbname, connect_timeout="5"), autocommit=True
        )
    except psycopg.OperationalError as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnavailable(f"cannot connect to PostgreSQL at {where} ({detail})") from None


class CounterReader:
    """Reads the bench database's ``pg_stat_database`` row on one long-lived connection.

    Backends publish their counters when they go idle, at most once a second: use
    :meth:`settled` after a round.
    """

    def __init__(self, url: str):
        self.dbname = database_name(url)
        self.conn = _maintenance(url)

    def settled(self, timeout: float = 5.0) -> DbCounters:
        """The counters once the backends have published theirs: a second after the load
        stopped, then until two readings a quarter of a second apart agree."""
        time.sleep(1.0)
        last = self.read()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(0.25)
            now = self.read()
            if now == last:
                break
            last = now
        return last

    def read(self) -> DbCounters:
        row = self.conn.execute(
            "SELECT xact_commit, xact_rollback, sessions FROM pg_stat_database WHERE datname = %s",
            [self.dbname],
        ).fetchone()
        return DbCounters(xact_commit=row[0], xact_rollback=row[1], sessions=row[2])

    def close(self) -> None:
        self.conn.close()
