"""The token service's record of its pull decisions: one row per repository scope that asks to
pull (:class:`activity.models.PullDecision`, stored once with the organisations the user belongs
to) and one JSON line per decision on the ``portal.decisions`` logger.

Both are written one of two ways (``DECISION_LOG_FLUSH_SECONDS``):

* **0: before the answer.** One INSERT per request, then the request's JSON lines; if the INSERT
  fails, no token is issued (503).
* **More than 0 (the default, 0.5 s): behind the answer.** Each worker process queues the rows
  and lines, and a thread of its own writes everything queued at most that often (sooner once
  :data:`FLUSH_ROWS` wait): first
  the JSON lines, then the rows in one write. A token request then costs no database round trip
  and no log write for its record, and the batch costs less than the same work spread over the
  requests. If the rows cannot be written, they stay queued and are retried (their JSON lines
  are out already); once ``DECISION_LOG_MAX_PENDING`` rows wait, the token service refuses new
  requests (503) until they are written, so no more than that many rows are ever handed out
  unrecorded. A worker that is killed loses what it had queued (rows and lines of at most the
  last interval), one that exits normally writes it first.
"""

import atexit
import json
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import Error, IntegrityError, connection
from django.utils import timezone

from activity.models import PullDecision
from core.prepared import CompiledInsert
from core.text import CONTROL_CHARACTERS as _CONTROL_RE
from policies.engine import Decision, OrgPolicy, PullSnapshot
from policies.references import ImageReference

logger = logging.getLogger(__name__)
#: One JSON object per line for each decision of the token service (see docs/activity.md).
decision_logger = logging.getLogger("portal.decisions")
_JSON = json.JSONEncoder(separators=(",", ":"))


def _field(value: str, limit: int) -> str:
    """A client-controlled header value as stored: control characters (PostgreSQL refuses
    NUL in text) replaced by '?', cut to the column's length."""
    value = value[:limit]
    return value if value.isprintable() else _CONTROL_RE.sub("?", value)


class AskedScope(Protocol):
    """A repository scope that asks to pull, as the writer reads it (the token service's
    ``tokens.scopes.Scope``; described here, not imported: the token service is above)."""

    @property
    def reference(self) -> ImageReference: ...

    @property
    def actions(self) -> Sequence[str]: ...


class ScopeDecision(Protocol):
    """One decision to record: the scope, the engine's decision about it, and the actions the
    token grants for it (the token service's ``tokens.grants.ScopeDecision``)."""

    @property
    def scope(self) -> AskedScope: ...

    @property
    def decision(self) -> Decision: ...

    @property
    def granted(self) -> Sequence[str]: ...


class DecisionBacklog(Exception):
    """Too many decisions wait to be written: the token service refuses new requests."""


@dataclass(frozen=True)
class Caller:
    """Who asked the token service, as the activity log records it: the user (None and '' for
    an anonymous request), how they signed in (a :class:`activity.models.PullDecision.SignIn`
    value), the access token's name or the registry session's client, and the client's address
    and user agent as the request gave them."""

    user_id: int | None
    username: str
    signed_in_with: str
    credential: str = ""
    client_address: str = ""
    user_agent: str = ""


class CallerValues(NamedTuple):
    """The caller's part of a row, as stored (client-controlled values cleaned and cut)."""

    user: int | None
    username: str
    signed_in_with: str
    credential: str
    client_address: str
    user_agent: str


class DecisionValues(NamedTuple):
    """One decision's part of a row: what was asked and granted, and what the engine said."""

    repository: str
    actions_asked: str
    actions_granted: str
    category: str
    deciding_organization: str
    rule: str
    reason: str
    outcome: str
    also_allowed_by: str


#: One row of the log as the writer inserts it: when, the organisations it is filed under (JSON
#: text, one for all of a request's rows), then the caller's and the decision's values. Its fields
#: are PullDecision's, in the order of the INSERT.
DecisionRow = NamedTuple(
    "DecisionRow",
    [
        ("decided_at", datetime),
        ("filed_under", str),
        *CallerValues.__annotations__.items(),
        *DecisionValues.__annotations__.items(),
    ],
)


#: The columns the writer fills, in the order of :class:`DecisionRow`.
DECISION_COLUMNS = DecisionRow._fields
# Compiled once, not through bulk_create (whose ORM work costs more CPU than the rest of a token
# request), committed without waiting for the disk (see CompiledInsert for what that risks).
_INSERT_DECISIONS = CompiledInsert(PullDecision, DECISION_COLUMNS, asynchronous_commit=True)
_row = DecisionRow._make


class RequestLines(NamedTuple):
    """What a request's JSON lines are made of (logged now, or queued with its rows)."""

    decided_at: datetime
    caller: CallerValues
    decisions: list[tuple[ScopeDecision, DecisionValues]]
    member_of: list[str]


#: The last organisations a row was filed under, with their JSON text (one pair, replaced whole,
#: so a thread never reads the text of other organisations).
_last_filed: list[tuple[tuple, str]] = [((), "{}")]


def filed_under_text(organizations: tuple[OrgPolicy, ...]) -> str:
    """A row's ``filed_under`` as JSON text: ``{"<organisation id>": <policy version>}``.

    The snapshot readers hand out the same tuple of policies while nothing about a user's
    memberships changes (:func:`policies.selectors.organization_policies` is memoised), so the
    text of the last tuple is kept and reused when the next request brings that very tuple: a
    member of many organisations would otherwise encode it again on every token request."""
    last, text = _last_filed[0]
    if organizations is last:
        return text
    text = _JSON.encode({str(org.id): org.version for org in organizations if org.id is not None})
    _last_filed[0] = (organizations, text)
    return text


def pull_decisions_record(
    *, caller: Caller, snapshot: PullSnapshot, decisions: Sequence[ScopeDecision]
) -> int:
    """Record the token service's decisions about one request's pull scopes; returns the
    number of rows.

    Each decision is one row, filed under every organisation the user belongs to in
    ``snapshot`` (with that organisation's policy version). The rows are written now (one
    INSERT) or queued (see the module's docstring); each decision is also one JSON line on
    ``portal.decisions``, written now or queued the same way.

    :raises django.db.Error: the rows could not be written (``DECISION_LOG_FLUSH_SECONDS=0``).
    :raises DecisionBacklog: too many decisions wait to be written.
    """
    if not decisions:
        return 0
    decided_at = snapshot.as_of or timezone.now()
    filed = filed_under_text(snapshot.organizations)
    who = CallerValues(
        user=caller.user_id,
        username=caller.username,
        signed_in_with=caller.signed_in_with,
        credential=_field(caller.credential, 100),
        client_address=_field(caller.client_address, 64),
        user_agent=_field(caller.user_agent, 200),
    )
    rows = []
    described = []
    for item in decisions:
        decision = item.decision
        what = DecisionValues(
            repository=item.scope.reference.path,
            actions_asked=",".join(item.scope.actions)[:100],
            actions_granted=",".join(item.granted),
            category=decision.category.value,
            deciding_organization=decision.organization or "",
            rule=decision.rule.value,
            reason=decision.reason,
            outcome=decision.outcome.value,
            also_allowed_by=",".join(decision.also_allowed_by),
        )
        rows.append(_row((decided_at, filed, *who, *what)))
        described.append((item, what))
    lines = RequestLines(decided_at, who, described, [o.name for o in snapshot.organizations])
    if settings.DECISION_LOG_FLUSH_SECONDS > 0:
        writer.add(rows, lines)
    else:
        _INSERT_DECISIONS.insert(rows)
        _log_lines(lines)
    return len(rows)


def _log_lines(lines: RequestLines) -> None:
    """A request's decisions as JSON lines."""
    if decision_logger.isEnabledFor(logging.INFO):
        for item, what in lines.decisions:
            decision_logger.info(_decision_line(lines, item, what))


def _decision_line(lines: RequestLines, item: ScopeDecision, what: DecisionValues) -> str:
    """One decision as one line of JSON (every value escaped: the encoder writes control and
    non-ASCII characters as escapes)."""
    who = lines.caller
    return _JSON.encode(
        {
            "event": "pull_decision",
            "time": lines.decided_at.isoformat(),
            "user": who.username or None,
            "user_id": who.user,
            "signed_in_with": who.signed_in_with,
            "credential": who.credential or None,
            "client_address": who.client_address,
            "user_agent": who.user_agent,
            "repository": what.repository,
            "actions_asked": item.scope.actions,
            "actions_granted": item.granted,
            "category": what.category,
            "organization": what.deciding_organization or None,
            "rule": what.rule,
            "reason": what.reason,
            "also_allowed_by": list(item.decision.also_allowed_by),
            "outcome": what.outcome,
            "member_of": lines.member_of,
        }
    )


def _write_queued(rows: list[DecisionRow]) -> None:
    """Write queued rows. A user deleted while their rows waited makes the write fail (the
    table's foreign key); the rows are then filed as the deletion would have filed them (a
    deleted user's rows keep the username without the user) and written, so that one deletion
    cannot hold up the queue."""
    try:
        _INSERT_DECISIONS.insert(rows)
    except IntegrityError:
        users = set(
            get_user_model()
            .objects.filter(pk__in={row.user for row in rows} - {None})
            .values_list("pk", flat=True)
        )
        if all(row.user in users or row.user is None for row in rows):
            raise  # something else
        _INSERT_DECISIONS.insert(
            [
                row if row.user in users or row.user is None else row._replace(user=None)
                for row in rows
            ]
        )


#: Rows that make the writer write at once instead of waiting for the rest of its interval.
FLUSH_ROWS = 2000


class DecisionWriter:
    """A worker process's queue of decisions to write, and the thread that writes them.

    :meth:`add` queues a request's rows and JSON lines (refusing when
    ``DECISION_LOG_MAX_PENDING`` rows wait) and makes sure the thread runs; the thread waits
    ``DECISION_LOG_FLUSH_SECONDS`` for more, logs the lines and writes all the rows in one
    write, on its own database connection. A failed write keeps the rows, logs, and is retried
    after the next interval. After :data:`IDLE_SECONDS` without rows the thread closes
    its connection and ends (the next row starts another). :meth:`flush` writes what is queued
    now, in the calling thread (at exit); :meth:`stop` ends the thread after a last write.
    """

    IDLE_SECONDS = 30

    def __init__(self):
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._hurry = threading.Event()  # stop, or a full batch: write now
        self._rows: list[DecisionRow] = []
        self._lines: list[RequestLines] = []
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._stop = threading.Event()

    @property
    def pending(self) -> int:
        return len(self._rows)

    def add(self, rows: list[DecisionRow], lines: RequestLines | None = None) -> None:
        """Queue a request's ``rows`` and what its JSON lines are made of."""
        with self._lock:
            if len(self._rows) + len(rows) > settings.DECISION_LOG_MAX_PENDING:
                raise DecisionBacklog(f"{len(self._rows)} pull decisions wait to be written")
            self._rows.extend(rows)
            if lines is not None:
                self._lines.append(lines)
            if len(self._rows) >= FLUSH_ROWS:
                self._hurry.set()
            if self._thread is None or self._pid != os.getpid():
                # None running in this process (a forked worker has none of its parent's).
                self._pid = os.getpid()
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._run, name="decision-writer", daemon=True
                )
                self._thread.start()
        if not self._wake.is_set():  # set already, unless the thread has just written
            self._wake.set()

    def _run(self) -> None:
        try:
            while True:
                woken = self._wake.wait(timeout=self.IDLE_SECONDS)
                self._hurry.wait(settings.DECISION_LOG_FLUSH_SECONDS)  # let more gather
                self._hurry.clear()
                self._wake.clear()
                stopping = self._stop.is_set()
                if not self.flush() and not stopping:
                    self._wake.set()  # retry after the next interval
                    continue
                with self._lock:
                    if stopping or (not woken and not self._rows):
                        self._thread = None
                        return
        finally:
            connection.close()  # this thread's

    def flush(self) -> bool:
        """Log the queued JSON lines and write the queued rows; False when the rows could not be
        written (they stay queued; their lines are out)."""
        with self._lock:
            rows, self._rows = self._rows, []
            lines, self._lines = self._lines, []
        for request in lines:
            _log_lines(request)
        if not rows:
            return True
        try:
            _write_queued(rows)
        except Error as error:
            logger.error("Could not write %d pull decisions (kept, retrying): %s", len(rows), error)
            with self._lock:
                self._rows[:0] = rows
            connection.close()  # this thread's; a new one is opened for the retry
            return False
        return True

    def stop(self, timeout: float = 10) -> None:
        """Write what is queued and end the thread (it closes its database connection)."""
        with self._lock:
            thread = self._thread
        self._stop.set()
        self._hurry.set()
        self._wake.set()
        if thread is not None:
            thread.join(timeout)


writer = DecisionWriter()
atexit.register(writer.flush)
