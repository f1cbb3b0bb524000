"""tokens.scopes: the scope parameters of a token request (pure: no database)."""

import pytest

from policies.references import parse_repository_name
from tokens.scopes import InvalidScope, Scope, parse_scopes


def repo(name, actions, resource_class=None):
    return Scope(
        "repository",
        name,
        actions,
        resource_class=resource_class,
        reference=parse_repository_name(name),
    )


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["repository:library/alpine:pull"], [repo("library/alpine", ("pull",))]),
        (["repository:samalba/my-app:pull,push"], [repo("samalba/my-app", ("pull", "push"))]),
        (["repository:alpine:*"], [repo("alpine", ("*",))]),
        (["repository:a/b:delete,pull,pull"], [repo("a/b", ("delete", "pull"))]),
        (
            ["repository:foo_bar/baz__qux/a-b--c.d:pull"],
            [repo("foo_bar/baz__qux/a-b--c.d", ("pull",))],
        ),
        # resource class: deprecated, ignored for the type but kept aside
        (
            ["repository(plugin):vieux/sshfs:pull"],
            [repo("vieux/sshfs", ("pull",), resource_class="plugin")],
        ),
        # several scopes in one parameter (space separated) and in several params
        (
            ["repository:a/b:pull repository:c/d:pull,push", "repository:e:pull"],
            [repo("a/b", ("pull",)), repo("c/d", ("pull", "push")), repo("e", ("pull",))],
        ),
        # repeated scopes are merged (skopeo repeats them on retry)
        (
            ["repository:a/b:pull", "repository:a/b:pull", "repository:a/b:push,pull"],
            [repo("a/b", ("pull", "push"))],
        ),
        # other resource types come back with their type, for the caller to drop
        (["registry:catalog:*"], [Scope("registry", "catalog", ("*",))]),
        ([], []),
        (["", "   "], []),
    ],
)
def test_parse_scopes_valid(values, expected):
    assert parse_scopes(values) == expected


def test_a_scope_reads_the_name_with_the_portals_grammar():
    (scope,) = parse_scopes(["repository:alpine:pull"])
    assert scope.reference.path == "library/alpine"
    assert scope.name == "alpine"  # the access claim must name what the registry asked for
    assert str(scope) == "repository:alpine:pull"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("repository", "expected TYPE:NAME:ACTIONS"),
        ("repository:alpine", "expected TYPE:NAME:ACTIONS"),
        ("repository::pull", "empty resource name"),
        (":alpine:pull", "invalid resource type ''"),
        ("Repository:alpine:pull", "invalid resource type 'Repository'"),
        ("repository(:alpine:pull", "invalid resource type 'repository('"),
        ("repository:alpine:", "invalid action ''"),
        ("repository:alpine:pull,,push", "invalid action ''"),
        ("repository:alpine:Pull", "invalid action 'Pull'"),
        ("repository:alpine:pu*ll", "invalid action 'pu*ll'"),
        # The repository name follows the same grammar as everywhere else in the portal.
        ("repository:library/Alpine:pull", "repository name must be lowercase"),
        ("repository:Acme/app:pull", "repository name must be lowercase"),
        ("repository:localhost:5000/x:pull", "must not include a registry domain"),
        ("repository:alpine/:pull", "empty path component"),
        ("repository:foo:bar:pull", "must not include a tag"),
        ("repository:" + "a" * 256 + ":pull", "must not be more than 255 characters"),
    ],
)
def test_parse_scopes_malformed(value, message):
    with pytest.raises(InvalidScope) as excinfo:
        parse_scopes([value])
    assert message in str(excinfo.value)
    assert repr(value) in str(excinfo.value)


def test_one_bad_scope_among_good_ones_fails():
    with pytest.raises(InvalidScope, match="'repository:x'"):
        parse_scopes(["repository:a:pull repository:x"])


def test_parsed_scopes_are_kept_but_not_long_ones_and_not_errors():
    """A registry asks about the same repositories again and again: a parsed scope is kept per
    process and given back as it is (it is immutable). A long one (a POST may carry any length
    of actions) or a malformed one is not kept, so clients cannot fill the memory."""
    from tokens import scopes

    scopes._parse_kept.cache_clear()
    first = parse_scopes(["repository:library/alpine:pull"])
    again = parse_scopes(["repository:library/alpine:pull"])
    assert first == again and first[0] is again[0]
    assert scopes._parse_kept.cache_info().currsize == 1
    long = "repository:a/b:" + ",".join(["pull"] * 1000)
    assert parse_scopes([long]) == [repo("a/b", ("pull",))]
    with pytest.raises(InvalidScope):
        parse_scopes(["repository:Acme/app:pull"])
    assert scopes._parse_kept.cache_info().currsize == 1
