"""Container image references, parsed and normalised the way ``docker pull`` does it.

Pure Python: no Django, no database. This is the one grammar of image and repository names in
the portal (the Check-an-image box, ``check_pull``, the token service's scopes, allowlist
entries). The grammar is Docker's ``distribution/reference``, through its port
``docker-image-py`` (:mod:`docker_image.reference`), with these corrections:

* its patterns end in ``$``, which also matches before a final newline (``"ubuntu\\n"`` passed):
  every character is checked first, and whitespace or a character that never appears in a
  reference is refused with its position;
* Docker reads a first component with an uppercase letter (``Acme/app``) as a registry host;
  here a registry domain is only a first component that contains ``.`` or ``:`` or is
  ``localhost``, so ``Acme/app`` is refused ("must be lowercase");
* ``registry-1.docker.io`` (where Docker Hub is really served from) is Docker Hub, like
  ``index.docker.io``;
* input longer than :data:`MAX_REFERENCE_LENGTH`, or whose normalised form would be, is refused
  (so that parsing :attr:`ImageReference.normalized` again always succeeds).

When the library refuses an input, the message names the common mistakes precisely (empty
parts, a bad tag or digest, separators in the wrong place) and otherwise is the library's own.
"""

import string
from dataclasses import dataclass

from docker_image import digest as _lib_digest
from docker_image import reference as _lib_reference
from docker_image.regexp import ImageRegexps as _Regexps

#: The canonical domain of Docker Hub.
DOCKER_HUB_DOMAIN = "docker.io"
#: Other names of Docker Hub, normalised to :data:`DOCKER_HUB_DOMAIN`.
DOCKER_HUB_ALIASES = frozenset({"index.docker.io", "registry-1.docker.io"})
#: The Docker Hub namespace of official images (``ubuntu`` is ``library/ubuntu``).
OFFICIAL_NAMESPACE = "library"
#: The tag ``docker pull`` uses when a reference has neither tag nor digest.
DEFAULT_TAG = "latest"
#: Longest accepted input, and longest accepted normalised form, in characters.
MAX_REFERENCE_LENGTH = 512
#: Longest tag, as in Docker.
MAX_TAG_LENGTH = 128

_LOCALHOST = "localhost"
# Every character that can appear somewhere in a valid reference ("[", "]" in IPv6 registry
# hosts; "+" is in the digest grammar).
_ALLOWED_CHARS = frozenset(string.ascii_letters + string.digits + "._-/:@[]+")
_LOWER_HEX = frozenset("0123456789abcdef")
_DIGEST_SIZES = dict(_lib_digest.DIGESTS_SIZE)  # algorithm -> size in bytes
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
    ``index.docker.io/…``, ``registry-1.docker.io/…`` and ``docker.io/…`` are Docker Hub;
    a first component containing ``.`` or ``:``, or equal to ``localhost``, is another
    registry (``ghcr.io/owner/img``, ``localhost:5000/x``). A tag and/or a digest are kept as
    given. Input is never stripped: surrounding whitespace makes it invalid.

    :raises InvalidReference: for any invalid input.
    """
    _check_characters(text, "image reference")
    return _parse(text, "image reference")


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
    return _parse(name, label)


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
    for index, char in enumerate(text):
        if char not in _ALLOWED_CHARS:
            kind = "whitespace " if char.isspace() else ""
            raise _invalid(
                label,
                text,
                f"it contains {kind}{char!r} (U+{ord(char):04X}) at index {index}, "
                f"which never appears in a valid {label}.",
            )


def _is_domain(component: str) -> bool:
    """Docker's rule for a first component that names a registry (minus the uppercase rule)."""
    return component == _LOCALHOST or "." in component or ":" in component


def _split(text: str) -> tuple[str, str | None, str | None]:
    """``(name, tag, digest)`` as written: the tag follows the last ':' after the last '/'."""
    name, at, digest = text.partition("@")
    tag = None
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        name, tag = name[:colon], name[colon + 1 :]
    return name, tag, digest if at else None


def _path_of(name: str) -> str:
    """The repository path of a name, without its registry domain if it has one."""
    first, slash, rest = name.partition("/")
    return rest if slash and _is_domain(first) else name


def _parse(text: str, label: str) -> ImageReference:
    name = _split(text)[0]
    path = _path_of(name)
    if path != path.lower():
        # Docker would take "Acme/app" for a registry host "Acme"; refuse it instead.
        raise _invalid(label, text, "repository name must be lowercase.")
    first, slash, rest = text.partition("/")
    prepared = f"{DOCKER_HUB_DOMAIN}/{rest}" if slash and first in DOCKER_HUB_ALIASES else text
    try:
        parsed = _lib_reference.Reference.parse_normalized_named(prepared)
    except (_lib_reference.InvalidReference, _lib_digest.InvalidDigest) as error:
        raise _invalid(label, text, _explain(text) or f"{error}.") from None
    result = ImageReference(
        domain=parsed.domain(),
        path=parsed.path(),
        tag=parsed["tag"] or None,
        digest=parsed["digest"] or None,
    )
    if len(result.normalized) > MAX_REFERENCE_LENGTH:
        raise _invalid(
            label,
            text,
            f"normalised to {_show(result.normalized, 40)} it is {len(result.normalized)} "
            f"characters long; at most {MAX_REFERENCE_LENGTH} are allowed.",
        )
    return result


def _explain(text: str) -> str | None:
    """Why the library refused ``text``, for the common mistakes (None: use its message)."""
    name, tag, digest = _split(text)
    if not name:
        return "it has no repository name."
    if name.startswith("/") or name.endswith("/") or "//" in name:
        return "it has an empty path component (a leading, trailing or doubled '/')."
    for component in _path_of(name).split("/"):
        if not _Regexps.NAME_COMPONENT_REGEXP.fullmatch(component):
            return (
                f"repository path component {_show(component, 40)} is not valid: lowercase "
                "letters and digits, separated by '.', '_', '__' or dashes."
            )
    if tag is not None and not _Regexps.ANCHORED_TAG_REGEXP.fullmatch(tag):
        return (
            f"the tag {_show(tag, 40)} is not valid: 1 to {MAX_TAG_LENGTH} letters, digits, "
            "'_', '.' or '-', not starting with '.' or '-'."
        )
    if digest is not None:
        algorithm, _, encoded = digest.partition(":")
        size = _DIGEST_SIZES.get(algorithm)
        if size is None or len(encoded) != 2 * size or not set(encoded) <= _LOWER_HEX:
            return (
                f"the digest {_show(digest, 40)} is not of the form '<algorithm>:<hex>' with a "
                "supported algorithm and length, e.g. 'sha256:' and 64 lowercase hex digits."
            )
    return None
