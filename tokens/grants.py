"""What a registry token grants: a pure function from scopes to the ``access`` claim.

Pulls are decided by :func:`policies.engine.pull_decide`; a refusal made only by organisations
in audit-only mode is not enforced (:attr:`policies.engine.Decision.granted`). Pushes go only to
the namespace of an organisation the user belongs to (any team), or anywhere for site staff, and
never with a read-only (``repo:read``) access token. Everything else (``delete``, ``*``, other
resource types) is left out, which is the protocol's way to refuse.

Two limits come before the engine: a requester limited to repository ``patterns`` (an
organisation token that lists some) gets nothing for a repository outside them; and a scope
in the namespace of an organisation in ``capped`` (whose cap on personal tokens the access
token has outlived) gets nothing, with the reason.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from policies.engine import Decision, PullSnapshot, pull_decide
from policies.patterns import matches
from tokens.scopes import REPOSITORY, Scope


@dataclass(frozen=True)
class Requester:
    """Who asks for a token, as far as the grant needs to know. ``read_only``: they signed in
    with a ``repo:read`` access token (or a registry session it opened). ``patterns``: the
    only repositories they may touch (empty: no such limit). ``capped``: organisations whose
    repositories they may not touch with this access token, with the cap (days) it outlived.
    """

    snapshot: PullSnapshot
    is_staff: bool = False
    read_only: bool = False
    patterns: tuple[str, ...] = ()
    capped: Mapping[str, int] = field(default_factory=dict)


def within_patterns(patterns: tuple[str, ...], path: str) -> bool:
    """Whether a requester limited to ``patterns`` (empty: no limit) may touch ``path``."""
    return not patterns or any(matches(pattern, path) for pattern in patterns)


OUTSIDE_PATTERNS = "outside the organization token's repositories"


def _limit(requester: Requester, path: str, namespace: str) -> str | None:
    """Why the requester may not touch the repository ``path`` at all, or None."""
    if not within_patterns(requester.patterns, path):
        return OUTSIDE_PATTERNS
    days = requester.capped.get(namespace)
    if days is not None:
        return (
            f"the access token is older than {namespace}'s maximum lifetime for personal "
            f"tokens ({days} days): create a new token"
        )
    return None


@dataclass(frozen=True)
class ScopeDecision:
    """A repository scope that asks to pull, the engine's decision about it, and the actions
    the token grants for it (what the activity log records)."""

    scope: Scope
    decision: Decision
    granted: tuple[str, ...]


@dataclass(frozen=True)
class Grant:
    """The ``access`` claim, a sentence for each pull or push it refused, and the decision
    about each scope that asked to pull. ``limits`` are the refusals made before the engine
    (the token's patterns, an organisation's cap on personal tokens), also in ``refusals``."""

    access: list[dict]
    refusals: list[str]
    decisions: list[ScopeDecision]
    limits: list[str] = field(default_factory=list)


def grant_access(requester: Requester, scopes: list[Scope]) -> Grant:
    """Each repository scope with the actions granted; refused actions are left out."""
    access, refusals, decisions, limits = [], [], [], []
    for scope in scopes:
        if scope.type != REPOSITORY:
            continue
        reference = scope.reference
        granted = []
        decision = None
        limit = _limit(requester, reference.path, reference.namespace)
        if limit is not None:
            limited = [
                f"{action} {scope.name}: {limit}"
                for action in ("pull", "push")
                if action in scope.actions
            ]
            refusals.extend(limited)
            limits.extend(limited)
            continue
        if "pull" in scope.actions:
            decision = pull_decide(requester.snapshot, reference)
            if decision.granted:
                granted.append("pull")
            else:
                refusals.append(f"pull {scope.name}: {decision.reason}")
        if "push" in scope.actions:
            if requester.read_only:
                refusals.append(f"push {scope.name}: the access token is read-only (repo:read)")
            elif requester.is_staff or any(
                org.name == reference.namespace for org in requester.snapshot.organizations
            ):
                granted.append("push")
            else:
                refusals.append(f"push {scope.name}: not a member of {reference.namespace}")
        if granted:
            access.append({"type": REPOSITORY, "name": scope.name, "actions": granted})
        if decision is not None:
            decisions.append(ScopeDecision(scope=scope, decision=decision, granted=tuple(granted)))
    return Grant(access=access, refusals=refusals, decisions=decisions, limits=limits)


def refused_as_a_whole(grant: Grant) -> list[tuple[str, Decision]]:
    """The refused pulls (repository, decision) of a request refused as a whole; empty when
    something is granted or no scope asked to pull."""
    if grant.access:
        return []
    return [(item.scope.name, item.decision) for item in grant.decisions]
