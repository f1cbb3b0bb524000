"""The token service's read: one query per registry request.

A registry asks for a token on every pull (twice when a pull is refused), so this path is kept
to a single round trip: the access token, its user, the user's memberships with each
organisation's policy, and the verified publishers among the requested namespaces, all from one
``UNION ALL``. Django's ORM would need two queries and spends more time compiling them than the
database spends answering, so this one is written as SQL, with every table and column name
taken from the models. It applies the same rules as ``AccessToken.objects.usable()``; the token
service tests pin both (revoked, expired, inactive user).
"""

import functools
from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from orgs.models import Organization, Team, TeamMembership
from policies.engine import PullSnapshot
from policies.models import AccessPolicy, Publisher
from policies.references import ImageReference
from policies.selectors import publisher_candidates, snapshot_from_rows
from tokens.models import AccessToken
from tokens.services import secret_digest


@dataclass(frozen=True)
class TokenHolder:
    """The usable access token a request presented, and who holds it."""

    token_id: int
    last_used_at: datetime | None
    user_id: int
    username: str
    is_staff: bool


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(model, field: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(field).column)


@functools.cache
def _sql(vendor: str, publishers: int) -> str:
    """The query for ``publishers`` candidate namespaces (built once per shape)."""
    del vendor  # part of the cache key: quoting differs between database backends
    user = get_user_model()
    t, u, m, tm, o, p, pub = "t", "u", "m", "tm", "o", "p", "pub"
    sql = (
        f"SELECT {t}.{_column(AccessToken, 'id')}, {t}.{_column(AccessToken, 'last_used_at')}, "
        f"{u}.{_column(user, 'id')}, {u}.{_column(user, user.USERNAME_FIELD)}, "
        f"{u}.{_column(user, 'is_staff')}, "
        f"{o}.{_column(Organization, 'name')}, {tm}.{_column(Team, 'name')}, "
        f"{p}.{_column(AccessPolicy, 'enabled')}, "
        f"{p}.{_column(AccessPolicy, 'allow_official_images')}, "
        f"{p}.{_column(AccessPolicy, 'allow_verified_publishers')} "
        f"FROM {_table(AccessToken)} {t} "
        f"INNER JOIN {_table(user)} {u} "
        f"ON {u}.{_column(user, 'id')} = {t}.{_column(AccessToken, 'user')} "
        f"LEFT OUTER JOIN {_table(TeamMembership)} {m} "
        f"ON {m}.{_column(TeamMembership, 'user')} = {u}.{_column(user, 'id')} "
        f"LEFT OUTER JOIN {_table(Team)} {tm} "
        f"ON {tm}.{_column(Team, 'id')} = {m}.{_column(TeamMembership, 'team')} "
        f"LEFT OUTER JOIN {_table(Organization)} {o} "
        f"ON {o}.{_column(Organization, 'id')} = {tm}.{_column(Team, 'organization')} "
        f"LEFT OUTER JOIN {_table(AccessPolicy)} {p} "
        f"ON {p}.{_column(AccessPolicy, 'organization')} = {o}.{_column(Organization, 'id')} "
        f"WHERE {t}.{_column(AccessToken, 'secret_hash')} = %s "
        f"AND {t}.{_column(AccessToken, 'revoked_at')} IS NULL "
        f"AND {u}.{_column(user, 'is_active')} = %s "
        f"AND ({t}.{_column(AccessToken, 'expires_at')} IS NULL "
        f"OR {t}.{_column(AccessToken, 'expires_at')} > %s)"
    )
    if publishers:
        placeholders = ", ".join(["%s"] * publishers)
        sql += (
            " UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, "
            f"{pub}.{_column(Publisher, 'namespace')}, NULL, NULL, NULL, NULL "
            f"FROM {_table(Publisher)} {pub} "
            f"WHERE {pub}.{_column(Publisher, 'namespace')} IN ({placeholders}) "
            f"AND {pub}.{_column(Publisher, 'verified')} = %s"
        )
    return sql


def _aware(value) -> datetime | None:
    """A datetime from the backend's raw value (SQLite returns text)."""
    parsed = value if value is None or isinstance(value, datetime) else parse_datetime(value)
    if parsed is not None and timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def token_holder_snapshot(
    *, secret: str, references: list[ImageReference]
) -> tuple[TokenHolder, PullSnapshot] | None:
    """The usable token with this secret, its holder and their pull snapshot; None if the
    token is unknown, revoked, expired, or its user is inactive. One query."""
    candidates = sorted(publisher_candidates(references))
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = [secret_digest(secret), True, now, *candidates]
    if candidates:
        params.append(True)
    with connection.cursor() as cursor:
        cursor.execute(_sql(connection.vendor, len(candidates)), params)
        rows = cursor.fetchall()
    holder = None
    snapshot_rows = []
    for token_id, last_used_at, user_id, username, is_staff, *rest in rows:
        if token_id is not None and holder is None:
            holder = TokenHolder(
                token_id=token_id,
                last_used_at=_aware(last_used_at),
                user_id=user_id,
                username=username,
                is_staff=bool(is_staff),
            )
        if rest[0] is not None:  # a membership row of a user in no team has no organisation
            snapshot_rows.append(rest)
    if holder is None:
        return None
    return holder, snapshot_from_rows(username=holder.username, rows=snapshot_rows)
