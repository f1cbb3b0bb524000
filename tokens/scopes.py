"""The ``scope`` parameters of a registry token request (pure: no Django).

Grammar (Distribution token scope): ``TYPE[(CLASS)]:NAME:ACTION[,ACTION...]``, several scopes
per parameter separated by spaces. The type ends at the first ``:`` and the actions start after
the last ``:``. A repository name is parsed by :func:`policies.references.parse_repository_name`,
the portal's one grammar for names, once per scope (and a parsed scope is kept for the next
request that asks for it); names of other resource types
(``registry:catalog:*``) only need to be non-empty and are kept so the caller can drop them.
"""

import functools
import re
from dataclasses import dataclass, replace

from policies.references import ImageReference, InvalidReference, parse_repository_name

# resourcetype := resourcetypevalue [ '(' resourcetypevalue ')' ]
_TYPE_RE = re.compile(r"(?P<type>[a-z0-9]+)(?:\((?P<cls>[a-z0-9]+)\))?")
_ACTION_RE = re.compile(r"[a-z]+|\*")
REPOSITORY = "repository"
#: Parsed scopes kept per process: a registry asks about the same repositories again and again,
#: and a parse (the name's grammar above all) costs more than the rest of reading the request.
PARSED_SCOPES_KEPT = 4096
#: Only scopes up to this long are kept (a repository name is at most 512 characters), so the
#: kept ones take a few megabytes at most, whatever clients send (a POST's scope can be long).
KEPT_SCOPE_LENGTH = 1024
#: The bounds of one token request: real clients send one to five scopes (a pull one, a push
#: two, Docker Engine's push a few more for blob mounts; docs/security.md), so these leave a
#: wide margin and still keep one request's work small.
MAX_SCOPES = 64
MAX_SCOPE_BYTES = 16 * 1024


class InvalidScope(ValueError):
    """A scope that does not follow the grammar; the message names it and says why."""


@dataclass(frozen=True)
class Scope:
    """One requested scope, e.g. ``repository:library/alpine:pull,push``.

    ``type`` is the resource type without its class (``repository(plugin)`` is
    ``repository``: the spec deprecates classes and Distribution matches ``access`` entries on
    the bare type); ``resource_class`` keeps the class. ``actions`` are de-duplicated, in request
    order. ``reference`` is the parsed name of a repository scope (None for other types).
    """

    type: str
    name: str
    actions: tuple[str, ...]
    resource_class: str | None = None
    reference: ImageReference | None = None

    def __str__(self) -> str:
        kind = f"{self.type}({self.resource_class})" if self.resource_class else self.type
        return f"{kind}:{self.name}:{','.join(self.actions)}"


def _parse_one(text: str) -> Scope:
    first, last = text.find(":"), text.rfind(":")
    if first == -1 or first == last:
        raise InvalidScope(
            f"Malformed scope {text!r}: expected TYPE:NAME:ACTIONS "
            "(e.g. repository:library/alpine:pull)."
        )
    raw_type, name, raw_actions = text[:first], text[first + 1 : last], text[last + 1 :]
    type_match = _TYPE_RE.fullmatch(raw_type)
    if type_match is None:
        raise InvalidScope(
            f"Malformed scope {text!r}: invalid resource type {raw_type!r} "
            "(lowercase letters and digits, optionally with a '(class)')."
        )
    if not name:
        raise InvalidScope(f"Malformed scope {text!r}: empty resource name.")
    reference = None
    if type_match["type"] == REPOSITORY:
        try:
            reference = parse_repository_name(name)
        except InvalidReference as error:
            raise InvalidScope(f"Malformed scope {text!r}: {error}") from None
    actions: list[str] = []
    for action in raw_actions.split(","):
        if _ACTION_RE.fullmatch(action) is None:
            raise InvalidScope(
                f"Malformed scope {text!r}: invalid action {action!r} "
                "(lowercase letters such as pull, push, delete, or '*')."
            )
        if action not in actions:
            actions.append(action)
    return Scope(
        type=type_match["type"],
        name=name,
        actions=tuple(actions),
        resource_class=type_match["cls"],
        reference=reference,
    )


class TooManyScopes(InvalidScope):
    """More scopes, or more scope text, than one request may carry."""


def check_scope_size(values: list[str], *, max_bytes: int = MAX_SCOPE_BYTES) -> None:
    """Refuse ``scope`` parameters longer than ``max_bytes`` in all, before any other work.

    :raises TooManyScopes: saying the bound.
    """
    if sum(len(value) for value in values) > max_bytes:
        raise TooManyScopes(
            f"Too much scope text: at most {max_bytes} bytes of scopes in one request."
        )


def parse_scopes(
    values: list[str], *, max_scopes: int = MAX_SCOPES, max_bytes: int = MAX_SCOPE_BYTES
) -> list[Scope]:
    """Parse the ``scope`` parameters of a token request, at most ``max_scopes`` scopes in at
    most ``max_bytes`` of text (checked before anything is parsed).

    Blank values are ignored. Scopes come back in order of first appearance; repeated scopes for
    the same type, class and name are merged with the union of their actions (skopeo's retry
    after ``insufficient_scope`` sends the same scope twice).

    :raises TooManyScopes: past either bound.
    :raises InvalidScope: naming the offending scope and the reason.
    """
    check_scope_size(values, max_bytes=max_bytes)
    texts = [text for value in values for text in value.split()]
    if len(texts) > max_scopes:
        raise TooManyScopes(f"Too many scopes: at most {max_scopes} in one request.")
    merged: dict[tuple[str, str | None, str], Scope] = {}
    for text in texts:
        scope = _parse_kept(text) if len(text) <= KEPT_SCOPE_LENGTH else _parse_one(text)
        key = (scope.type, scope.resource_class, scope.name)
        previous = merged.get(key)
        if previous is not None:
            extra = tuple(a for a in scope.actions if a not in previous.actions)
            scope = replace(previous, actions=previous.actions + extra)
        merged[key] = scope
    return list(merged.values())


# A Scope is immutable, so one can be handed to any number of requests; errors are not kept.
_parse_kept = functools.lru_cache(maxsize=PARSED_SCOPES_KEPT)(_parse_one)
