"""Reads for access tokens and registry sessions. Most of them serve the token service: who
holds an access token or a refresh token, with their pull snapshot.

A registry asks for a token on every pull (twice when a pull is refused), so this path is kept
short. The token (or session), its user and the memberships epoch
(:class:`tokens.models.MembershipEpoch`) come back from one query. The user's memberships, with
each organisation's policy and token rules (the columns of
:func:`policies.selectors.membership_columns`), are read by a second query once per epoch and
kept (:func:`holder_memberships`): a member of many organisations would otherwise read and
send a row for each on every pull. :func:`policies.selectors.snapshot_from_memberships` adds
the verified-publisher query when a requested namespace could be one and the allowlist query
when a policy refuses a requested image. All run as prepared statements
(:class:`core.prepared.CompiledRead`).
"""

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from core.prepared import CompiledRead, EpochSeconds, from_epoch
from core.secrets import secret_digest
from orgs.models import Organization, TeamMembership
from policies.engine import OrgPolicy, PullSnapshot
from policies.models import POLICY_FIELDS
from policies.references import ImageReference
from policies.selectors import (
    Membership,
    membership_columns,
    plain_member_snapshot,
    snapshot_from_memberships,
)
from tokens.models import (
    AccessToken,
    MembershipEpoch,
    OrganizationToken,
    OrganizationTokenPolicy,
    RefreshToken,
    organization_token_label,
    split_patterns,
    token_status,
)

#: The user columns both readers select, and the memberships epoch (:class:`MembershipEpoch`).
_USER_COLUMNS = {
    "user_id": "user_id",
    "username": "user__username",
    "is_active": "user__is_active",
    "is_staff": "user__is_staff",
    "epoch": "_epoch",
}
_EPOCH = Subquery(MembershipEpoch.objects.filter(pk=1).values("value"))
# The credential's times come as seconds (EpochSeconds, cheaper to load than datetimes).
_ACCESS_TOKEN_TIMES = {
    "access_token_created_at": "created_at",
    "last_used_at": "last_used_at",
    "access_token_expires_at": "expires_at",
    "access_token_revoked_at": "revoked_at",
}
_ACCESS_TOKEN_COLUMNS = {
    "access_token_id": "id",
    "credential": "name",
    **{name: f"_{name}" for name in _ACCESS_TOKEN_TIMES},
    "scope": "scope",
    **_USER_COLUMNS,
}
_ACCESS_TOKEN_HOLDER = CompiledRead(
    lambda digest: (
        AccessToken.objects.filter(secret_hash=digest)
        .annotate(
            _epoch=_EPOCH,
            **{f"_{name}": EpochSeconds(f) for name, f in _ACCESS_TOKEN_TIMES.items()},
        )
        .order_by()
        .values_list(*_ACCESS_TOKEN_COLUMNS.values())
    ),
    _ACCESS_TOKEN_COLUMNS,
)
# A registry session works while it is neither revoked nor expired, the access token that
# opened it (if any) still works, and, if the password opened it, that password is unchanged.
_SESSION_TIMES = {
    "last_used_at": "last_used_at",
    "session_expires_at": "expires_at",
    "session_revoked_at": "revoked_at",
    "access_token_created_at": "access_token__created_at",
    "access_token_expires_at": "access_token__expires_at",
    "access_token_revoked_at": "access_token__revoked_at",
}
_SESSION_COLUMNS = {
    "session_id": "id",
    "credential": "client_id",
    **{name: f"_{name}" for name in _SESSION_TIMES},
    "password_binding": "password_binding",
    "password": "user__password",
    "access_token_id": "access_token_id",
    "scope": "access_token__scope",
    **_USER_COLUMNS,
}
_SESSION_HOLDER = CompiledRead(
    lambda digest: (
        RefreshToken.objects.filter(secret_hash=digest)
        .annotate(
            _epoch=_EPOCH,
            **{f"_{name}": EpochSeconds(f) for name, f in _SESSION_TIMES.items()},
        )
        .order_by()
        .values_list(*_SESSION_COLUMNS.values())
    ),
    _SESSION_COLUMNS,
)
#: A holder's memberships, each with its organisation's cap on personal tokens (days; None:
#: none) first.
_HOLDER_MEMBERSHIPS = CompiledRead(
    lambda user_id: (
        TeamMembership.objects.filter(user_id=user_id)
        .order_by()
        .values_list(
            "team__organization__token_policy__personal_token_max_days",
            *membership_columns().values(),
        )
    ),
    {"cap_days": "cap_days", **membership_columns()},
)


def password_binding(*, password_hash: str) -> str:
    """What a credential opened with the account password keeps of it: Django's session
    hash of the user's password hash (an HMAC with ``SECRET_KEY``), so that changing or
    resetting the password, or rotating ``SECRET_KEY``, ends the credential."""
    return get_user_model()(password=password_hash).get_session_auth_hash()


def password_binding_holds(*, binding: str, password_hash: str) -> bool:
    """Whether ``binding`` was made from this password hash (:func:`password_binding`)."""
    return constant_time_compare(binding, password_binding(password_hash=password_hash))


def access_token_works(*, revoked_at, expires_at, user_is_active: bool, now: datetime) -> bool:
    """The one rule for an access token: neither revoked nor expired, and its user active."""
    return user_is_active and (
        token_status(revoked_at=revoked_at, expires_at=expires_at, now=now) == "active"
    )


def _session_works(row, now: datetime) -> bool:
    if row["session_revoked_at"] is not None:
        return False
    if row["session_expires_at"] is not None and row["session_expires_at"] <= now:
        return False
    if row["access_token_id"] is None:  # opened with the password: bound to it
        return bool(row["password_binding"]) and password_binding_holds(
            binding=row["password_binding"], password_hash=row["password"]
        )
    return True


@dataclass(frozen=True)
class TokenHolder:
    """Who presented a usable access token or refresh token, and what with.

    ``access_token_id`` is the access token presented, or the one that opened the registry
    session ``session_id`` (None for a session opened with the account password).
    ``scope`` is that access token's :class:`tokens.models.TokenScope` (None: the account).
    ``credential`` is the access token's name, or the session's client id (what the activity
    log records).
    ``access_token_created_at`` is when that access token was made (for the organisations'
    caps, :func:`capped_organizations`). ``memberships`` are the holder's, for
    :func:`holder_snapshot`; ``caps`` the organisations among them that cap personal tokens,
    with the cap in days.
    """

    user_id: int
    username: str
    is_staff: bool
    credential: str
    last_used_at: datetime | None
    access_token_id: int | None
    scope: str | None
    session_id: int | None = None
    access_token_created_at: datetime | None = None
    memberships: tuple[Membership, ...] = field(default=(), repr=False, compare=False)
    caps: tuple[tuple[str, int], ...] = ()


class HolderMemberships(NamedTuple):
    """A holder's memberships, and the organisations among them that cap personal tokens."""

    memberships: tuple[Membership, ...]
    caps: tuple[tuple[str, int], ...]


#: ``Membership._make`` without its Python frame (a member of many organisations has a row each).
_membership = tuple.__new__


def _read_memberships(user_id: int) -> HolderMemberships:
    rows = _HOLDER_MEMBERSHIPS.tuples(user_id)
    memberships = tuple([_membership(Membership, row[1:]) for row in rows])
    return HolderMemberships(
        memberships=memberships,
        caps=tuple(
            (membership.organization, row[0])
            for row, membership in zip(rows, memberships, strict=True)
            if row[0] is not None
        ),
    )


#: How many holders' memberships a process keeps (the least recently used go first).
KEPT_HOLDERS = 2048


@functools.lru_cache(maxsize=KEPT_HOLDERS)
def _memberships_at(user_id: int, epoch: int) -> HolderMemberships:
    return _read_memberships(user_id)


def holder_memberships(user_id: int, epoch: int | None) -> HolderMemberships:
    """The user's memberships as the database holds them at memberships epoch ``epoch``
    (:class:`tokens.models.MembershipEpoch`, read before this is called): read once per
    epoch and kept, since a registry asks again for every image it pulls and a member of many
    organisations has a row for each. An epoch read is never older than the memberships kept
    for it: they are read after it, and any change to them gives a new epoch in the change's
    own transaction. None (no epoch yet): read each time."""
    if epoch is None:
        return _read_memberships(user_id)
    return _memberships_at(user_id, epoch)


def _holder(rows: list[dict], *, now: datetime, session: bool) -> TokenHolder | None:
    if not rows:
        return None
    first = rows[0]  # the credential's and the user's columns
    for name in _SESSION_TIMES if session else _ACCESS_TOKEN_TIMES:
        first[name] = from_epoch(first[name])
    if not access_token_works(
        revoked_at=first["access_token_revoked_at"],
        expires_at=first["access_token_expires_at"],
        user_is_active=first["is_active"],
        now=now,
    ):
        return None
    if session and not _session_works(first, now):
        return None
    memberships, caps = holder_memberships(first["user_id"], first["epoch"])
    return TokenHolder(
        user_id=first["user_id"],
        username=first["username"],
        is_staff=first["is_staff"],
        credential=first["credential"],
        last_used_at=first["last_used_at"],
        access_token_id=first["access_token_id"],
        scope=first["scope"],
        session_id=first["session_id"] if session else None,
        access_token_created_at=first["access_token_created_at"],
        memberships=memberships,
        caps=caps,
    )


def access_token_holder(*, secret: str, now: datetime | None = None) -> TokenHolder | None:
    """The holder of the working access token with this secret, with their memberships (one
    query, and one more when the memberships epoch changed since they were kept:
    :func:`holder_memberships`); None if the token is unknown, revoked or expired, or its user
    is inactive."""
    return _holder(
        _ACCESS_TOKEN_HOLDER.rows(secret_digest(secret)), now=now or timezone.now(), session=False
    )


def session_holder(*, secret: str, now: datetime | None = None) -> TokenHolder | None:
    """The holder of the working registry session (refresh token) with this secret, with their
    memberships (read as for :func:`access_token_holder`); None if it is unknown, revoked or
    expired, if the access token that opened it no longer works, if the password that opened
    it has changed, or if its user is inactive."""
    return _holder(
        _SESSION_HOLDER.rows(secret_digest(secret)), now=now or timezone.now(), session=True
    )


def capped_organizations(holder: TokenHolder, *, now: datetime) -> dict[str, int]:
    """The organisations of the holder whose cap on personal tokens the access token has
    outlived, with their cap in days: the token was made more than that many days before
    ``now``. None for a sign-in without an access token (a session opened with the password).
    Read from the rows already there: no query."""
    created = holder.access_token_created_at
    if created is None:
        return {}
    age = now - created
    return {organization: days for organization, days in holder.caps if age > timedelta(days=days)}


def holder_snapshot(
    holder: TokenHolder, *, references: list[ImageReference], as_of: datetime | None = None
) -> PullSnapshot:
    """The holder's pull snapshot for these references, from the rows already read."""
    return snapshot_from_memberships(
        username=holder.username,
        memberships=holder.memberships,
        references=references,
        as_of=as_of or timezone.now(),
    )


def token_holder_snapshot(
    *, secret: str, references: list[ImageReference], as_of: datetime | None = None
) -> tuple[TokenHolder, PullSnapshot] | None:
    """The usable access token with this secret, its holder and their pull snapshot as of
    ``as_of`` (default: now); None as for :func:`access_token_holder`."""
    as_of = as_of or timezone.now()
    holder = access_token_holder(secret=secret, now=as_of)
    if holder is None:
        return None
    return holder, holder_snapshot(holder, references=references, as_of=as_of)


def _usable(tokens) -> AccessToken | None:
    token = tokens.select_related("user").first()
    if token is None or not access_token_works(
        revoked_at=token.revoked_at,
        expires_at=token.expires_at,
        user_is_active=token.user.is_active,
        now=timezone.now(),
    ):
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


# --- organisation tokens ---------------------------------------------------------------------

_ORGANIZATION_TOKEN_COLUMNS = {
    "token_id": "id",
    "name": "name",
    "scope": "scope",
    "repositories": "repositories",
    "expires_at": "expires_at",
    "revoked_at": "revoked_at",
    "last_used_at": "last_used_at",
    "organization_id": "organization_id",
    "organization": "organization__name",
    "policy_version": "organization__access_policy__version",
    **{field: f"organization__access_policy__{field}" for field in POLICY_FIELDS},
}
_ORGANIZATION_TOKEN_HOLDER = CompiledRead(
    lambda digest: (
        OrganizationToken.objects.filter(secret_hash=digest)
        .order_by()
        .values_list(*_ORGANIZATION_TOKEN_COLUMNS.values())
    ),
    _ORGANIZATION_TOKEN_COLUMNS,
)


@dataclass(frozen=True)
class OrganizationTokenHolder:
    """A usable organisation token: its organisation as a plain member of it sees it
    (``policy``: never an owner, in no team), its scope, and the repository patterns it is
    limited to (empty: none). ``label`` is what the activity log and the JWT call it."""

    token_id: int
    name: str
    label: str
    scope: str
    patterns: tuple[str, ...]
    last_used_at: datetime | None
    policy: OrgPolicy


def organization_token_holder(
    *, secret: str, now: datetime | None = None
) -> OrganizationTokenHolder | None:
    """The working organisation token with this secret, with its organisation's policy (one
    query); None if it is unknown, revoked or expired. No person is read: it works whoever
    made it and whoever has left."""
    rows = _ORGANIZATION_TOKEN_HOLDER.rows(secret_digest(secret))
    if not rows:
        return None
    row = rows[0]
    now = now or timezone.now()
    if token_status(revoked_at=row["revoked_at"], expires_at=row["expires_at"], now=now) != (
        "active"
    ):
        return None
    return OrganizationTokenHolder(
        token_id=row["token_id"],
        name=row["name"],
        label=organization_token_label(row["organization"], row["name"]),
        scope=row["scope"],
        patterns=split_patterns(row["repositories"]),
        last_used_at=row["last_used_at"],
        policy=OrgPolicy(
            name=row["organization"],
            id=row["organization_id"],
            is_owner=False,
            version=row["policy_version"],
            **{field: row[field] for field in POLICY_FIELDS},
        ),
    )


def organization_token_snapshot(
    holder: OrganizationTokenHolder,
    *,
    references: list[ImageReference],
    as_of: datetime | None = None,
) -> PullSnapshot:
    """The pull snapshot of an organisation token: a plain member of its organisation alone."""
    return plain_member_snapshot(
        username=holder.label,
        organization=holder.policy,
        references=references,
        as_of=as_of or timezone.now(),
    )


def organization_tokens_of(
    *, organization: Organization, active: bool = False
) -> QuerySet[OrganizationToken]:
    """The organisation's tokens, newest first (with ``active``, those still working)."""
    tokens = OrganizationToken.objects.filter(organization=organization).select_related(
        "organization"
    )
    if active:
        tokens = tokens.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()), revoked_at__isnull=True
        )
    return tokens.order_by("-created_at", "-id")


def member_tokens_of(*, organization: Organization) -> QuerySet[AccessToken]:
    """The working personal access tokens of the organisation's members, by member then
    newest first, with their users (never their secrets: only the digest is stored)."""
    return (
        AccessToken.objects.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()),
            revoked_at__isnull=True,
            user__team_memberships__team__organization=organization,
        )
        .select_related("user")
        .distinct()
        .order_by("user__username", "-created_at", "-id")
    )


def token_policy_of(*, organization: Organization) -> OrganizationTokenPolicy:
    """The organisation's token rules (unsaved defaults when it never set them)."""
    found = OrganizationTokenPolicy.objects.filter(organization=organization).first()
    return found or OrganizationTokenPolicy(organization=organization)


def is_member_token(*, organization: Organization, token: AccessToken) -> bool:
    """Whether ``token`` belongs to a member of ``organization``."""
    return TeamMembership.objects.filter(
        team__organization=organization, user_id=token.user_id
    ).exists()
