"""What a registry token grants: a pure function from scopes to the ``access`` claim.

Pulls are decided by :func:`policies.engine.pull_decide`. Pushes go only to the namespace of an
organisation the user belongs to (any team), or anywhere for site staff, and never to a
read-only (``repo:read``) access token. Everything else (``delete``, ``*``, other resource
types) is left out, which is the protocol's way to refuse.
"""

from dataclasses import dataclass

from policies.engine import PullSnapshot, pull_decide
from tokens.scopes import REPOSITORY, Scope


@dataclass(frozen=True)
class Requester:
    """Who asks for a token, as far as the grant needs to know. ``read_only``: they signed in
    with a ``repo:read`` access token (or a registry session it opened)."""

    snapshot: PullSnapshot
    is_staff: bool = False
    read_only: bool = False


@dataclass(frozen=True)
class Grant:
    """The ``access`` claim, and a sentence for each pull or push it refused."""

    access: list[dict]
    refusals: list[str]


def grant_access(requester: Requester, scopes: list[Scope]) -> Grant:
    """Each repository scope with the actions granted; refused actions are left out."""
    member_of = {org.name for org in requester.snapshot.organizations}
    access, refusals = [], []
    for scope in scopes:
        if scope.type != REPOSITORY:
            continue
        reference = scope.reference
        granted = []
        if "pull" in scope.actions:
            decision = pull_decide(requester.snapshot, reference)
            if decision.allowed:
                granted.append("pull")
            else:
                refusals.append(f"pull {scope.name}: {decision.reason}")
        if "push" in scope.actions:
            if requester.read_only:
                refusals.append(f"push {scope.name}: the access token is read-only (repo:read)")
            elif requester.is_staff or reference.namespace in member_of:
                granted.append("push")
            else:
                refusals.append(f"push {scope.name}: not a member of {reference.namespace}")
        if granted:
            access.append({"type": REPOSITORY, "name": scope.name, "actions": granted})
    return Grant(access=access, refusals=refusals)
