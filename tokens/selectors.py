"""Reads for access tokens and registry sessions. Most of them serve the token service: who
holds an access token or a refresh token, with their pull snapshot.

A registry asks for a token on every pull (twice when a pull is refused), so this path is kept
short: the token, its user and the user's memberships with each organisation's policy come
back from one query (the membership columns are those of
:func:`policies.selectors.membership_columns`, read through an outer join so that a user in no
team still comes back); :func:`policies.selectors.snapshot_from_rows` adds the verified-publisher
query when a requested namespace could be one and the allowlist query when a policy refuses a
requested image. All run as prepared statements (:class:`portal.prepared.CompiledRead`).
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from policies.engine import PullSnapshot
from policies.references import ImageReference
from policies.selectors import membership_columns, snapshot_from_rows
from portal.prepared import CompiledRead
from tokens.models import AccessToken, RefreshToken, token_status
from tokens.services import secret_digest

TOKEN_COLUMNS = {
    "token_id": "id",
    "credential": "name",
    "last_used_at": "last_used_at",
    "expires_at": "expires_at",
    "revoked_at": "revoked_at",
    "scope": "scope",
    "user_id": "user_id",
    "username": "user__username",
    "is_active": "user__is_active",
    "is_staff": "user__is_staff",
}
_HOLDER_COLUMNS = {**TOKEN_COLUMNS, **membership_columns("user__team_memberships__")}
_TOKEN_HOLDER = CompiledRead(
    lambda digest: (
        AccessToken.objects.filter(secret_hash=digest)
        .order_by()
        .values_list(*_HOLDER_COLUMNS.values())
    ),
    _HOLDER_COLUMNS,
)
# A refresh token works while it is not revoked and the access token that opened it (if any)
# still works: its status columns stand in for the session's own expiry.
_SESSION_COLUMNS = {
    **_HOLDER_COLUMNS,
    "token_id": "id",
    "credential": "client_id",
    "last_used_at": "last_used_at",
    "access_token_id": "access_token_id",
    "scope": "access_token__scope",
    "expires_at": "access_token__expires_at",
    "revoked_at": "access_token__revoked_at",
    "session_revoked_at": "revoked_at",
}
_SESSION_HOLDER = CompiledRead(
    lambda digest: (
        RefreshToken.objects.filter(secret_hash=digest)
        .order_by()
        .values_list(*_SESSION_COLUMNS.values())
    ),
    _SESSION_COLUMNS,
)


@dataclass(frozen=True)
class TokenHolder:
    """The usable access token or refresh token a request presented, and who holds it.

    For a refresh token, ``token_id`` is the session's id and ``access_token_id`` the access
    token that opened it (None after a password sign-in); for an access token both are its id.
    ``scope`` is that access token's :class:`tokens.models.TokenScope` (None after a password
    sign-in: the account itself).
    ``credential`` is the access token's name, or the session's client id (what the activity
    log records).
    """

    token_id: int
    credential: str
    access_token_id: int | None
    scope: str | None
    last_used_at: datetime | None
    user_id: int
    username: str
    is_staff: bool


def _holder_snapshot(rows, references, as_of) -> tuple[TokenHolder, PullSnapshot] | None:
    if not rows:
        return None
    first = rows[0]
    status = token_status(
        revoked_at=first["revoked_at"] or first.get("session_revoked_at"),
        expires_at=first["expires_at"],
        now=as_of,
    )
    if status != "active" or not first["is_active"]:
        return None
    holder = TokenHolder(
        access_token_id=first.get("access_token_id", first["token_id"]),
        **{
            name: first[name]
            for name in TokenHolder.__dataclass_fields__
            if name != "access_token_id"
        },
    )
    snapshot = snapshot_from_rows(
        username=holder.username, rows=rows, references=references, as_of=as_of
    )
    return holder, snapshot


def token_holder_snapshot(
    *, secret: str, references: list[ImageReference], as_of: datetime | None = None
) -> tuple[TokenHolder, PullSnapshot] | None:
    """The usable access token with this secret, its holder and their pull snapshot as of
    ``as_of`` (default: now); None if the token is unknown, revoked or expired, or its user is
    inactive."""
    rows = _TOKEN_HOLDER.rows(secret_digest(secret))
    return _holder_snapshot(rows, references, as_of or timezone.now())


def session_holder_snapshot(
    *, secret: str, references: list[ImageReference]
) -> tuple[TokenHolder, PullSnapshot] | None:
    """The registry session (refresh token) with this secret, its holder and their pull
    snapshot; None if it is unknown or revoked, if the access token that opened it no longer
    works, or if its user is inactive (a removed user's sessions are gone with them)."""
    rows = _SESSION_HOLDER.rows(secret_digest(secret))
    return _holder_snapshot(rows, references, timezone.now())


def _usable(tokens) -> AccessToken | None:
    token = tokens.select_related("user").first()
    if token is None or token.status != "active" or not token.user.is_active:
        return None
    return token


def usable_access_token(*, secret: str) -> AccessToken | None:
    """The working access token with this secret, with its user (one query); None if it is
    unknown, revoked or expired, or its user is inactive."""
    return _usable(AccessToken.objects.filter(secret_hash=secret_digest(secret)))


def usable_access_token_of(*, user_id: int, token_id: int) -> AccessToken | None:
    """``user_id``'s access token ``token_id`` if it still works, with its user; else None."""
    return _usable(AccessToken.objects.filter(pk=token_id, user_id=user_id))


def access_tokens_of(*, user, active: bool = False) -> QuerySet[AccessToken]:
    """The user's access tokens, newest first: all of them, or with ``active`` only those
    neither revoked nor expired (:func:`tokens.models.token_status`)."""
    tokens = AccessToken.objects.filter(user=user).order_by("-created_at", "-id")
    if active:
        tokens = tokens.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()), revoked_at__isnull=True
        )
    return tokens


def registry_sessions_of(*, user, open_only: bool = False) -> QuerySet[RefreshToken]:
    """The user's registry sessions (refresh tokens), newest first, with the access token each
    was opened with: all of them, or with ``open_only`` those not revoked."""
    sessions = RefreshToken.objects.filter(user=user).select_related("access_token")
    if open_only:
        sessions = sessions.filter(revoked_at__isnull=True)
    return sessions
