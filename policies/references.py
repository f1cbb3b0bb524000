r"""Container image references, parsed and normalised the way ``docker pull`` does it.

Pure Python: no Django, no database. This is the one grammar of image and repository names in
the portal (the Check-an-image box, ``check_pull``, the token service's scopes, allowlist
entries). The grammar is Distribution's (``github.com/distribution/reference``,
``regexp.go``), written here with :mod:`re`::

    reference        := name [ ":" tag ] [ "@" digest ]
    name             := [domain "/"] path
    domain           := host [":" port-number]
    host             := domain-name | IPv4address | "[" IPv6address "]"
    domain-name      := domain-component ["." domain-component]*
    domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
    port-number      := /[0-9]+/
    path             := path-component ["/" path-component]*      (at most 255 characters)
    path-component   := alpha-numeric [separator alpha-numeric]*
    alpha-numeric    := /[a-z0-9]+/
    separator        := /[_.]|__|[-]+/
    tag              := /[\w][\w.-]{0,127}/                         (ASCII)
    digest           := algorithm ":" hex    (sha256, sha384 or sha512, lowercase hex)

and ``docker pull``'s normalisation (``normalize.go``): a first component that contains ``.``
or ``:`` or is ``localhost`` is a registry domain, anything else is on Docker Hub, where a
single component is an official image (``ubuntu`` is ``docker.io/library/ubuntu``); a bare
64-digit hex string is an image ID, not a name. The portal differs from Docker in these ways:

* Docker Hub has several names: ``docker.io``, ``index.docker.io`` and ``registry-1.docker.io``
  (where it is really served from), in any case (``DOCKER.IO``), with or without port 443;
  all are normalised to ``docker.io``. Other registry hosts are kept as written;
* Docker reads a first component with an uppercase letter (``Acme/app``) as a registry host;
  here it is refused ("must be lowercase");
* every character is checked first, and whitespace or a character that never appears in a
  reference is refused with its position (so ``"ubuntu\n"`` is refused);
* input longer than :data:`MAX_REFERENCE_LENGTH`, or whose normalised form would be, is refused
  (so that parsing :attr:`ImageReference.normalized` again always succeeds).

When an input is refused, the message names the mistake precisely (empty parts, a bad
component, tag or digest, separators in the wrong place).
"""

import re
from dataclasses import dataclass

#: The canonical domain of Docker Hub.
DOCKER_HUB_DOMAIN = "docker.io"
#: Other names of Docker Hub, normalised to :data:`DOCKER_HUB_DOMAIN`.
DOCKER_HUB_ALIASES = frozenset({"index.docker.io", "registry-1.docker.io"})
#: The port Docker Hub is served on: ``docker.io:443`` is ``docker.io``.
DOCKER_HUB_PORT = 443
#: The Docker Hub namespace of official images (``ubuntu`` is ``library/ubuntu``).
OFFICIAL_NAMESPACE = "library"
#: The tag ``docker pull`` uses when a reference has neither tag nor digest.
DEFAULT_TAG = "latest"
#: Longest accepted input, and longest accepted normalised form, in characters.
MAX_REFERENCE_LENGTH = 512
#: Longest repository path (Distribution's ``RepositoryNameTotalLengthMax``).
MAX_PATH_LENGTH = 255
#: Longest tag, as in Docker.
MAX_TAG_LENGTH = 128
#: Digest algorithms and the length of their hex part (as go-digest registers them).
DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}

# Distribution's regexp.go, production by production.
_ALPHANUMERIC = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALPHANUMERIC}(?:{_SEPARATOR}{_ALPHANUMERIC})*"
_PATH = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6_ADDRESS = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN = rf"(?:{_DOMAIN_NAME}|{_IPV6_ADDRESS})(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}"

_REFERENCE_RE = re.compile(
    rf"(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_PATH})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?",
    re.ASCII,
)
_DOMAIN_RE = re.compile(_DOMAIN, re.ASCII)
_PATH_RE = re.compile(_PATH, re.ASCII)
_PATH_COMPONENT_RE = re.compile(_PATH_COMPONENT, re.ASCII)
_TAG_RE = re.compile(_TAG, re.ASCII)
_IDENTIFIER_RE = re.compile(r"[a-f0-9]{64}")
# A character that never appears in a valid reference ("[", "]" are in IPv6 registry hosts,
# "+" in the digest grammar).
_UNUSED_CHARACTER_RE = re.compile(r"[^A-Za-z0-9._\-/:@\[\]+]")
_LOCALHOST = "localhost"
_SHOW_LIMIT = 100


class InvalidReference(ValueError):
    """An image reference or repository name that cannot be used.

    ``str(error)`` is one sentence, e.g.
    ``Invalid image reference 'Ubuntu': repository name must be lowercase.``;
    ``error.text`` is the offending input and ``error.reason`` the part after the colon.
    """

    def __init__(self, message: str, *, text: str = "", reason: str = ""):
        super().__init__(message)
        self.message, self.text, self.reason = message, text, reason


@dataclass(frozen=True)
class ImageReference:
    """A parsed, normalised image reference (build it with :func:`parse_reference`)."""

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def is_docker_hub(self) -> bool:
        """Whether the image is on Docker Hub (``docker.io``)."""
        return self.domain == DOCKER_HUB_DOMAIN

    @property
    def namespace(self) -> str:
        """The first path component: ``library`` for ``ubuntu``, ``acme`` for ``acme/team/app``."""
        return self.path.split("/", 1)[0]

    @property
    def name(self) -> str:
        """Domain and path, e.g. ``docker.io/library/ubuntu``."""
        return f"{self.domain}/{self.path}"

    @property
    def normalized(self) -> str:
        """The full reference as ``docker pull`` shows it, e.g. ``docker.io/library/ubuntu:latest``
        (``latest`` when neither a tag nor a digest was given)."""
        text = self.name
        if self.tag is not None:
            text += f":{self.tag}"
        elif self.digest is None:
            text += f":{DEFAULT_TAG}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text


def parse_reference(text: str) -> ImageReference:
    """Parse an image reference as ``docker pull`` would, normalising it.

    ``ubuntu`` is ``docker.io/library/ubuntu``; ``acme/app`` is ``docker.io/acme/app``;
    ``index.docker.io/…``, ``registry-1.docker.io/…``, ``docker.io/…`` (in any case, with or
    without port 443) are Docker Hub; a first component containing ``.`` or ``:``, or equal to
    ``localhost``, is another registry (``ghcr.io/owner/img``, ``localhost:5000/x``). A tag
    and/or a digest are kept as given. Input is never stripped: surrounding whitespace makes it
    invalid.

    :raises InvalidReference: for any invalid input.
    """
    label = "image reference"
    _check_characters(text, label)
    first, slash, rest = text.partition("/")
    if slash and _is_domain(first):
        domain, remainder = _normalized_domain(first), rest
    else:
        domain, remainder = DOCKER_HUB_DOMAIN, text
    if _IDENTIFIER_RE.fullmatch(text):
        raise _invalid(label, text, _IMAGE_ID)
    _check_lowercase(label, text, remainder)
    if domain == DOCKER_HUB_DOMAIN and "/" not in remainder:
        remainder = f"{OFFICIAL_NAMESPACE}/{remainder}"
    match = _REFERENCE_RE.fullmatch(f"{domain}/{remainder}")
    if match is None or match["domain"] is None:
        raise _invalid(label, text, _explain(text))
    result = ImageReference(
        domain=domain, path=match["path"], tag=match["tag"], digest=match["digest"]
    )
    _check_path_length(label, text, result.path)
    if result.digest is not None:
        _check_digest(label, text, result.digest)
    if len(result.normalized) > MAX_REFERENCE_LENGTH:
        raise _invalid(
            label,
            text,
            f"normalised to {_show(result.normalized, 40)} it is {len(result.normalized)} "
            f"characters long; at most {MAX_REFERENCE_LENGTH} are allowed.",
        )
    return result


def parse_repository_name(name: str) -> ImageReference:
    """Parse a repository name as the registry behind the portal sees it (in a token scope
    ``repository:NAME:pull`` or an allowlist entry).

    That registry stands in for Docker Hub, so a name is a Docker Hub path: ``acme/app`` is
    ``docker.io/acme/app`` and a single component is an official image (``alpine`` is
    ``docker.io/library/alpine``). A name has no registry domain, tag or digest.

    :raises InvalidReference: for any invalid input.
    """
    label = "repository name"
    _check_characters(name, label)
    first, slash, _ = name.partition("/")
    if slash and _is_domain(first):
        raise _invalid(label, name, f"it must not include a registry domain ({_show(first)}).")
    for mark, part in (("@", "a digest"), (":", "a tag")):
        if mark in name:
            raise _invalid(
                label, name, f"it must not include {part} ({_show(name[name.index(mark) :])})."
            )
    if _IDENTIFIER_RE.fullmatch(name):
        raise _invalid(label, name, _IMAGE_ID)
    _check_lowercase(label, name, name)
    if _PATH_RE.fullmatch(name) is None:
        raise _invalid(label, name, _explain(name))
    path = name if slash else f"{OFFICIAL_NAMESPACE}/{name}"
    _check_path_length(label, name, path)
    return ImageReference(domain=DOCKER_HUB_DOMAIN, path=path)


_IMAGE_ID = (
    "it is a 64-digit hexadecimal image ID, not a name (cannot specify 64-byte hexadecimal "
    "strings)."
)


def _show(text: str, limit: int = _SHOW_LIMIT) -> str:
    """``repr`` of ``text``, cut to ``limit`` characters."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"


def _invalid(label: str, text: str, reason: str) -> InvalidReference:
    return InvalidReference(f"Invalid {label} {_show(text)}: {reason}", text=text, reason=reason)


def _check_characters(text: str, label: str) -> None:
    if not text:
        raise _invalid(label, text, "it is empty.")
    if len(text) > MAX_REFERENCE_LENGTH:
        raise _invalid(
            label,
            text,
            f"it is {len(text)} characters long; at most {MAX_REFERENCE_LENGTH} are allowed.",
        )
    unused = _UNUSED_CHARACTER_RE.search(text)
    if unused is not None:
        char, index = unused.group(), unused.start()
        kind = "whitespace " if char.isspace() else ""
        raise _invalid(
            label,
            text,
            f"it contains {kind}{char!r} (U+{ord(char):04X}) at index {index}, "
            f"which never appears in a valid {label}.",
        )


def _check_lowercase(label: str, text: str, remainder: str) -> None:
    """The repository path (``remainder`` up to its tag or digest) must be lowercase; Docker
    would take an uppercase first component (``Acme/app``) for a registry host."""
    path = remainder.partition("@")[0].partition(":")[0]
    if path != path.lower():
        raise _invalid(label, text, "repository name must be lowercase.")


def _check_path_length(label: str, text: str, path: str) -> None:
    if len(path) > MAX_PATH_LENGTH:
        raise _invalid(
            label,
            text,
            f"its repository path is {len(path)} characters long: repository name must not "
            f"be more than {MAX_PATH_LENGTH} characters.",
        )


def _check_digest(label: str, text: str, digest: str) -> None:
    """go-digest's rule: a registered algorithm and its length of lowercase hex."""
    algorithm, _, encoded = digest.partition(":")
    size = DIGEST_HEX_LENGTHS.get(algorithm)
    if size is None or len(encoded) != size or encoded != encoded.lower():
        raise _invalid(label, text, _DIGEST_FORM.format(digest=_show(digest, 40)))


_DIGEST_FORM = (
    "the digest {digest} is not of the form '<algorithm>:<hex>' with a supported algorithm and "
    "length, e.g. 'sha256:' and 64 lowercase hex digits."
)


def _is_domain(component: str) -> bool:
    """Docker's rule for a first component that names a registry (minus the uppercase rule;
    ``localhost`` in any case, as host names are)."""
    return "." in component or ":" in component or component.lower() == _LOCALHOST


def _normalized_domain(domain: str) -> str:
    """:data:`DOCKER_HUB_DOMAIN` for any name of Docker Hub (host names are case-insensitive,
    and ``:443`` is its port); any other domain as written."""
    host, colon, port = domain.lower().partition(":")
    if host != DOCKER_HUB_DOMAIN and host not in DOCKER_HUB_ALIASES:
        return domain
    if colon and not (port.isascii() and port.isdigit() and int(port) == DOCKER_HUB_PORT):
        return domain
    return DOCKER_HUB_DOMAIN


def _split(text: str) -> tuple[str, str | None, str | None]:
    """``(name, tag, digest)`` as written: the tag follows the last ':' after the last '/'."""
    name, at, digest = text.partition("@")
    tag = None
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        name, tag = name[:colon], name[colon + 1 :]
    return name, tag, digest if at else None


def _explain(text: str) -> str:
    """Why ``text`` does not follow the grammar, for the common mistakes."""
    name, tag, digest = _split(text)
    if not name:
        return "it has no repository name."
    if name.startswith("/") or name.endswith("/") or "//" in name:
        return "it has an empty path component (a leading, trailing or doubled '/')."
    first, slash, rest = name.partition("/")
    path = name
    if slash and _is_domain(first):
        path = rest
        if _DOMAIN_RE.fullmatch(first) is None:
            return (
                f"the registry domain {_show(first, 40)} is not valid: a host name, an IPv4 "
                "address or an IPv6 address in brackets, with an optional ':port'."
            )
    for component in path.split("/"):
        if not _PATH_COMPONENT_RE.fullmatch(component):
            return (
                f"repository path component {_show(component, 40)} is not valid: lowercase "
                "letters and digits, separated by '.', '_', '__' or dashes."
            )
    if tag is not None and not _TAG_RE.fullmatch(tag):
        return (
            f"the tag {_show(tag, 40)} is not valid: 1 to {MAX_TAG_LENGTH} letters, digits, "
            "'_', '.' or '-', not starting with '.' or '-'."
        )
    if digest is not None:
        return _DIGEST_FORM.format(digest=_show(digest, 40))
    return "invalid reference format."
