"""Writes and checks for personal access tokens and registry sessions (refresh tokens), and the
token service's record of its pull decisions."""

import hashlib
import json
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from policies.engine import PullSnapshot
from policies.models import PullDecision
from portal.prepared import CompiledInsert
from tokens.grants import ScopeDecision
from tokens.models import AccessToken, RefreshToken

#: One JSON object per line for each decision of the token service (see the README).
decision_logger = logging.getLogger("portal.decisions")

TOKEN_PREFIX = "iamp_"
REFRESH_PREFIX = "iamr_"
MAX_EXPIRY_DAYS = 3650
LAST_USED_RESOLUTION = timedelta(minutes=1)


def secret_digest(secret: str) -> str:
    """The stored form of a secret: its SHA-256 digest in hex."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def looks_like_token(secret: str) -> bool:
    """Whether a credential has the access-token shape (and not an account password's)."""
    return secret.startswith(TOKEN_PREFIX) and len(secret) == len(TOKEN_PREFIX) + 43


def looks_like_refresh_token(secret: str) -> bool:
    """Whether a credential has the refresh-token shape."""
    return secret.startswith(REFRESH_PREFIX) and len(secret) == len(REFRESH_PREFIX) + 43


@transaction.atomic
def access_token_create(
    *, user, name: str, expires_days: int | None = None
) -> tuple[AccessToken, str]:
    """Create a token for ``user``; returns it with its secret, which is never stored."""
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. 'laptop' or 'ci'."})
    if len(name) > 100:
        raise ValidationError({"name": "Token names are at most 100 characters."})
    if expires_days is not None and not 1 <= expires_days <= MAX_EXPIRY_DAYS:
        raise ValidationError(
            {"expires_days": f"Expiry must be between 1 and {MAX_EXPIRY_DAYS} days."}
        )
    if not user.is_active:
        raise ValidationError("Deactivated accounts cannot create tokens.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
    try:
        with transaction.atomic():
            token = AccessToken.objects.create(
                user=user,
                name=name,
                secret_hash=secret_digest(secret),
                hint=secret[-4:],
                expires_at=expires_at,
            )
    except IntegrityError as exc:
        raise ValidationError(
            {"name": f"You already have an active token named '{name}'."}
        ) from exc
    return token, secret


@transaction.atomic
def access_token_revoke(*, token: AccessToken) -> AccessToken:
    """Revoke a token and the registry sessions it opened; they stop working at once.
    Revoking twice changes nothing."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        token.refresh_tokens.filter(revoked_at__isnull=True).update(revoked_at=token.revoked_at)
    return token


def access_token_record_use(*, token_id: int, last_used_at) -> None:
    """Record that a token was used, at most once a minute, so that a busy client does not
    turn every registry request into a write."""
    now = timezone.now()
    if last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION:
        AccessToken.objects.filter(pk=token_id).update(last_used_at=now)


def refresh_token_create(
    *, user_id: int, access_token_id: int | None, client_id: str
) -> tuple[RefreshToken, str]:
    """Open a registry session for the user who has just signed in at the token service with
    the access token ``access_token_id`` (None: with the account password); returns it with
    its secret, which is never stored. ``client_id`` is what the client calls itself (checked
    by the token service)."""
    secret = REFRESH_PREFIX + secrets.token_urlsafe(32)
    session = RefreshToken.objects.create(
        user_id=user_id,
        access_token_id=access_token_id,
        client_id=client_id,
        secret_hash=secret_digest(secret),
    )
    return session, secret


def refresh_token_revoke(*, session: RefreshToken) -> RefreshToken:
    """End a registry session; its refresh token stops working at once. Twice changes nothing."""
    if session.revoked_at is None:
        session.revoked_at = timezone.now()
        session.save(update_fields=["revoked_at"])
    return session


def refresh_token_record_use(*, session_id: int, last_used_at) -> None:
    """Record that a refresh token was used, at most once a minute (as for access tokens)."""
    now = timezone.now()
    if last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION:
        RefreshToken.objects.filter(pk=session_id).update(last_used_at=now)


# --- the activity log ---------------------------------------------------------------------------

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def _field(value: str, limit: int) -> str:
    """A client-controlled header value as stored: control characters (PostgreSQL refuses
    NUL in text) replaced by '?', cut to the column's length."""
    return _CONTROL_RE.sub("?", value[:limit])


@dataclass(frozen=True)
class Caller:
    """Who asked the token service, as the activity log records it: the user (None and '' for
    an anonymous request), how they signed in (a :class:`policies.models.PullDecision.SignIn`
    value), the access token's name or the registry session's client, and the client's address
    and user agent as the request gave them."""

    user_id: int | None
    username: str
    signed_in_with: str
    credential: str = ""
    client_address: str = ""
    user_agent: str = ""


# The order of the row tuples below: when, where filed, then the caller's and the decision's
# values (in the order of the dicts that hold them).
_DECISION_COLUMNS = (
    "decided_at",
    "organization",
    "policy_version",
    "primary",
    "user",
    "username",
    "signed_in_with",
    "credential",
    "client_address",
    "user_agent",
    "repository",
    "actions_asked",
    "actions_granted",
    "category",
    "deciding_organization",
    "rule",
    "reason",
    "outcome",
)
# The token service's one write: compiled once, not through bulk_create (which costs more CPU
# than the rest of a token request), committed without waiting for the disk (see the README's
# measurements and CompiledInsert for what that risks).
_INSERT_DECISIONS = CompiledInsert(PullDecision, _DECISION_COLUMNS, asynchronous_commit=True)


def pull_decisions_record(
    *, caller: Caller, snapshot: PullSnapshot, decisions: Sequence[ScopeDecision]
) -> int:
    """Record the token service's decisions about one request's pull scopes, and write each as
    one JSON line on the ``portal.decisions`` logger; returns the number of rows written.

    Each decision is filed under every organisation the user belongs to in ``snapshot`` (with
    that organisation's policy version; the first copy is the primary one), or once under none:
    one multi-row INSERT for the whole request. Raises ``DatabaseError`` when the rows cannot be
    written (the token service then refuses the request).
    """
    if not decisions:
        return 0
    decided_at = snapshot.as_of or timezone.now()
    filed = [(org.id, org.version) for org in snapshot.organizations if org.id is not None]
    filed = filed or [(None, None)]
    who = {
        "user": caller.user_id,
        "username": caller.username,
        "signed_in_with": caller.signed_in_with,
        "credential": _field(caller.credential, 100),
        "client_address": _field(caller.client_address, 64),
        "user_agent": _field(caller.user_agent, 200),
    }
    rows, described = [], []
    for item in decisions:
        decision = item.decision
        what = {
            "repository": item.scope.reference.path,
            "actions_asked": ",".join(item.scope.actions)[:100],
            "actions_granted": ",".join(item.granted),
            "category": decision.category.value,
            "deciding_organization": decision.organization or "",
            "rule": decision.rule.value,
            "reason": decision.reason,
            "outcome": decision.outcome.value,
        }
        values = (*who.values(), *what.values())
        for index, (org_id, version) in enumerate(filed):
            rows.append((decided_at, org_id, version, index == 0, *values))
        described.append(what)
    _INSERT_DECISIONS.insert(rows)
    if decision_logger.isEnabledFor(logging.INFO):
        member_of = [org.name for org in snapshot.organizations]
        for what in described:
            decision_logger.info(_decision_line(decided_at, who, what, member_of))
    return len(rows)


def _decision_line(decided_at, who: dict, what: dict, member_of: list[str]) -> str:
    """One decision as one line of JSON (every value escaped: ``json.dumps`` writes control
    and non-ASCII characters as escapes)."""
    return json.dumps(
        {
            "event": "pull_decision",
            "time": decided_at.isoformat(),
            "user": who["username"] or None,
            "user_id": who["user"],
            "signed_in_with": who["signed_in_with"],
            "credential": who["credential"] or None,
            "client_address": who["client_address"],
            "user_agent": who["user_agent"],
            "repository": what["repository"],
            "actions_asked": what["actions_asked"].split(","),
            "actions_granted": [a for a in what["actions_granted"].split(",") if a],
            "category": what["category"],
            "organization": what["deciding_organization"] or None,
            "rule": what["rule"],
            "reason": what["reason"],
            "outcome": what["outcome"],
            "member_of": member_of,
        },
        separators=(",", ":"),
    )
