"""Tests for :mod:`policies.references` (pure Python: no database, no Django)."""

import dataclasses
import pickle
import string

import pytest
from docker_image import digest as lib_digest
from docker_image import reference as lib_reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.references import (
    ImageReference,
    InvalidReference,
    parse_reference,
    parse_repository_name,
)

SHA256 = "sha256:" + "0123456789abcdef" * 4
SHA384 = "sha384:" + "a" * 96
SHA512 = "sha512:" + "f" * 128
HEX64 = "0123456789abcdef" * 4

FAST = settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Reasons that mean the parser could not explain a refusal, or hit a bug.
UNEXPLAINED = ("does not have the form", "could not be parsed")


# --- valid references ---------------------------------------------------------------------

VALID = [
    # text, domain, path, tag, digest, normalized, is_docker_hub, namespace
    (
        "ubuntu",
        "docker.io",
        "library/ubuntu",
        None,
        None,
        "docker.io/library/ubuntu:latest",
        True,
        "library",
    ),
    (
        "ubuntu:22.04",
        "docker.io",
        "library/ubuntu",
        "22.04",
        None,
        "docker.io/library/ubuntu:22.04",
        True,
        "library",
    ),
    (
        f"ubuntu@{SHA256}",
        "docker.io",
        "library/ubuntu",
        None,
        SHA256,
        f"docker.io/library/ubuntu@{SHA256}",
        True,
        "library",
    ),
    (
        f"ubuntu:22.04@{SHA256}",
        "docker.io",
        "library/ubuntu",
        "22.04",
        SHA256,
        f"docker.io/library/ubuntu:22.04@{SHA256}",
        True,
        "library",
    ),
    (
        f"alpine@{SHA384}",
        "docker.io",
        "library/alpine",
        None,
        SHA384,
        f"docker.io/library/alpine@{SHA384}",
        True,
        "library",
    ),
    (
        f"alpine:3@{SHA512}",
        "docker.io",
        "library/alpine",
        "3",
        SHA512,
        f"docker.io/library/alpine:3@{SHA512}",
        True,
        "library",
    ),
    # Docker Hub spelled out, and its other names.
    *[
        (
            text,
            "docker.io",
            "library/ubuntu",
            None,
            None,
            "docker.io/library/ubuntu:latest",
            True,
            "library",
        )
        for text in (
            "library/ubuntu",
            "docker.io/ubuntu",
            "docker.io/library/ubuntu",
            "index.docker.io/ubuntu",
            "index.docker.io/library/ubuntu",
            "registry-1.docker.io/ubuntu",
            "registry-1.docker.io/library/ubuntu",
        )
    ],
    (
        "index.docker.io/acme/app:1",
        "docker.io",
        "acme/app",
        "1",
        None,
        "docker.io/acme/app:1",
        True,
        "acme",
    ),
    # Namespaces on Docker Hub.
    ("acme/app", "docker.io", "acme/app", None, None, "docker.io/acme/app:latest", True, "acme"),
    (
        "acmecorp/app",
        "docker.io",
        "acmecorp/app",
        None,
        None,
        "docker.io/acmecorp/app:latest",
        True,
        "acmecorp",
    ),
    (
        "acme/team/app:v2",
        "docker.io",
        "acme/team/app",
        "v2",
        None,
        "docker.io/acme/team/app:v2",
        True,
        "acme",
    ),
    (
        "bitnami/redis:7.2",
        "docker.io",
        "bitnami/redis",
        "7.2",
        None,
        "docker.io/bitnami/redis:7.2",
        True,
        "bitnami",
    ),
    (
        "docker.io/bitnami/redis",
        "docker.io",
        "bitnami/redis",
        None,
        None,
        "docker.io/bitnami/redis:latest",
        True,
        "bitnami",
    ),
    (
        "my-org/some_app.x__y--z:Tag_1.0-RC",
        "docker.io",
        "my-org/some_app.x__y--z",
        "Tag_1.0-RC",
        None,
        "docker.io/my-org/some_app.x__y--z:Tag_1.0-RC",
        True,
        "my-org",
    ),
    (
        "ubuntu:_",
        "docker.io",
        "library/ubuntu",
        "_",
        None,
        "docker.io/library/ubuntu:_",
        True,
        "library",
    ),
    # Other registries.
    (
        "ghcr.io/owner/img",
        "ghcr.io",
        "owner/img",
        None,
        None,
        "ghcr.io/owner/img:latest",
        False,
        "owner",
    ),
    (
        f"ghcr.io/owner/img:v1@{SHA256}",
        "ghcr.io",
        "owner/img",
        "v1",
        SHA256,
        f"ghcr.io/owner/img:v1@{SHA256}",
        False,
        "owner",
    ),
    (
        "localhost:5000/x",
        "localhost:5000",
        "x",
        None,
        None,
        "localhost:5000/x:latest",
        False,
        "x",
    ),
    ("localhost/x", "localhost", "x", None, None, "localhost/x:latest", False, "x"),
    (
        "registry.example.com:443/a/b",
        "registry.example.com:443",
        "a/b",
        None,
        None,
        "registry.example.com:443/a/b:latest",
        False,
        "a",
    ),
    (
        "[::1]:5000/team/app:1",
        "[::1]:5000",
        "team/app",
        "1",
        None,
        "[::1]:5000/team/app:1",
        False,
        "team",
    ),
    # A single component on another registry does not get "library/".
    ("quay.io/app", "quay.io", "app", None, None, "quay.io/app:latest", False, "app"),
    # Docker Hub with an explicit port is another registry, as for Docker.
    (
        "docker.io:443/ubuntu",
        "docker.io:443",
        "ubuntu",
        None,
        None,
        "docker.io:443/ubuntu:latest",
        False,
        "ubuntu",
    ),
    # Registry hosts are kept as written (Docker does not lowercase them).
    (
        "GHCR.io/owner/img",
        "GHCR.io",
        "owner/img",
        None,
        None,
        "GHCR.io/owner/img:latest",
        False,
        "owner",
    ),
    # Docker quirks, kept: without "/", "localhost:5000" is image "localhost" with tag "5000",
    # and "docker.io" is an official image named "docker.io".
    (
        "localhost:5000",
        "docker.io",
        "library/localhost",
        "5000",
        None,
        "docker.io/library/localhost:5000",
        True,
        "library",
    ),
    (
        "docker.io",
        "docker.io",
        "library/docker.io",
        None,
        None,
        "docker.io/library/docker.io:latest",
        True,
        "library",
    ),
    # Limits, at the edge: path of 255 characters, tag of 128.
    (
        "x" * 247,
        "docker.io",
        "library/" + "x" * 247,
        None,
        None,
        "docker.io/library/" + "x" * 247 + ":latest",
        True,
        "library",
    ),
    (
        "ubuntu:" + "t" * 128,
        "docker.io",
        "library/ubuntu",
        "t" * 128,
        None,
        "docker.io/library/ubuntu:" + "t" * 128,
        True,
        "library",
    ),
]


@pytest.mark.parametrize(
    ("text", "domain", "path", "tag", "digest", "normalized", "is_docker_hub", "namespace"),
    VALID,
    ids=[row[0][:40] for row in VALID],
)
def test_parse_reference_valid(
    text, domain, path, tag, digest, normalized, is_docker_hub, namespace
):
    ref = parse_reference(text)
    assert ref == ImageReference(domain=domain, path=path, tag=tag, digest=digest)
    assert ref.normalized == normalized
    assert ref.is_docker_hub is is_docker_hub
    assert ref.namespace == namespace
    assert ref.name == f"{domain}/{path}"
    assert parse_reference(normalized).normalized == normalized


def test_image_reference_is_frozen_and_hashable():
    ref = parse_reference("acme/app:1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.tag = "2"  # type: ignore[misc]
    assert {ref, parse_reference("docker.io/acme/app:1")} == {ref}


def test_str_subclass_is_accepted_as_plain_text():
    class Sneaky(str):
        def __str__(self):
            return "evil"

    assert parse_reference(Sneaky("ubuntu")).path == "library/ubuntu"


# --- invalid references -------------------------------------------------------------------

INVALID = [
    # text, part of the message
    ("", "it is empty."),
    (" ", "it contains only whitespace."),
    ("\t\n", "it contains only whitespace."),
    (" ubuntu", "leading or trailing whitespace"),
    ("ubuntu ", "leading or trailing whitespace"),
    ("ubuntu\n", "leading or trailing whitespace"),  # the library alone accepts this one
    ("\tubuntu:22.04", "leading or trailing whitespace"),
    ("ubu ntu", "whitespace ' ' (U+0020) at index 3"),
    ("ubuntu!", "'!' (U+0021) at index 6"),
    ("ubuntu\x00", "'\\x00' (U+0000) at index 6"),
    ("ub\u00fcntu", "'ü' (U+00FC) at index 2"),
    ("\u200bubuntu", "(U+200B) at index 0"),
    ("ubuntu:22.04;rm", "';' (U+003B) at index 12"),
    # Case.
    ("Ubuntu", "repository name must be lowercase."),
    ("acme/App", "repository name must be lowercase."),
    ("ghcr.io/Owner/img", "repository name must be lowercase."),
    # Docker would read "Acme" as a registry host; refused here.
    ("Acme/app", "repository name must be lowercase."),
    ("ACME/app:1", "repository name must be lowercase."),
    # Structure of the name.
    ("a//b", "it contains an empty path component ('//')."),
    ("ghcr.io//a", "it contains an empty path component ('//')."),
    ("a/", "it ends with '/'."),
    ("acme/app/", "it ends with '/'."),
    ("/a", "it starts with '/'."),
    (":", "it has no repository name."),
    (":latest", "it has no repository name."),
    (f"@{SHA256}", "it has no repository name."),
    ("ghcr.io/", "nothing follows the registry domain 'ghcr.io'."),
    ("a_b.com/x", "registry domain 'a_b.com' is not a host name"),
    ("host:port/x", "registry domain 'host:port' is not a host name"),
    ("-a.com/x", "registry domain '-a.com' is not a host name"),
    ("a..b", "contains the separator '..'"),
    ("a-.b", "contains the separator '-.'"),
    ("a___b", "contains the separator '___'"),
    ("_a", "component '_a' must start with a lowercase letter or digit."),
    ("acme/a-", "component 'a-' must end with a lowercase letter or digit."),
    ("a:b:c", "component 'a:b' contains ':'"),
    ("a+b", "component 'a+b' contains '+'"),
    (HEX64, "a 64-character hexadecimal string is an image ID"),
    # Tags.
    ("ubuntu:", "the tag after ':' is empty."),
    ("ubuntu:-bad", "the tag '-bad' must start with a letter, digit or '_'."),
    ("ubuntu:.bad", "the tag '.bad' must start with a letter, digit or '_'."),
    ("ubuntu:a+b", "the tag 'a+b' contains '+'"),
    ("ubuntu:" + "t" * 129, "is 129 characters long; at most 128 are allowed."),
    # Digests.
    ("ubuntu@sha256:abc", "must have 64 hexadecimal characters after 'sha256:', not 3."),
    ("ubuntu@sha256:", "must have 64 hexadecimal characters after 'sha256:', not 0."),
    (f"ubuntu@{SHA256}0", "not 65."),
    ("ubuntu@sha512:" + "a" * 64, "must have 128 hexadecimal characters"),
    ("ubuntu@sha256:" + "A" * 64, "contains 'A'; only lowercase hexadecimal characters"),
    ("ubuntu@sha256:" + "g" * 64, "contains 'g'; only lowercase hexadecimal characters"),
    ("ubuntu@md5:" + "a" * 32, "the digest algorithm 'md5' is not supported"),
    ("ubuntu@foo:" + "a" * 64, "the digest algorithm 'foo' is not supported"),
    ("ubuntu@sha256", "is not of the form '<algorithm>:<hex>'"),
    ("ubuntu@:abc", "is not of the form '<algorithm>:<hex>'"),
    ("ubuntu@", "the digest after '@' is empty."),
    (f"a@b@{SHA256}", "it contains more than one '@'."),
    # Lengths. "library/" counts: 248 characters make a path of 256.
    ("x" * 248, "is 256 characters long; at most 255 are allowed."),
    ("acme/" + "a" * 251, "is 256 characters long; at most 255 are allowed."),
    ("x.y/" + "a" * 256, "is 256 characters long; at most 255 are allowed."),
    ("a" * 513, "it is 513 characters long; at most 512 are allowed."),
    ("a/" * 300, "it is 600 characters long; at most 512 are allowed."),
    # 505 characters, but 523 once "docker.io/library/" is added.
    ("x" * 240 + ":" + "t" * 128 + "@" + SHA512, "it is 523 characters long; at most 512"),
]


@pytest.mark.parametrize(("text", "expected"), INVALID, ids=[repr(r[0])[:40] for r in INVALID])
def test_parse_reference_invalid(text, expected):
    with pytest.raises(InvalidReference) as caught:
        parse_reference(text)
    message = str(caught.value)
    assert expected in message
    assert message.startswith("Invalid image reference '")
    assert message.endswith(".")
    assert len(message) < 400  # long input is cut down
    assert caught.value.text == text
    assert caught.value.reason is not None and message.endswith(caught.value.reason)
    assert not any(phrase in message for phrase in UNEXPLAINED)


def test_message_quotes_the_input():
    with pytest.raises(InvalidReference) as caught:
        parse_reference("Ubuntu")
    assert (
        str(caught.value) == "Invalid image reference 'Ubuntu': repository name must be lowercase."
    )


def test_long_input_is_truncated_in_message():
    with pytest.raises(InvalidReference) as caught:
        parse_reference("b" * 10_000)
    message = str(caught.value)
    assert "b" * 101 not in message
    assert "(10000 characters)" in message


@pytest.mark.parametrize("value", [None, 42, 4.2, b"ubuntu", ["ubuntu"], object()])
def test_non_string_is_invalid(value):
    with pytest.raises(InvalidReference) as caught:
        parse_reference(value)
    assert str(caught.value) == (
        f"Invalid image reference: expected a string, got {type(value).__name__}."
    )


def test_invalid_reference_is_a_value_error_and_pickles():
    with pytest.raises(ValueError) as caught:
        parse_reference("Ubuntu")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert str(copy) == str(caught.value)
    assert copy.text == "Ubuntu"


def test_library_quirks_that_the_wrapper_corrects():
    """What docker-image-py 0.2.0 does on its own; parse_reference refuses all three.

    If this starts failing after an upgrade, the matching workaround may no longer be needed.
    """
    parse = lib_reference.Reference.parse_normalized_named
    assert parse("ubuntu\n").path() == "library/ubuntu"  # "$" matches before a final newline
    assert parse("Acme/app").domain() == "Acme"  # uppercase first component = registry host
    with pytest.raises(lib_digest.InvalidDigest) as caught:  # not a reference.InvalidReference
        parse("ubuntu@sha256:" + "A" * 64)
    assert not isinstance(caught.value, lib_reference.InvalidReference)
    assert parse("registry-1.docker.io/ubuntu").domain() == "registry-1.docker.io"


# --- repository names (token scopes) ------------------------------------------------------

REPOSITORY_VALID = [
    ("alpine", "library/alpine"),
    ("library/alpine", "library/alpine"),
    ("acme/app", "acme/app"),
    ("acmecorp/app", "acmecorp/app"),
    ("someone/thing", "someone/thing"),
    ("acme/team/app", "acme/team/app"),
    ("bitnami/redis", "bitnami/redis"),
    ("my-org/some_app.v2", "my-org/some_app.v2"),
]


@pytest.mark.parametrize(("name", "path"), REPOSITORY_VALID)
def test_parse_repository_name_valid(name, path):
    ref = parse_repository_name(name)
    assert ref == ImageReference(domain="docker.io", path=path, tag=None, digest=None)
    assert ref.is_docker_hub
    assert ref.namespace == path.split("/")[0]


REPOSITORY_INVALID = [
    ("", "it is empty."),
    (" acme/app", "leading or trailing whitespace"),
    ("acme app", "whitespace ' ' (U+0020) at index 4"),
    ("alpine:3", "must not include a tag (':3')."),
    ("acme/app:latest", "must not include a tag (':latest')."),
    (f"alpine@{SHA256}", "must not include a digest"),
    ("docker.io/library/alpine", "must not include a registry domain ('docker.io')."),
    ("index.docker.io/alpine", "must not include a registry domain ('index.docker.io')."),
    ("ghcr.io/owner/img", "must not include a registry domain ('ghcr.io')."),
    ("localhost/x", "must not include a registry domain ('localhost')."),
    ("localhost:5000/x", "must not include a registry domain ('localhost:5000')."),
    ("Alpine", "repository name must be lowercase."),
    ("Acme/app", "repository name must be lowercase."),
    ("a//b", "empty path component"),
    ("acme/", "it ends with '/'."),
    ("/acme", "it starts with '/'."),
    ("acme/-app", "must start with a lowercase letter or digit."),
    ("acme/" + "a" * 251, "at most 255 are allowed."),
    (HEX64, "image ID"),
]


@pytest.mark.parametrize(
    ("name", "expected"), REPOSITORY_INVALID, ids=[r[0][:40] for r in REPOSITORY_INVALID]
)
def test_parse_repository_name_invalid(name, expected):
    with pytest.raises(InvalidReference) as caught:
        parse_repository_name(name)
    message = str(caught.value)
    assert expected in message
    assert message.startswith("Invalid repository name '")
    assert not any(phrase in message for phrase in UNEXPLAINED)


@pytest.mark.parametrize("value", [None, 7, b"acme/app"])
def test_parse_repository_name_non_string(value):
    with pytest.raises(InvalidReference, match="expected a string"):
        parse_repository_name(value)


# --- properties ---------------------------------------------------------------------------

REFERENCE_ALPHABET = string.ascii_letters + string.digits + "./:@_-"

components = st.from_regex(r"[a-z0-9]{1,6}(?:(?:[._]|__|-{1,3})[a-z0-9]{1,6}){0,2}", fullmatch=True)
domains = st.sampled_from(
    [
        None,
        "docker.io",
        "index.docker.io",
        "registry-1.docker.io",
        "ghcr.io",
        "quay.io",
        "localhost",
        "localhost:5000",
        "registry.example.com:443",
        "10.0.0.1:5000",
        "[::1]:5000",
        "My-Registry.Example",
    ]
)
tags = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)
digests = st.one_of(
    st.none(),
    *[
        st.text("0123456789abcdef", min_size=size * 2, max_size=size * 2).map(
            lambda hexes, algorithm=algorithm: f"{algorithm}:{hexes}"
        )
        for algorithm, size in (("sha256", 32), ("sha384", 48), ("sha512", 64))
    ],
)


@st.composite
def well_formed(draw):
    """A valid reference, and the ImageReference it must parse to."""
    domain = draw(domains)
    path = draw(st.lists(components, min_size=1, max_size=4))
    if domain is None and len(path) > 1:
        # Otherwise the first component would be read as a registry domain.
        first = path[0]
        path[0] = "ns" if "." in first or first == "localhost" else first
    tag = draw(st.none() | tags)
    digest = draw(digests)
    text = "/".join(([domain] if domain else []) + path)
    if tag is not None:
        text += f":{tag}"
    if digest is not None:
        text += f"@{digest}"
    hub = domain in (None, "docker.io", "index.docker.io", "registry-1.docker.io")
    if hub and len(path) == 1:
        path = ["library", *path]
    expected = ImageReference(
        domain="docker.io" if hub else domain, path="/".join(path), tag=tag, digest=digest
    )
    return text, expected


@st.composite
def mutated(draw):
    """A valid reference with a few characters inserted, deleted or replaced."""
    text, _ = draw(well_formed())
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        char = draw(st.sampled_from(REFERENCE_ALPHABET))
        if action == "insert":
            text = text[:at] + char + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + 1 :]
        else:
            text = text[:at] + char + text[at + 1 :]
    return text


reference_like = st.text(REFERENCE_ALPHABET, max_size=60) | mutated()


def check_total(text):
    """parse_reference returns or raises InvalidReference, with an explained message."""
    try:
        ref = parse_reference(text)
    except InvalidReference as error:
        message = str(error)
        assert message.startswith("Invalid image reference")
        assert message.endswith(".")
        assert not any(phrase in message for phrase in UNEXPLAINED), message
        return None
    assert isinstance(ref, ImageReference)
    return ref


def check_idempotent(ref):
    """Parsing ``normalized`` gives the same reference, with an implied ``latest`` made explicit."""
    again = parse_reference(ref.normalized)
    assert again.normalized == ref.normalized
    if ref.tag is None and ref.digest is None:
        assert again == dataclasses.replace(ref, tag="latest")
    else:
        assert again == ref
    assert parse_reference(again.normalized) == again


@FAST
@given(st.text())
def test_any_text_parses_or_raises_invalid_reference(text):
    ref = check_total(text)
    if ref is not None:
        check_idempotent(ref)


@FAST
@given(reference_like)
def test_reference_like_text_parses_or_raises_invalid_reference(text):
    ref = check_total(text)
    if ref is not None:
        check_idempotent(ref)


@FAST
@given(well_formed())
def test_well_formed_references_parse_to_their_parts(case):
    text, expected = case
    ref = parse_reference(text)
    assert ref == expected
    check_idempotent(ref)


@FAST
@given(st.one_of(st.none(), st.integers(), st.floats(), st.binary(), st.lists(st.text())))
def test_non_strings_raise_invalid_reference(value):
    with pytest.raises(InvalidReference):
        parse_reference(value)
    with pytest.raises(InvalidReference):
        parse_repository_name(value)


@FAST
@given(st.text() | reference_like)
def test_repository_names_parse_or_raise_invalid_reference(text):
    try:
        ref = parse_repository_name(text)
    except InvalidReference as error:
        assert str(error).startswith("Invalid repository name")
        assert not any(phrase in str(error) for phrase in UNEXPLAINED), str(error)
        return
    assert ref.is_docker_hub and ref.tag is None and ref.digest is None
    assert parse_reference(ref.name) == ref
