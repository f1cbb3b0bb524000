"""Allowlist patterns (:mod:`policies.patterns`): grammar, matching, and the candidates the
database is asked for. Pure: no database."""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from policies.patterns import (
    InvalidPattern,
    Scope,
    candidates,
    matches,
    parse_pattern,
)
from tests.strategies import components

VALID = [
    # text, normalised text, scope
    ("someone/tool", "someone/tool", Scope.EXACT),
    ("ubuntu", "library/ubuntu", Scope.EXACT),
    ("library/ubuntu", "library/ubuntu", Scope.EXACT),
    ("someone/team/tool", "someone/team/tool", Scope.EXACT),
    ("someone/*", "someone/*", Scope.ONE_LEVEL),
    ("someone/**", "someone/**", Scope.ANY_DEPTH),
    ("someone/team/*", "someone/team/*", Scope.ONE_LEVEL),
    # A wildcard covers the namespace as written: ubuntu/* is Canonical's ubuntu/squid etc.
    ("ubuntu/*", "ubuntu/*", Scope.ONE_LEVEL),
    ("library/*", "library/*", Scope.ONE_LEVEL),
    ("my-org_x/tool.v2", "my-org_x/tool.v2", Scope.EXACT),
    ("some--one/*", "some--one/*", Scope.ONE_LEVEL),
]


@pytest.mark.parametrize(("text", "normalised", "scope"), VALID)
def test_valid_patterns(text, normalised, scope):
    pattern = parse_pattern(text)
    assert pattern.text == normalised
    assert pattern.scope is scope
    assert parse_pattern(pattern.text) == pattern


INVALID = [
    ("", "it is empty"),
    ("*", "a wildcard needs a namespace before it"),
    ("**", "a wildcard needs a namespace before it"),
    ("/*", "a wildcard needs a namespace before it"),
    ("someone/*/tool", "a wildcard can only end the pattern"),
    ("someone/t*", "a wildcard can only end the pattern"),
    ("someone/***", "a wildcard can only end the pattern"),
    ("Someone/*", "must be lowercase"),
    ("someone/Tool", "must be lowercase"),
    ("docker.io/someone/*", "must not include a registry domain ('docker.io')"),
    ("ghcr.io/someone/tool", "must not include a registry domain"),
    ("someone/tool:1.0", "must not include a tag"),
    ("someone/tool@sha256:" + "a" * 64, "must not include a digest"),
    ("someone/ tool", "whitespace ' ' (U+0020) at index 8"),
    ("my.registry/tool", "must not include a registry domain ('my.registry')"),
    ("someone//tool", "empty path component"),
    ("someone/tool/", "empty path component"),
    ("-someone/*", "is not valid"),
]


@pytest.mark.parametrize(("text", "message"), INVALID)
def test_invalid_patterns_say_what_is_wrong(text, message):
    with pytest.raises(InvalidPattern) as excinfo:
        parse_pattern(text)
    assert str(excinfo.value).startswith(f"Invalid pattern {text!r}: ")
    assert message in str(excinfo.value)


MATCHES = [
    ("someone/tool", "someone/tool", True),
    ("someone/tool", "someone/tools", False),
    ("someone/tool", "someone/tool/x", False),
    ("library/ubuntu", "library/ubuntu", True),
    ("someone/*", "someone/tool", True),
    ("someone/*", "someone/team/tool", False),
    ("someone/*", "someonex/tool", False),
    ("someone/*", "library/someone", False),
    ("someone/**", "someone/tool", True),
    ("someone/**", "someone/team/tool", True),
    ("someone/**", "someone2/tool", False),
    ("someone/team/*", "someone/team/tool", True),
    ("someone/team/*", "someone/tool", False),
    ("ubuntu/*", "library/ubuntu", False),
    ("ubuntu/*", "ubuntu/squid", True),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), MATCHES)
def test_matches(pattern, path, expected):
    assert matches(pattern, path) is expected
    assert (pattern in candidates(path)) is expected


def test_candidates():
    assert candidates("a/b/c") == ["a/b/c", "a/b/*", "a/**", "a/b/**"]
    assert candidates("library/ubuntu") == ["library/ubuntu", "library/*", "library/**"]


paths = st.lists(components, min_size=2, max_size=5).map("/".join)


@st.composite
def pattern_texts(draw, path):
    """Patterns near ``path`` (built from its own components, so that many match) or not."""
    parts = path.split("/")
    prefix = "/".join(parts[: draw(st.integers(1, len(parts)))])
    other = draw(st.lists(components, min_size=1, max_size=4).map("/".join))
    base = draw(st.sampled_from([prefix, other]))
    return base + draw(st.sampled_from(["", "/*", "/**"]))


@given(data=st.data(), path=paths)
def test_matches_exactly_the_candidates(data, path):
    """The database's narrowing (``pattern IN candidates(path)``) finds exactly the stored
    patterns that match: no entry that applies is missed, none that does not is read."""
    text = data.draw(pattern_texts(path))
    try:
        stored = parse_pattern(text).text
    except InvalidPattern:
        assume(False)
    assert matches(stored, path) is (stored in candidates(path))
