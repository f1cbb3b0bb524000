"""What a registry token grants: a pure function from scopes to the ``access`` claim.

Pulls are decided by :func:`policies.engine.pull_decide`. Pushes go only to the namespace of an
organisation the user belongs to (any team), or anywhere for site staff. Everything else
(``delete``, ``*``, other resource types, invalid names) is left out, which is the protocol's
way to refuse.
"""

from dataclasses import dataclass

from policies.engine import PullSnapshot, pull_decide
from policies.references import ImageReference, InvalidReference, parse_repository_name
from tokens.signing import Scope


@dataclass(frozen=True)
class Requester:
    """Who asks for a token, as far as the grant needs to know."""

    snapshot: PullSnapshot
    is_staff: bool = False


def repository_references(scopes: list[Scope]) -> dict[str, ImageReference]:
    """The parsed reference of every valid repository scope, keyed by the scope's name."""
    parsed = {}
    for scope in scopes:
        if scope.type != "repository":
            continue
        try:
            parsed[scope.name] = parse_repository_name(scope.name)
        except InvalidReference:
            continue
    return parsed


def grant_access(
    requester: Requester,
    scopes: list[Scope],
    references: dict[str, ImageReference],
    refusals: list[str] | None = None,
) -> list[dict]:
    """The ``access`` claim for ``scopes``: each repository with the actions granted.

    If ``refusals`` is given, a sentence for each refused pull or push is appended to it.
    """
    member_of = {org.name for org in requester.snapshot.organizations}
    access = []
    for scope in scopes:
        reference = references.get(scope.name)
        if scope.type != "repository" or reference is None:
            continue
        granted = []
        if "pull" in scope.actions:
            decision = pull_decide(requester.snapshot, reference)
            if decision.allowed:
                granted.append("pull")
            elif refusals is not None:
                refusals.append(f"pull {scope.name}: {decision.reason}")
        if "push" in scope.actions:
            if requester.is_staff or reference.namespace in member_of:
                granted.append("push")
            elif refusals is not None:
                refusals.append(f"push {scope.name}: not a member of {reference.namespace}")
        if granted:
            access.append({"type": "repository", "name": scope.name, "actions": granted})
    return access
