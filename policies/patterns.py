"""Allowlist patterns: which Docker Hub repositories an allowlist entry lets members pull.

Pure Python: no Django, no database. Three forms, each a Docker Hub repository path validated
by :func:`policies.references.parse_repository_name` (the portal's one grammar of names):

* ``someone/tool``: exactly that repository; ``ubuntu`` means ``library/ubuntu``, as in a pull;
* ``someone/*``: every repository one level below ``someone/`` (``someone/tool``, not
  ``someone/team/tool``);
* ``someone/**``: every repository at any depth below ``someone/``.

A pattern is stored in its normalised text (:attr:`RepositoryPattern.text`). Matching is
:func:`matches`; :func:`candidates` lists every pattern text that matches a path, so that a
database can find the entries that apply to a repository with ``pattern IN (...)`` instead of
reading the whole allowlist (a property test pins that the two agree).
"""

import functools
from dataclasses import dataclass
from enum import StrEnum

from policies.references import InvalidReference, parse_repository_name

ONE_LEVEL = "/*"
ANY_DEPTH = "/**"


class InvalidPattern(ValueError):
    """A pattern that cannot be used; ``str(error)`` is one sentence naming it and the reason."""


class Scope(StrEnum):
    """How much of the repository tree a pattern covers, narrowest first."""

    EXACT = "exact"
    ONE_LEVEL = "one_level"
    ANY_DEPTH = "any_depth"


@dataclass(frozen=True)
class RepositoryPattern:
    """A parsed pattern: a repository path (``EXACT``) or the path of a namespace whose
    repositories it covers (``ONE_LEVEL``, ``ANY_DEPTH``)."""

    path: str
    scope: Scope

    @property
    def text(self) -> str:
        """The normalised text, as stored: ``library/ubuntu``, ``someone/*``, ``someone/**``."""
        if self.scope is Scope.EXACT:
            return self.path
        return self.path + (ONE_LEVEL if self.scope is Scope.ONE_LEVEL else ANY_DEPTH)

    def matches(self, path: str) -> bool:
        """Whether the pattern covers the repository ``path`` (normalised, e.g.
        ``library/ubuntu``)."""
        if self.scope is Scope.EXACT:
            return path == self.path
        prefix = self.path + "/"
        if not path.startswith(prefix):
            return False
        return self.scope is Scope.ANY_DEPTH or "/" not in path[len(prefix) :]


def parse_pattern(text: str) -> RepositoryPattern:
    """Parse an allowlist pattern.

    :raises InvalidPattern: for anything but the three forms, e.g. a wildcard in the middle
        (``someone/*/tool``), a wildcard alone (``*``: that is turning management off), a
        registry domain, a tag or a digest, or a path the reference grammar refuses.
    """
    if text.endswith(ANY_DEPTH):
        path, scope = text.removesuffix(ANY_DEPTH), Scope.ANY_DEPTH
    elif text.endswith(ONE_LEVEL):
        path, scope = text.removesuffix(ONE_LEVEL), Scope.ONE_LEVEL
    else:
        path, scope = text, Scope.EXACT
    if "*" in path or (scope is not Scope.EXACT and not path):
        if path.strip("/*") == "":
            raise InvalidPattern(
                f"Invalid pattern {text!r}: a wildcard needs a namespace before it, "
                "e.g. 'someone/*' or 'someone/**'."
            )
        raise InvalidPattern(
            f"Invalid pattern {text!r}: a wildcard can only end the pattern, as '/*' (one "
            "level) or '/**' (any depth), e.g. 'someone/*'."
        )
    try:
        repository = parse_repository_name(path)
    except InvalidReference as error:
        raise InvalidPattern(f"Invalid pattern {text!r}: {error.reason}") from None
    # A wildcard covers what is below the path as written: 'ubuntu/*' is the 'ubuntu'
    # namespace (ubuntu/squid), not something under 'library/ubuntu'.
    return RepositoryPattern(path=repository.path if scope is Scope.EXACT else path, scope=scope)


@functools.lru_cache(maxsize=4096)
def _parsed(text: str) -> RepositoryPattern:
    return parse_pattern(text)


def matches(pattern: str, path: str) -> bool:
    """Whether the stored pattern text ``pattern`` covers the repository ``path``."""
    return _parsed(pattern).matches(path)


def candidates(path: str) -> list[str]:
    """Every pattern text that matches the repository ``path``: the path itself, its parent
    with ``/*``, and each ancestor with ``/**`` (``a/b/c`` -> ``a/b/c``, ``a/b/*``, ``a/**``,
    ``a/b/**``)."""
    parts = path.split("/")
    parents = ["/".join(parts[:depth]) for depth in range(1, len(parts))]
    found = [path]
    if parents:
        found.append(parents[-1] + ONE_LEVEL)
    found.extend(parent + ANY_DEPTH for parent in parents)
    return found


def specificity(pattern: RepositoryPattern) -> tuple[int, int]:
    """A sort key, most specific first: an exact repository, then one level, then any depth;
    within each, the deeper path first."""
    order = list(Scope).index(pattern.scope)
    return order, -pattern.path.count("/")
