"""The token service's read: who holds an access token, and their pull snapshot.

A registry asks for a token on every pull (twice when a pull is refused), so this path is kept
short: the access token, its user and the user's memberships with each organisation's policy
come back from one query (the membership columns are those of
:func:`policies.selectors.membership_columns`, read through an outer join so that a user in no
team still comes back); :func:`policies.selectors.snapshot_from_rows` adds the verified-publisher
query when a requested namespace could be one and the allowlist query when a policy refuses a
requested image. All run as prepared statements (:class:`portal.prepared.CompiledRead`).
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from policies.engine import PullSnapshot
from policies.references import ImageReference
from policies.selectors import membership_columns, snapshot_from_rows
from portal.prepared import CompiledRead
from tokens.models import AccessToken, token_status
from tokens.services import secret_digest

TOKEN_COLUMNS = {
    "token_id": "id",
    "last_used_at": "last_used_at",
    "expires_at": "expires_at",
    "revoked_at": "revoked_at",
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


@dataclass(frozen=True)
class TokenHolder:
    """The usable access token a request presented, and who holds it."""

    token_id: int
    last_used_at: datetime | None
    user_id: int
    username: str
    is_staff: bool


def token_holder_snapshot(
    *, secret: str, references: list[ImageReference], as_of: datetime | None = None
) -> tuple[TokenHolder, PullSnapshot] | None:
    """The usable token with this secret, its holder and their pull snapshot as of ``as_of``
    (default: now); None if the token is unknown, revoked or expired, or its user is
    inactive."""
    as_of = as_of or timezone.now()
    rows = _TOKEN_HOLDER.rows(secret_digest(secret))
    if not rows:
        return None
    first = rows[0]
    status = token_status(revoked_at=first["revoked_at"], expires_at=first["expires_at"], now=as_of)
    if status != "active" or not first["is_active"]:
        return None
    holder = TokenHolder(**{name: first[name] for name in TokenHolder.__dataclass_fields__})
    snapshot = snapshot_from_rows(
        username=holder.username, rows=rows, references=references, as_of=as_of
    )
    return holder, snapshot
