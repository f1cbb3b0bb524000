"""The files that make Docker Desktop enforce sign-in to an organisation: ``registry.json``,
the Windows ``.reg`` file and the macOS configuration profile (``.mobileconfig``).

Pure module (no Django): every builder takes an :class:`AllowedOrgs` (the list checked once, by
:func:`allowed_orgs`) and returns the file's exact bytes.

What Docker's documentation says (docs.docker.com/enterprise/security/enforce-sign-in/methods/,
source ``content/manuals/enterprise/security/enforce-sign-in/methods.md`` in docker/docs):

* ``registry.json`` is ``{"allowedOrgs": [...]}`` saved as UTF-8 without a BOM at
  ``C:\\ProgramData\\DockerDesktop\\registry.json`` (Windows; the docs' PowerShell writes
  ``/ProgramData/...``, which is relative to the current drive, so the page uses the absolute
  path throughout),
  ``/Library/Application Support/com.docker.docker/registry.json`` (Mac) and
  ``/usr/share/docker-desktop/registry/registry.json`` (Linux).
* Windows registry key: ``HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Docker\\Docker Desktop``, a
  multi-string (REG_MULTI_SZ) value named ``allowedOrgs``, one organisation per line.
* Mac configuration profile: a payload of type ``com.docker.config`` whose ``allowedOrgs`` key
  is ONE string with the organisations separated by semicolons; deployed with an MDM solution.

The list of organisations is checked once, against the rule in :mod:`orgs.naming`, by
:func:`allowed_orgs` (failures raise ``InvalidOrgName`` or ``InvalidOrgList``).
"""

from __future__ import annotations

import json
import plistlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from orgs.naming import InvalidOrgName, org_name_error

# --------------------------------------------------------------------------------------------
# Locations and names
# --------------------------------------------------------------------------------------------

REGISTRY_JSON_FILE_NAME = "registry.json"

WINDOWS_REGISTRY_JSON_DIR = "C:\\ProgramData\\DockerDesktop"
WINDOWS_REGISTRY_JSON_PATH = "C:\\ProgramData\\DockerDesktop\\registry.json"

MACOS_REGISTRY_JSON_DIR = "/Library/Application Support/com.docker.docker"
MACOS_REGISTRY_JSON_PATH = "/Library/Application Support/com.docker.docker/registry.json"

LINUX_REGISTRY_JSON_DIR = "/usr/share/docker-desktop/registry"
LINUX_REGISTRY_JSON_PATH = "/usr/share/docker-desktop/registry/registry.json"

WINDOWS_REGISTRY_KEY = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Docker\\Docker Desktop"
WINDOWS_REGISTRY_KEY_PS = "HKLM:\\SOFTWARE\\Policies\\Docker\\Docker Desktop"
WINDOWS_REGISTRY_KEY_REG_EXE = "HKLM\\SOFTWARE\\Policies\\Docker\\Docker Desktop"
WINDOWS_REGISTRY_VALUE_NAME = "allowedOrgs"
REG_FILE_NAME = "docker-desktop-allowed-orgs.reg"

MOBILECONFIG_FILE_NAME = "docker.mobileconfig"
MOBILECONFIG_PAYLOAD_TYPE = "com.docker.config"
MOBILECONFIG_IDENTIFIER_PREFIX = "com.docker.desktop.enforce-sign-in"
# Fixed namespace for mobileconfig_uuids(); never change it, or re-downloaded profiles would no
# longer replace the ones already installed.
_MOBILECONFIG_UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:iam-portal:enforce-sign-in")


class InvalidOrgList(ValueError):
    """Raised when the list of organisations is empty or names an organisation twice."""


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AllowedOrgs:
    """The organisations a sign-in file or command lists, checked once by
    :func:`allowed_orgs`: at least one, each following the naming rule, none twice. Every
    builder below takes one, so nothing unchecked reaches a file or a shell command."""

    names: tuple[str, ...]


def allowed_orgs(names: Sequence[str]) -> AllowedOrgs:
    """Check ``names`` (keeping their order) and wrap them.

    Raises :class:`orgs.naming.InvalidOrgName` for a name that breaks the naming rule (names are
    never repaired) and :class:`InvalidOrgList` for an empty list or a repeated name.
    """
    names = tuple(names)
    if not names:
        raise InvalidOrgList("At least one organization is required.")
    for position, name in enumerate(names, start=1):
        error = org_name_error(name)
        if error is not None:
            raise InvalidOrgName(f"Organization {position} ({name!r}): {error}")
    repeated = next((name for i, name in enumerate(names) if name in names[:i]), None)
    if repeated is not None:
        raise InvalidOrgList(f"Organization {repeated!r} is listed more than once.")
    return AllowedOrgs(names)


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def registry_json(orgs: AllowedOrgs) -> bytes:
    """Return the ``registry.json`` file for ``orgs``.

    The bytes are compact JSON, ASCII (hence UTF-8 without a BOM, as Docker requires) and end
    without a newline, e.g. ``{"allowedOrgs":["acme","globex"]}``.
    """
    names = orgs.names
    text = json.dumps({"allowedOrgs": list(names)}, separators=(",", ":"), ensure_ascii=True)
    return text.encode("utf-8")


def _reg_hex_lines(value_prefix: str, data: bytes) -> list[str]:
    """Lay out ``data`` as ``.reg`` hex bytes, wrapped like regedit does (80 columns)."""
    tokens = [f"{byte:02x}" for byte in data]
    lines: list[str] = []
    line = value_prefix
    has_token = False
    for index, token in enumerate(tokens):
        piece = token if index == len(tokens) - 1 else token + ","
        if has_token and len(line) + len(piece) > 79:
            lines.append(line + "\\")
            line = "  "
        line += piece
        has_token = True
    lines.append(line)
    return lines


def windows_reg_file(orgs: AllowedOrgs) -> bytes:
    """Return a ``.reg`` file that sets the ``allowedOrgs`` REG_MULTI_SZ policy value.

    The value lives under ``HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Docker\\Docker Desktop``
    with one organisation per string. In a version 5.00 ``.reg`` file a REG_MULTI_SZ is written
    as ``hex(7):`` followed by its UTF-16LE bytes: each string ends with a NUL and the list
    ends with one more NUL. The file itself is UTF-16LE with a byte-order mark and CRLF line
    ends, which is what ``regedit`` exports for "Windows Registry Editor Version 5.00" and what
    ``reg import`` expects; long lines are wrapped with ``\\`` the way ``regedit`` does.
    Importing merges: other values under the key are left alone.
    """
    names = orgs.names
    data = "".join(name + "\x00" for name in names).encode("utf-16-le") + b"\x00\x00"
    lines = [
        "Windows Registry Editor Version 5.00",
        "",
        f"[{WINDOWS_REGISTRY_KEY}]",
        *_reg_hex_lines(f'"{WINDOWS_REGISTRY_VALUE_NAME}"=hex(7):', data),
        "",
        "",
    ]
    return b"\xff\xfe" + "\r\n".join(lines).encode("utf-16-le")


def mobileconfig_uuids(orgs: AllowedOrgs) -> tuple[uuid.UUID, uuid.UUID]:
    """Return deterministic ``(identifier_uuid, payload_uuid)`` for :func:`macos_mobileconfig`.

    Both are uuid5 values derived from the organisation names in the order given, so the same
    list always yields the same profile identity (and macOS replaces, rather than duplicates, a
    profile installed again with the same identifier). A different list gives a different
    profile, which should replace the old one in the MDM rather than sit beside it.
    """
    names = orgs.names
    key = ";".join(names)
    return (
        uuid.uuid5(_MOBILECONFIG_UUID_NAMESPACE, f"profile:{key}"),
        uuid.uuid5(_MOBILECONFIG_UUID_NAMESPACE, f"payload:{key}"),
    )


def macos_mobileconfig(
    orgs: AllowedOrgs, *, identifier_uuid: uuid.UUID, payload_uuid: uuid.UUID
) -> bytes:
    """Return a macOS configuration profile (``.mobileconfig``, XML plist) enforcing sign-in.

    The inner payload has ``PayloadType`` ``com.docker.config`` and an ``allowedOrgs`` key
    holding ONE string with the organisations separated by ``;`` (Docker's documented format).
    ``identifier_uuid`` becomes the profile's ``PayloadUUID`` and the last part of its
    ``PayloadIdentifier``; ``payload_uuid`` identifies the inner payload. Pass stable values
    (see :func:`mobileconfig_uuids`) so the output is deterministic. ``PayloadScope`` is
    ``System`` so the profile applies to every user of the Mac. The profile is unsigned.
    """
    names = orgs.names
    profile_identifier = f"{MOBILECONFIG_IDENTIFIER_PREFIX}.{identifier_uuid}"
    org_list = ", ".join(names)
    payload = {
        "PayloadType": MOBILECONFIG_PAYLOAD_TYPE,
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{profile_identifier}.{MOBILECONFIG_PAYLOAD_TYPE}",
        "PayloadUUID": str(payload_uuid),
        "PayloadDisplayName": "Docker Desktop Configuration",
        "PayloadDescription": "Configuration profile to manage Docker Desktop settings.",
        "allowedOrgs": ";".join(names),
    }
    profile = {
        "PayloadContent": [payload],
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": profile_identifier,
        "PayloadUUID": str(identifier_uuid),
        "PayloadScope": "System",
        "PayloadDisplayName": "Docker Desktop sign-in enforcement",
        "PayloadDescription": (
            f"Requires Docker Desktop users to sign in as a member of: {org_list}."
        ),
    }
    return plistlib.dumps(profile, fmt=plistlib.FMT_XML, sort_keys=False)
