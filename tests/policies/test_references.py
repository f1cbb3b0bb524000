"""Tests for :mod:`policies.references`, the portal's one grammar of image and repository names
(pure Python: no database)."""

import dataclasses
import time

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
    # Docker Hub's names in any case and with its port (443) are Docker Hub.
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
            "Docker.io/library/ubuntu",
            "DOCKER.IO/ubuntu",
            "docker.io:443/ubuntu",
            "docker.io:0443/library/ubuntu",
            "index.docker.io:443/ubuntu",
            "Index.Docker.IO:443/library/ubuntu",
            "REGISTRY-1.docker.io:443/ubuntu",
        )
    ],
    # Another port of Docker Hub's name is another registry (a single component stays one).
    (
        "docker.io:5000/ubuntu",
        "docker.io:5000",
        "ubuntu",
        None,
        None,
        "docker.io:5000/ubuntu:latest",
        False,
        "ubuntu",
    ),
    # "localhost" is a host name: any case.
    ("LocalHost/x", "LocalHost", "x", None, None, "LocalHost/x:latest", False, "x"),
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


# --- Distribution's own test cases ----------------------------------------------------------
# Ported from github.com/distribution/reference (commit 0965666a, April 2026):
# reference_test.go (TestReferenceParse) and normalize_test.go (TestValidateReferenceName,
# TestValidateRemoteName, TestParseRepositoryInfo, TestParseReferenceWithTagAndDigest).
# TestReferenceParse checks Parse, which does not normalise; here every input goes through
# parse_reference, so the expected parts are those ParseNormalizedNamed gives (a first
# component without "." or ":" is a Docker Hub namespace, not a domain).

FFF = "sha256:" + "f" * 64
DISTRIBUTION_VALID = [
    # text, domain, path, tag, digest
    ("test_com", "docker.io", "library/test_com", None, None),
    ("test.com:tag", "docker.io", "library/test.com", "tag", None),
    ("test.com:5000", "docker.io", "library/test.com", "5000", None),
    ("test.com/repo:tag", "test.com", "repo", "tag", None),
    ("test:5000/repo", "test:5000", "repo", None, None),
    ("test:5000/repo:tag", "test:5000", "repo", "tag", None),
    (f"test:5000/repo@{FFF}", "test:5000", "repo", None, FFF),
    (f"test:5000/repo:tag@{FFF}", "test:5000", "repo", "tag", FFF),
    ("lowercase:Uppercase", "docker.io", "library/lowercase", "Uppercase", None),
    (
        "a/" * 127 + "a:tag-puts-this-over-max",
        "docker.io",
        "a/" * 127 + "a",
        "tag-puts-this-over-max",
        None,
    ),
    ("sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", "bar/baz/quux", None, None),
    (
        "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
        "sub-dom1.foo.com",
        "bar/baz/quux",
        "some-long-tag",
        None,
    ),
    (
        "b.gcr.io/test.example.com/my-app:test.example.com",
        "b.gcr.io",
        "test.example.com/my-app",
        "test.example.com",
        None,
    ),
    ("xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com", "myimage", "xn--n3h.com", None),
    (f"xn--7o8h.com/myimage:xn--7o8h.com@{FFF}", "xn--7o8h.com", "myimage", "xn--7o8h.com", FFF),
    ("foo_bar.com:8080", "docker.io", "library/foo_bar.com", "8080", None),
    ("foo/foo_bar.com:8080", "docker.io", "foo/foo_bar.com", "8080", None),
    ("192.168.1.1", "docker.io", "library/192.168.1.1", None, None),
    ("192.168.1.1:tag", "docker.io", "library/192.168.1.1", "tag", None),
    ("192.168.1.1:5000", "docker.io", "library/192.168.1.1", "5000", None),
    ("192.168.1.1/repo", "192.168.1.1", "repo", None, None),
    ("192.168.1.1:5000/repo", "192.168.1.1:5000", "repo", None, None),
    ("192.168.1.1:5000/repo:5050", "192.168.1.1:5000", "repo", "5050", None),
    ("[2001:db8::1]/repo", "[2001:db8::1]", "repo", None, None),
    ("[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]", "repo", "tag", None),
    ("[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "repo", None, None),
    ("[2001:db8::1]:5000/repo:tag", "[2001:db8::1]:5000", "repo", "tag", None),
    (f"[2001:db8::1]:5000/repo@{FFF}", "[2001:db8::1]:5000", "repo", None, FFF),
    (f"[2001:db8::1]:5000/repo:tag@{FFF}", "[2001:db8::1]:5000", "repo", "tag", FFF),
    ("[2001:db8::]:5000/repo", "[2001:db8::]:5000", "repo", None, None),
    ("[::1]:5000/repo", "[::1]:5000", "repo", None, None),
    ("example.com/" + "a" * 255 + ":tag", "example.com", "a" * 255, "tag", None),
    # TestValidateReferenceName, valid names (the three with an uppercase namespace are below).
    ("docker/docker", "docker.io", "docker/docker", None, None),
    ("library/debian", "docker.io", "library/debian", None, None),
    ("debian", "docker.io", "library/debian", None, None),
    ("localhost/library/debian", "localhost", "library/debian", None, None),
    ("localhost/debian", "localhost", "debian", None, None),
    ("docker.io/docker/docker", "docker.io", "docker/docker", None, None),
    ("docker.io/library/debian", "docker.io", "library/debian", None, None),
    ("docker.io/debian", "docker.io", "library/debian", None, None),
    ("index.docker.io/docker/docker", "docker.io", "docker/docker", None, None),
    ("index.docker.io/library/debian", "docker.io", "library/debian", None, None),
    ("index.docker.io/debian", "docker.io", "library/debian", None, None),
    ("127.0.0.1:5000/docker/docker", "127.0.0.1:5000", "docker/docker", None, None),
    ("127.0.0.1:5000/library/debian", "127.0.0.1:5000", "library/debian", None, None),
    ("127.0.0.1:5000/debian", "127.0.0.1:5000", "debian", None, None),
    ("192.168.0.1", "docker.io", "library/192.168.0.1", None, None),
    ("192.168.0.1:80", "docker.io", "library/192.168.0.1", "80", None),
    ("192.168.0.1:8/debian", "192.168.0.1:8", "debian", None, None),
    ("192.168.0.2:25000/debian", "192.168.0.2:25000", "debian", None, None),
    (
        "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
        "docker.io",
        "library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
        None,
        None,
    ),
    ("[fc00::1]:5000/docker", "[fc00::1]:5000", "docker", None, None),
    ("[fc00::1]:5000/docker/docker", "[fc00::1]:5000", "docker/docker", None, None),
    (
        "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
        "[fc00:1:2:3:4:5:6:7]:5000",
        "library/debian",
        None,
        None,
    ),
    (
        "docker.io/" + "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
        "docker.io",
        "library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
        None,
        None,
    ),
    # TestValidateRemoteName, valid names.
    ("docker-rules/docker", "docker.io", "docker-rules/docker", None, None),
    ("docker---rules/docker", "docker.io", "docker---rules/docker", None, None),
    ("doc/docker", "docker.io", "doc/docker", None, None),
    ("d/docker", "docker.io", "d/docker", None, None),
    ("jess/t", "docker.io", "jess/t", None, None),
    ("dock__er/docker", "docker.io", "dock__er/docker", None, None),
    # TestParseRepositoryInfo: the familiar, full and ambiguous names of each repository.
    ("localhost/fooo", "localhost", "fooo", None, None),
    ("localhost/fooo/bar", "localhost", "fooo/bar", None, None),
    ("fooo/bar", "docker.io", "fooo/bar", None, None),
    ("docker.io/fooo/bar", "docker.io", "fooo/bar", None, None),
    ("index.docker.io/fooo/bar", "docker.io", "fooo/bar", None, None),
    ("ubuntu", "docker.io", "library/ubuntu", None, None),
    ("docker.io/library/ubuntu", "docker.io", "library/ubuntu", None, None),
    ("library/ubuntu", "docker.io", "library/ubuntu", None, None),
    ("nonlibrary/ubuntu", "docker.io", "nonlibrary/ubuntu", None, None),
    ("docker.io/nonlibrary/ubuntu", "docker.io", "nonlibrary/ubuntu", None, None),
    ("other/library", "docker.io", "other/library", None, None),
    ("docker.io/other/library", "docker.io", "other/library", None, None),
    ("127.0.0.1:8000/private/moonbase", "127.0.0.1:8000", "private/moonbase", None, None),
    ("127.0.0.1:8000/privatebase", "127.0.0.1:8000", "privatebase", None, None),
    ("example.com/private/moonbase", "example.com", "private/moonbase", None, None),
    ("example.com/privatebase", "example.com", "privatebase", None, None),
    ("example.com:8000/private/moonbase", "example.com:8000", "private/moonbase", None, None),
    ("example.com:8000/privatebasee", "example.com:8000", "privatebasee", None, None),
    ("ubuntu-12.04-base", "docker.io", "library/ubuntu-12.04-base", None, None),
    ("docker.io/library/ubuntu-12.04-base", "docker.io", "library/ubuntu-12.04-base", None, None),
    (
        "index.docker.io/library/ubuntu-12.04-base",
        "docker.io",
        "library/ubuntu-12.04-base",
        None,
        None,
    ),
    ("foo", "docker.io", "library/foo", None, None),
    ("docker.io/library/foo", "docker.io", "library/foo", None, None),
    ("docker.io/foo", "docker.io", "library/foo", None, None),
    ("library/foo/bar", "docker.io", "library/foo/bar", None, None),
    ("docker.io/library/foo/bar", "docker.io", "library/foo/bar", None, None),
    ("store/foo/bar", "docker.io", "store/foo/bar", None, None),
    ("docker.io/store/foo/bar", "docker.io", "store/foo/bar", None, None),
    # TestParseReferenceWithTagAndDigest.
    (
        "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
        "docker.io",
        "library/busybox",
        "latest",
        "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
    ),
]


@pytest.mark.parametrize(
    ("text", "domain", "path", "tag", "digest"),
    DISTRIBUTION_VALID,
    ids=[row[0][:60] for row in DISTRIBUTION_VALID],
)
def test_distribution_valid_references(text, domain, path, tag, digest):
    ref = parse_reference(text)
    assert ref == ImageReference(domain=domain, path=path, tag=tag, digest=digest)
    first, slash, _ = text.partition("/")
    has_domain = slash and ("." in first or ":" in first or first == "localhost")
    if not has_domain and tag is None and digest is None and ":" not in text:
        assert parse_repository_name(text) == ref


DISTRIBUTION_INVALID = [
    # text, part of the message. TestReferenceParse:
    ("", "it is empty."),
    (":justtag", "it has no repository name."),
    (f"@{FFF}", "it has no repository name."),
    ("repo@sha256:" + "f" * 34, "is not of the form '<algorithm>:<hex>'"),
    ("validname@invaliddigest:" + "f" * 64, "the digest 'invaliddigest:ffff"),
    ("Uppercase:tag", "repository name must be lowercase."),
    ("test:5000/Uppercase/lowercase:tag", "repository name must be lowercase."),
    ("domain/" + "a" * 256 + ":tag", "must not be more than 255 characters"),
    ("aa/asdf$$^/aa", "'$' (U+0024) at index 7"),
    ("[2001:db8::1]", "is not valid"),
    ("[2001:db8::1]:5000", "is not valid"),
    ("[2001:db8::1]:tag", "is not valid"),
    ("[fe80::1%eth0]:5000/repo", "'%' (U+0025) at index 8"),
    ("[fe80::1%@invalidzone]:5000/repo", "'%' (U+0025) at index 8"),
    # TestValidateReferenceName:
    ("https://github.com/docker/docker", "empty path component"),
    ("docker/Docker", "repository name must be lowercase."),
    ("-docker", "component '-docker' is not valid"),
    ("-docker/docker", "component '-docker' is not valid"),
    ("-docker.io/docker/docker", "the registry domain '-docker.io' is not valid"),
    ("docker///docker", "empty path component"),
    ("docker.io/docker/Docker", "repository name must be lowercase."),
    ("docker.io/docker///docker", "empty path component"),
    ("[fc00::1]", "is not valid"),
    ("[fc00::1]:5000", "is not valid"),
    ("fc00::1:5000/debian", "the registry domain 'fc00::1:5000' is not valid"),
    ("[fe80::1%eth0]:5000/debian", "'%' (U+0025) at index 8"),
    ("[2001:db8:3:4::192.0.2.33]:5000/debian", "the registry domain"),
    ("1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a", "64-byte hexadecimal"),
    # TestValidateRemoteName:
    ("docker-/docker", "component 'docker-' is not valid"),
    ("-docker-/docker", "component '-docker-' is not valid"),
    ("____/____", "component '____' is not valid"),
    ("_docker/_docker", "component '_docker' is not valid"),
    ("dock..er/docker", "the registry domain 'dock..er' is not valid"),
    ("dock_.er/docker", "the registry domain 'dock_.er' is not valid"),
    ("dock-.er/docker", "the registry domain 'dock-.er' is not valid"),
    ("docker/", "empty path component"),
    (
        "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_" * 4 + "x/docker",
        "must not be more than 255 characters",
    ),
    # TestInvalidReferenceComponents:
    ("-foo", "component '-foo' is not valid"),
    ("busybox:-foo", "the tag '-foo' is not valid"),
    ("busybox@foo", "the digest 'foo' is not of the form"),
]


@pytest.mark.parametrize(
    ("text", "expected"), DISTRIBUTION_INVALID, ids=[r[0][:60] for r in DISTRIBUTION_INVALID]
)
def test_distribution_invalid_references(text, expected):
    with pytest.raises(InvalidReference) as caught:
        parse_reference(text)
    assert expected in str(caught.value)


# Where the portal parts from Distribution, on purpose (see the module's docstring).
PORTAL_DIFFERS = [
    # text, what Distribution does, what the portal does (None: refused as not lowercase)
    ("validname@sha512:" + "f" * 128, "unsupported (sha512 not registered in its test)", "valid"),
    ("LOCALDOMAIN/library/debian", "registry LOCALDOMAIN", None),
    ("LOCALDOMAIN/debian", "registry LOCALDOMAIN", None),
    ("LOCALDOMAIN/fooo/bar", "registry LOCALDOMAIN", None),
    ("Docker/docker", "registry Docker", None),
    ("DOCKER/docker", "registry DOCKER", None),
    ("Foo/bar", "registry Foo", None),
    ("FOO/bar", "registry FOO", None),
    ("docker.io:443/ubuntu", "registry docker.io:443", "docker.io/library/ubuntu"),
    ("DOCKER.IO/ubuntu", "registry DOCKER.IO", "docker.io/library/ubuntu"),
    ("registry-1.docker.io/ubuntu", "registry registry-1.docker.io", "docker.io/library/ubuntu"),
]


@pytest.mark.parametrize(("text", "upstream", "portal"), PORTAL_DIFFERS)
def test_where_the_portal_parts_from_distribution(text, upstream, portal):
    if portal is None:
        with pytest.raises(InvalidReference, match="must be lowercase"):
            parse_reference(text)
    elif portal == "valid":
        assert parse_reference(text).digest == text.partition("@")[2]
    else:
        assert parse_reference(text).name == portal


@pytest.mark.parametrize(
    "text",
    [
        "a" * 400 + "!",
        "a-" * 250 + "!",
        "a" * 100 + "." * 100 + "/b",
        "[" + ":" * 300 + "]:5000/x/",
        "a." * 200 + ":1/x",
        "a" + "--a" * 160 + "-",
    ],
)
def test_hostile_input_is_refused_fast(text):
    """The grammar's nested repetitions never backtrack for long (each case well under 10 ms
    even on a loaded machine: a bad regex takes seconds)."""
    started = time.perf_counter()
    with pytest.raises(InvalidReference):
        parse_reference(text)
    assert time.perf_counter() - started < 0.05
