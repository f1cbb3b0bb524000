"""Tests for :mod:`policies.references`, the portal's one grammar of image and repository names
(pure Python: no database)."""

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.references import (
    ImageReference,
    InvalidReference,
    parse_reference,
    parse_repository_name,
)
from tests.strategies import REFERENCE_ALPHABET, well_formed

SHA256 = "sha256:" + "0123456789abcdef" * 4
SHA384 = "sha384:" + "a" * 96
SHA512 = "sha512:" + "f" * 128
HEX64 = "0123456789abcdef" * 4


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


# --- invalid references -------------------------------------------------------------------

INVALID = [
    # text, part of the message
    ("", "it is empty."),
    (" ", "whitespace ' ' (U+0020) at index 0"),
    (" ubuntu", "whitespace ' ' (U+0020) at index 0"),
    ("ubuntu\n", "whitespace '\\n' (U+000A) at index 6"),  # the library alone accepts it
    ("\tubuntu:22.04", "whitespace '\\t' (U+0009) at index 0"),
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
    ("a//b", "empty path component"),
    ("ghcr.io//a", "empty path component"),
    ("acme/app/", "empty path component"),
    ("/a", "empty path component"),
    ("ghcr.io/", "empty path component"),
    (":latest", "it has no repository name."),
    (f"@{SHA256}", "it has no repository name."),
    ("a..b", "component 'a..b' is not valid"),
    ("a___b", "component 'a___b' is not valid"),
    ("_a", "component '_a' is not valid"),
    ("acme/a-", "component 'a-' is not valid"),
    ("a+b", "component 'a+b' is not valid"),
    (HEX64, "cannot specify 64-byte hexadecimal strings"),
    # Tags.
    ("ubuntu:", "the tag '' is not valid"),
    ("ubuntu:-bad", "the tag '-bad' is not valid"),
    ("ubuntu:.bad", "the tag '.bad' is not valid"),
    ("ubuntu:a+b", "the tag 'a+b' is not valid"),
    ("ubuntu:" + "t" * 129, "is not valid: 1 to 128 letters"),
    # Digests.
    ("ubuntu@sha256:abc", "the digest 'sha256:abc' is not of the form"),
    (f"ubuntu@{SHA256}0", "is not of the form '<algorithm>:<hex>'"),
    ("ubuntu@sha512:" + "a" * 64, "is not of the form '<algorithm>:<hex>'"),
    ("ubuntu@sha256:" + "A" * 64, "is not of the form '<algorithm>:<hex>'"),
    ("ubuntu@md5:" + "a" * 32, "is not of the form '<algorithm>:<hex>'"),
    ("ubuntu@", "the digest '' is not of the form"),
    # Lengths. "library/" counts: 248 characters make a path of 256.
    ("x" * 248, "must not be more than 255 characters"),
    ("acme/" + "a" * 251, "must not be more than 255 characters"),
    ("a" * 513, "it is 513 characters long; at most 512 are allowed."),
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
    assert len(message) < 400  # long input is cut down
    assert caught.value.text == text
    assert message.endswith(caught.value.reason)


def test_long_input_is_truncated_in_message():
    with pytest.raises(InvalidReference) as caught:
        parse_reference("b" * 10_000)
    message = str(caught.value)
    assert "b" * 101 not in message
    assert "(10000 characters)" in message


# --- repository names (token scopes, allowlist entries) -------------------------------------

REPOSITORY_VALID = [
    ("alpine", "library/alpine"),
    ("library/alpine", "library/alpine"),
    ("acme/app", "acme/app"),
    ("acmecorp/app", "acmecorp/app"),
    ("acme/team/app", "acme/team/app"),
    ("my-org/some_app.v2", "my-org/some_app.v2"),
]


@pytest.mark.parametrize(("name", "path"), REPOSITORY_VALID)
def test_parse_repository_name_valid(name, path):
    assert parse_repository_name(name) == ImageReference(domain="docker.io", path=path)


REPOSITORY_INVALID = [
    ("", "it is empty."),
    (" acme/app", "whitespace ' ' (U+0020) at index 0"),
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
    ("acme/", "empty path component"),
    ("acme/-app", "component '-app' is not valid"),
    ("acme/" + "a" * 251, "must not be more than 255 characters"),
    (HEX64, "64-byte hexadecimal"),
]


@pytest.mark.parametrize(
    ("name", "expected"), REPOSITORY_INVALID, ids=[r[0][:40] for r in REPOSITORY_INVALID]
)
def test_parse_repository_name_invalid(name, expected):
    with pytest.raises(InvalidReference) as caught:
        parse_repository_name(name)
    assert expected in str(caught.value)
    assert str(caught.value).startswith("Invalid repository name '")


# --- properties ---------------------------------------------------------------------------


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


def check_idempotent(ref):
    """Parsing ``normalized`` gives the same reference, with an implied ``latest`` made explicit."""
    again = parse_reference(ref.normalized)
    assert again.normalized == ref.normalized
    if ref.tag is None and ref.digest is None:
        assert again == dataclasses.replace(ref, tag="latest")
    else:
        assert again == ref


@given(st.text() | reference_like)
def test_any_text_parses_or_raises_invalid_reference(text):
    try:
        ref = parse_reference(text)
    except InvalidReference as error:
        assert str(error).startswith("Invalid image reference")
        return
    check_idempotent(ref)


@given(well_formed())
def test_well_formed_references_parse_to_their_parts(case):
    text, expected = case
    ref = parse_reference(text)
    assert ref == expected
    check_idempotent(ref)


@given(st.text() | reference_like)
def test_repository_names_parse_or_raise_invalid_reference(text):
    try:
        ref = parse_repository_name(text)
    except InvalidReference as error:
        assert str(error).startswith("Invalid repository name")
        return
    assert ref.is_docker_hub and ref.tag is None and ref.digest is None
    assert parse_reference(ref.name) == ref
