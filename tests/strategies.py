"""Hypothesis strategies that generate *valid* image references from Docker's grammar, with the
:class:`~policies.references.ImageReference` each must parse to. Property tests of the parser and
of the engine draw from these, so that nearly every example exercises the code under test."""

import string

from hypothesis import strategies as st

from policies.references import ImageReference

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
def well_formed(draw, domains=domains, first_components=components):
    """``(text, expected)``: a valid reference and the ImageReference it must parse to.

    ``first_components`` draws the first path component (the namespace on Docker Hub)."""
    domain = draw(domains)
    path = [draw(first_components), *draw(st.lists(components, max_size=3))]
    if domain is None and len(path) > 1 and ("." in path[0] or path[0] == "localhost"):
        path[0] = "ns"  # otherwise the first component would be read as a registry domain
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
