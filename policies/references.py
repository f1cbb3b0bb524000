"""Container image references, parsed and normalised the way ``docker pull`` does it.

Pure Python: no Django, no database. The grammar is the one of Docker's
``distribution/reference`` package, through its port ``docker-image-py``
(:mod:`docker_image.reference`); this module wraps it to

* give one exception type, :class:`InvalidReference` (a :class:`ValueError`), for any input,
  with a message that says precisely what is wrong;
* return a small frozen value, :class:`ImageReference`, instead of the library's dicts;
* correct the library where it is wrong or too lenient for us:

  - its anchored patterns end in ``$``, which also matches before a final newline, so
    ``"ubuntu\\n"`` was accepted as ``ubuntu``. Input is checked character by character first:
    whitespace anywhere, and any character that never appears in a reference, is refused;
  - errors about digests come from :mod:`docker_image.digest` and are *not* subclasses of the
    library's ``InvalidReference``; they are converted too;
  - Docker takes a first component with an uppercase letter (``Acme/app``) for a registry
    host named ``Acme``. Here a registry domain is only a first component that contains ``.`` or
    ``:`` or is ``localhost``; ``Acme/app`` is refused ("must be lowercase");
  - ``registry-1.docker.io`` (the host Docker Hub is really served from) is treated like
    ``index.docker.io``: both are Docker Hub, ``docker.io``;
  - input longer than :data:`MAX_REFERENCE_LENGTH` characters is refused before any pattern
    runs, and so is a reference whose normalised form would be longer (so that parsing
    :attr:`ImageReference.normalized` again always succeeds).

Which inputs are valid is decided by the library (plus the corrections above). When it refuses
one, the input is taken apart with the library's own sub-patterns only to *explain* why.
"""

import string
from dataclasses import dataclass

from docker_image import digest as _lib_digest
from docker_image import reference as _lib_reference
from docker_image.regexp import ImageRegexps as _Regexps

__all__ = [
    "DOCKER_HUB_DOMAIN",
    "ImageReference",
    "InvalidReference",
    "MAX_REFERENCE_LENGTH",
    "parse_reference",
    "parse_repository_name",
]

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
#: Longest repository path (``library/ubuntu``), as in Docker.
MAX_PATH_LENGTH = _lib_reference.NAME_TOTAL_LENGTH_MAX
#: Longest tag, as in Docker.
MAX_TAG_LENGTH = 128

_LOCALHOST = "localhost"
# Every character that can appear somewhere in a valid reference ("[", "]" in IPv6 registry
# hosts; "+" is in the digest grammar, though no supported algorithm uses it).
_ALLOWED_CHARS = frozenset(string.ascii_letters + string.digits + "._-/:@[]+")
_PATH_CHARS = frozenset(string.ascii_lowercase + string.digits + "._-")
_TAG_CHARS = frozenset(string.ascii_letters + string.digits + "_.-")
_LOWER_HEX = frozenset("0123456789abcdef")
_ALNUM_LOWER = frozenset(string.ascii_lowercase + string.digits)
_DIGEST_ALGORITHMS = dict(_lib_digest.DIGESTS_SIZE)  # algorithm -> size in bytes
_SHOW_LIMIT = 100

# Reasons that should never be seen; tests check that they are not.
_UNEXPLAINED = "it does not have the form [registry/]path[:tag][@digest]"
_INTERNAL = "it could not be parsed"


class InvalidReference(ValueError):
    """An image reference or repository name that cannot be used.

    ``str(error)`` is one human sentence, e.g.
    ``Invalid image reference 'Ubuntu': repository name must be lowercase.``;
    ``error.text`` is the offending input (``None`` if it was not a string) and
    ``error.reason`` the part of the sentence after the colon.
    """

    def __init__(self, message: str, *, text: str | None = None, reason: str | None = None):
        super().__init__(message)
        self.message = message
        self.text = text
        self.reason = reason


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
        """The full reference as ``docker pull`` shows it, e.g. ``docker.io/library/ubuntu:latest``.

        The tag is ``latest`` when neither a tag nor a digest was given.
        """
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
    registry (``ghcr.io/owner/img``, ``localhost:5000/x``). A tag (``:22.04``) and/or a digest
    (``@sha256:<64 hex>``) are reported as given; no tag is invented (see
    :attr:`ImageReference.normalized` for the ``latest`` default).

    Input is never stripped: surrounding whitespace makes it invalid.

    :raises InvalidReference: for any invalid input, including non-strings; never anything else.
    """
    label = "image reference"
    try:
        return _parse(_checked_text(text, label), label)
    except InvalidReference:
        raise
    except Exception as error:  # a bug here must still not escape as something else
        raise _invalid(label, text, f"{_INTERNAL} ({type(error).__name__}).") from error


def parse_repository_name(name: str) -> ImageReference:
    """Parse a repository name as a registry sees it, e.g. in a scope ``repository:NAME:pull``.

    The registry behind the portal stands in for Docker Hub, so its repository names are
    Docker Hub paths: ``acme/app`` is ``docker.io/acme/app``, and a single component is an
    official image, normalised the way Docker Hub does it (``alpine`` is
    ``docker.io/library/alpine``). A name carries no registry domain (a first component with
    ``.`` or ``:``, or ``localhost``, is refused), no tag and no digest. The result's domain is
    always ``docker.io`` and its tag and digest are ``None``.

    :raises InvalidReference: for any invalid input, including non-strings; never anything else.
    """
    label = "repository name"
    try:
        text = _checked_text(name, label)
        if "@" in text:
            raise _invalid(label, text, "a repository name must not include a digest ('@...').")
        first, slash, _ = text.partition("/")
        if slash and _is_domain(first):
            raise _invalid(
                label,
                text,
                f"a repository name must not include a registry domain ({_show(first)}).",
            )
        if ":" in text:
            tag = text[text.index(":") :]
            raise _invalid(label, text, f"a repository name must not include a tag ({_show(tag)}).")
        result = _parse(text, label)
        if not result.is_docker_hub or result.tag is not None or result.digest is not None:
            raise _invalid(label, text, f"{_INTERNAL} (unexpected {result.normalized!r}).")
        return result
    except InvalidReference:
        raise
    except Exception as error:
        raise _invalid(label, name, f"{_INTERNAL} ({type(error).__name__}).") from error


# --- internals ------------------------------------------------------------------------------


def _show(text: str, limit: int = _SHOW_LIMIT) -> str:
    """``repr`` of ``text``, cut to ``limit`` characters."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"


def _invalid(label: str, text: object, reason: str) -> InvalidReference:
    if isinstance(text, str):
        text = str.__str__(text)  # never a subclass's own __repr__
        message = f"Invalid {label} {_show(text)}: {reason}"
        return InvalidReference(message, text=text, reason=reason)
    return InvalidReference(f"Invalid {label}: {reason}", reason=reason)


def _checked_text(value: object, label: str) -> str:
    """``value`` as a plain ``str`` if it could be a reference at all, else raise."""
    if not isinstance(value, str):
        raise _invalid(label, value, f"expected a string, got {type(value).__name__}.")
    text = str.__str__(value)  # a plain str, whatever a subclass overrides
    if not text:
        raise _invalid(label, text, "it is empty.")
    if len(text) > MAX_REFERENCE_LENGTH:
        raise _invalid(
            label,
            text,
            f"it is {len(text)} characters long; at most {MAX_REFERENCE_LENGTH} are allowed.",
        )
    if text.isspace():
        raise _invalid(label, text, "it contains only whitespace.")
    if text != text.strip():
        raise _invalid(label, text, "it has leading or trailing whitespace.")
    for index, char in enumerate(text):
        if char not in _ALLOWED_CHARS:
            kind = "whitespace " if char.isspace() else ""
            raise _invalid(
                label,
                text,
                f"it contains {kind}{char!r} (U+{ord(char):04X}) at index {index}, "
                f"which never appears in a valid {label}.",
            )
    return text


def _is_domain(component: str) -> bool:
    """Docker's rule for a first component that names a registry (minus the uppercase rule)."""
    return component == _LOCALHOST or "." in component or ":" in component


def _parse(text: str, label: str) -> ImageReference:
    """Parse ``text`` (already through :func:`_checked_text`) with the library."""
    first, slash, rest = text.partition("/")
    if slash and not _is_domain(first) and first != first.lower():
        # Docker would take "Acme/app" for a registry host "Acme"; refuse it instead.
        raise _invalid(label, text, "repository name must be lowercase.")
    prepared = f"{DOCKER_HUB_DOMAIN}/{rest}" if slash and first in DOCKER_HUB_ALIASES else text

    try:
        parsed = _lib_reference.Reference.parse_normalized_named(prepared)
    except (_lib_reference.InvalidReference, _lib_digest.InvalidDigest) as error:
        reason = _explain(text) or f"{_UNEXPLAINED} ({error})."
        raise _invalid(label, text, reason) from error

    result = ImageReference(
        domain=parsed.domain(),
        path=parsed.path(),
        tag=parsed["tag"] or None,
        digest=parsed["digest"] or None,
    )
    # The library must have read every character, and split the domain the way Docker does.
    domain, remainder = _lib_reference.Reference.split_docker_domain(prepared)
    rebuilt = result.name
    rebuilt += f":{result.tag}" if result.tag is not None else ""
    rebuilt += f"@{result.digest}" if result.digest is not None else ""
    if result.domain != domain or rebuilt != f"{domain}/{remainder}":
        raise _invalid(label, text, f"{_INTERNAL} (read as {rebuilt!r}).")

    normalized = result.normalized
    if len(normalized) > MAX_REFERENCE_LENGTH:
        raise _invalid(
            label,
            text,
            f"normalised to {_show(normalized, 40)} it is {len(normalized)} characters long; "
            f"at most {MAX_REFERENCE_LENGTH} are allowed.",
        )
    return result


def _explain(text: str) -> str | None:
    """Why the library refused ``text``: the first problem, left to right (None if not found)."""
    name_and_tag, at, digest = text.partition("@")
    name, tag = name_and_tag, None
    colon = name_and_tag.rfind(":")
    if colon > name_and_tag.rfind("/"):
        name, tag = name_and_tag[:colon], name_and_tag[colon + 1 :]
    return (
        _explain_name(text, name)
        or (_explain_tag(tag) if tag is not None else None)
        or (_explain_digest(digest) if at else None)
    )


def _explain_name(text: str, name: str) -> str | None:
    if not name:
        return "it has no repository name."
    if _Regexps.ANCHORED_IDENTIFIER_REGEXP.fullmatch(text):
        return "a 64-character hexadecimal string is an image ID, not a repository name."

    first, slash, rest = name.partition("/")
    domain = None
    path = name
    if slash and _is_domain(first):
        domain, path = first, rest
        if not _Regexps.ANCHORED_HOSTNAME_REGEXP.fullmatch(domain):
            return (
                f"registry domain {_show(domain, 40)} is not a host name or [IPv6] address "
                "with an optional numeric port."
            )
        if not path:
            return f"nothing follows the registry domain {_show(domain, 40)}."

    components = path.split("/")
    for index, component in enumerate(components):
        if not component:
            if index == 0 and domain is None:
                return "it starts with '/'."
            if index == len(components) - 1:
                return "it ends with '/'."
            return "it contains an empty path component ('//')."
    for component in components:
        reason = _explain_component(component)
        if reason:
            return reason

    on_docker_hub = domain is None or domain in DOCKER_HUB_ALIASES or domain == DOCKER_HUB_DOMAIN
    if on_docker_hub and len(components) == 1:
        path = f"{OFFICIAL_NAMESPACE}/{path}"
    if len(path) > MAX_PATH_LENGTH:
        return (
            f"repository path {_show(path, 40)} is {len(path)} characters long; "
            f"at most {MAX_PATH_LENGTH} are allowed."
        )
    return None


def _explain_component(component: str) -> str | None:
    shown = _show(component, 40)
    for char in component:
        if char.lower() not in _PATH_CHARS:
            return f"repository path component {shown} contains {char!r}, which is not allowed."
    if component != component.lower():
        return "repository name must be lowercase."
    if _Regexps.NAME_COMPONENT_REGEXP.fullmatch(component):
        return None
    if component[0] not in _ALNUM_LOWER:
        return f"repository path component {shown} must start with a lowercase letter or digit."
    if component[-1] not in _ALNUM_LOWER:
        return f"repository path component {shown} must end with a lowercase letter or digit."
    separators = "".join(c if c not in _ALNUM_LOWER else " " for c in component).split()
    bad = next((s for s in separators if s not in {".", "_", "__"} and set(s) != {"-"}), "")
    return (
        f"repository path component {shown} contains the separator {bad!r}; only '.', '_', "
        "'__' or dashes may separate lowercase letters and digits."
    )


def _explain_tag(tag: str) -> str | None:
    if not tag:
        return "the tag after ':' is empty."
    shown = _show(tag, 40)
    if len(tag) > MAX_TAG_LENGTH:
        return (
            f"the tag {shown} is {len(tag)} characters long; at most {MAX_TAG_LENGTH} are allowed."
        )
    for char in tag:
        if char not in _TAG_CHARS:
            return (
                f"the tag {shown} contains {char!r}; a tag may only contain letters, digits, "
                "'_', '.' and '-'."
            )
    if tag[0] in ".-":
        return f"the tag {shown} must start with a letter, digit or '_'."
    return None


def _explain_digest(digest: str) -> str | None:
    if not digest:
        return "the digest after '@' is empty."
    if "@" in digest:
        return "it contains more than one '@'."
    shown = _show(digest, 40)
    algorithm, colon, encoded = digest.partition(":")
    supported = ", ".join(sorted(_DIGEST_ALGORITHMS))
    if not colon or not algorithm:
        return f"the digest {shown} is not of the form '<algorithm>:<hex>' (e.g. 'sha256:...')."
    if algorithm not in _DIGEST_ALGORITHMS:
        return (
            f"the digest algorithm {_show(algorithm, 40)} is not supported "
            f"(supported: {supported})."
        )
    expected = _DIGEST_ALGORITHMS[algorithm] * 2
    if len(encoded) != expected:
        return (
            f"the {algorithm} digest {shown} must have {expected} hexadecimal characters "
            f"after '{algorithm}:', not {len(encoded)}."
        )
    for char in encoded:
        if char not in _LOWER_HEX:
            return (
                f"the digest {shown} contains {char!r}; only lowercase hexadecimal characters "
                "(0-9, a-f) are allowed."
            )
    return None
