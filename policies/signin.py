"""Files and commands that make Docker Desktop enforce sign-in to an organisation.

Pure module (no Django): every function takes a list of organisation names and returns bytes
or plain frozen dataclasses that a view or template can render as-is.

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
* Precedence when several exist: registry key (Windows), configuration profile (Mac), ``.plist``
  file (Mac), then ``registry.json``.
* More than one organisation needs Docker Desktop 4.36 or later (4.35 and earlier silently fail
  to enforce sign-in); configuration profiles also need 4.36 or later.

The page leads each operating system with the method that takes precedence there (Windows: the
registry key; macOS: the configuration profile; Linux: ``registry.json``, its only method), then
offers ``registry.json`` and the installer flag as alternatives. Each :class:`Method` is one
download or one block of commands, plus one block that checks the result.

The list of organisations is checked once, against the rule in :mod:`orgs.naming`, by
:func:`allowed_orgs` (failures raise ``InvalidOrgName`` or ``InvalidOrgList``), and every value
placed into a shell command is additionally quoted for that shell (:func:`bash_quote`,
:func:`powershell_quote`, :func:`cmd_safe`).
"""

from __future__ import annotations

import json
import plistlib
import re
import shlex
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

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
_WINDOWS_INSTALLER_RELATIVE = ".\\Docker Desktop Installer.exe"

MOBILECONFIG_FILE_NAME = "docker.mobileconfig"
MOBILECONFIG_PAYLOAD_TYPE = "com.docker.config"
MOBILECONFIG_IDENTIFIER_PREFIX = "com.docker.desktop.enforce-sign-in"
# Fixed namespace for mobileconfig_uuids(); never change it, or re-downloaded profiles would no
# longer replace the ones already installed.
_MOBILECONFIG_UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:iam-portal:enforce-sign-in")

# --------------------------------------------------------------------------------------------
# Documentation facts
# --------------------------------------------------------------------------------------------

MULTIPLE_ORGS_MIN_VERSION = "4.36"
CONFIG_PROFILE_MIN_VERSION = "4.36"
MULTIPLE_ORGS_NOTE = (
    f"Listing more than one organization requires Docker Desktop {MULTIPLE_ORGS_MIN_VERSION} "
    "or later. With Docker Desktop 4.35 and earlier, sign-in enforcement silently fails when "
    "more than one organization is listed."
)

PRECEDENCE_NOTE = (
    "When several methods are present on the same machine, Docker Desktop uses the first one "
    "found in this order: the registry key (Windows), the configuration profile (Mac), the "
    "desktop.plist file (Mac), then registry.json."
)

MOBILECONFIG_INSTALL_NOTE = (
    "To try it on a single Mac, double-click the file, then approve it in System Settings > "
    "General > Device Management (macOS 14 Sonoma and later), System Settings > Privacy & "
    "Security > Profiles (macOS 13 Ventura) or System Preferences > Profiles (macOS 12 and "
    "earlier). The profiles command can no longer install profiles (since macOS 11)."
)

INSTALLER_SINGLE_ORG_NOTE = (
    "The installer's --allowed-org option takes a single organization, so it is offered only "
    "when the file lists exactly one."
)

_OWNERSHIP_NOTE = "Users must not be able to change it: only administrators (root) may write it."

# --------------------------------------------------------------------------------------------
# Data returned to views
# --------------------------------------------------------------------------------------------

OsKey = Literal["windows", "macos", "linux"]
OS_KEYS: tuple[OsKey, ...] = ("windows", "macos", "linux")
DownloadKind = Literal["registry.json", "reg", "mobileconfig"]

SHELL_POWERSHELL = "powershell"
SHELL_BASH = "bash"
SHELL_ZSH = "zsh"


@dataclass(frozen=True)
class Command:
    """Lines to paste into ``shell`` (``"powershell"``, ``"bash"`` or ``"zsh"``) in one go,
    with what they print when that is worth checking."""

    shell: str
    text: str
    expected_output: str | None = None


@dataclass(frozen=True)
class Method:
    """One way to make Docker Desktop enforce sign-in: ``download`` (a file the page links to)
    or ``action`` (commands to paste), then ``verify``, which checks it worked.

    ``key`` names the method (``registry-key``, ``configuration-profile``, ``registry-json``,
    ``installer``); ``how`` says what to do with the download or where to run the action;
    ``also_download`` is the same result as a file, for deployment tools; ``note`` is an
    optional remark after the first step.
    """

    key: str
    title: str
    summary: str
    how: str
    verify: Command
    action: Command | None = None
    download: DownloadKind | None = None
    also_download: DownloadKind | None = None
    note: str | None = None


@dataclass(frozen=True)
class OsInstructions:
    """Everything the page shows for one operating system: its methods, the one that takes
    precedence first."""

    os_key: OsKey
    title: str
    methods: tuple[Method, ...]

    @property
    def recommended(self) -> Method:
        return self.methods[0]

    @property
    def alternatives(self) -> tuple[Method, ...]:
        return self.methods[1:]


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
# Shell quoting
# --------------------------------------------------------------------------------------------


def bash_quote(value: str) -> str:
    """Quote ``value`` as one word for bash, zsh or any POSIX shell (``shlex.quote``)."""
    return shlex.quote(value)


# PowerShell treats these four typographic quotes exactly like the ASCII apostrophe inside a
# single-quoted string, so they must be doubled too (this mirrors
# System.Management.Automation.Language.CodeGeneration.EscapeSingleQuotedStringContent).
_POWERSHELL_SINGLE_QUOTES = re.compile("['\u2018\u2019\u201a\u201b]")


def powershell_quote(value: str) -> str:
    """Return ``value`` as a PowerShell single-quoted (verbatim) string literal.

    Inside single quotes PowerShell expands nothing (no ``$``, backtick or sub-expression); the
    only special characters are the single quotes themselves, which are doubled. NUL cannot
    appear in a command and is refused.
    """
    if "\x00" in value:
        raise ValueError("A PowerShell argument cannot contain a NUL character.")
    return "'" + _POWERSHELL_SINGLE_QUOTES.sub(lambda match: match.group(0) * 2, value) + "'"


_CMD_SAFE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def cmd_safe(value: str) -> str:
    """Return ``value`` unchanged if cmd.exe will pass it through literally, else raise.

    cmd.exe has no quoting that neutralises everything: ``%VAR%`` is expanded even inside
    double quotes and ``!VAR!`` too when delayed expansion is on, and ``^ & | < > ( ) "`` change
    the parse. So instead of quoting, only letters, digits, ``.``, ``_`` and ``-`` (not first)
    are accepted. Organisation names (``[a-z0-9]{4,30}``) always pass; this is a second check
    behind :func:`allowed_orgs`, not a substitute for it.
    """
    if not isinstance(value, str) or _CMD_SAFE_RE.fullmatch(value) is None:
        raise ValueError(f"{value!r} is not safe to place in a cmd.exe command line.")
    return value


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


# --------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------


def _posix_registry_json(
    shell: str, directory: str, path: str, content: bytes, ls_owner_columns: str
) -> tuple[Command, Command]:
    """``(action, verify)`` that write ``registry.json`` byte-identical to the download and
    check its content and permissions.

    Docker's docs use ``echo '<json>' | sudo tee <file>``; ``echo`` appends a newline, so the
    file would differ from the downloaded ``registry.json`` by one byte. ``printf '%s'`` writes
    the JSON exactly, and ``> /dev/null`` stops ``tee`` from echoing it back to the terminal.
    ``sudo`` applies to ``mkdir`` and ``tee`` only: the redirection to /dev/null needs no
    privilege. The check's ``echo`` ends the JSON's line (the file has no final newline), so
    that the ``ls -l`` line starts on its own.
    """
    json_text = content.decode("ascii")
    quoted = bash_quote(path)
    action = Command(
        shell=shell,
        # '%s' is a fixed format string, not a value, so it is written literally.
        text=(
            f"sudo mkdir -p {bash_quote(directory)}\n"
            f"printf '%s' {bash_quote(json_text)} | sudo tee {quoted} > /dev/null"
        ),
    )
    verify = Command(
        shell=shell,
        text=f"sudo cat {quoted}; echo\nsudo ls -l {quoted}",
        expected_output=(
            f"{json_text}\n-rw-r--r-- {ls_owner_columns} {len(content)} <date> {path}"
        ),
    )
    return action, verify


def _registry_json_summary(path: str, precedence: str) -> str:
    return f"Docker Desktop reads {path}{precedence}. {_OWNERSHIP_NOTE}"


def _windows_instructions(orgs: AllowedOrgs) -> OsInstructions:
    names = orgs.names
    json_text = registry_json(orgs).decode("ascii")
    key_ps = powershell_quote(WINDOWS_REGISTRY_KEY_PS)
    values = "@(" + ",".join(powershell_quote(name) for name in names) + ")"
    registry_key = Method(
        key="registry-key",
        title="Registry key",
        summary=(
            f"Docker Desktop reads the multi-string value {WINDOWS_REGISTRY_VALUE_NAME} under "
            f"{WINDOWS_REGISTRY_KEY} before any registry.json, and only administrators can "
            "change it."
        ),
        how="Run in PowerShell as administrator, then restart Docker Desktop:",
        action=Command(
            shell=SHELL_POWERSHELL,
            # New-Item -Force on an EXISTING registry key deletes and recreates it (losing its
            # other values), so the key is created only when it is missing.
            text=(
                f"if (-not (Test-Path -LiteralPath {key_ps})) "
                f"{{ New-Item -Path {key_ps} -Force | Out-Null }}\n"
                f"New-ItemProperty -Path {key_ps}"
                f" -Name {powershell_quote(WINDOWS_REGISTRY_VALUE_NAME)}"
                f" -PropertyType MultiString -Value {values} -Force | Out-Null"
            ),
        ),
        also_download="reg",
        verify=Command(
            shell=SHELL_POWERSHELL,
            text=(
                f'reg query "{WINDOWS_REGISTRY_KEY_REG_EXE}"'
                f" /v {cmd_safe(WINDOWS_REGISTRY_VALUE_NAME)}"
            ),
            expected_output=(
                f"{WINDOWS_REGISTRY_KEY}\n"
                f"    {WINDOWS_REGISTRY_VALUE_NAME}    REG_MULTI_SZ    " + "\\0".join(names)
            ),
        ),
    )
    path = powershell_quote(WINDOWS_REGISTRY_JSON_PATH)
    file_method = Method(
        key="registry-json",
        title="registry.json",
        summary=_registry_json_summary(WINDOWS_REGISTRY_JSON_PATH, " when no registry key is set"),
        how="Run in PowerShell as administrator:",
        action=Command(
            shell=SHELL_POWERSHELL,
            # Windows PowerShell 5.1's Set-Content defaults to the ANSI code page and adds a
            # CRLF; its "utf8" would add a BOM. The JSON is pure ASCII, so "-Encoding ascii"
            # produces exactly UTF-8-without-BOM bytes in both Windows PowerShell 5.1 and
            # PowerShell 7, and -NoNewline (PowerShell 5.0+) keeps the file byte-identical to
            # the download. Absolute paths: "/ProgramData/..." would be relative to the
            # current drive.
            text=(
                "New-Item -ItemType Directory -Force -Path "
                f"{powershell_quote(WINDOWS_REGISTRY_JSON_DIR)} | Out-Null\n"
                f"Set-Content -Path {path} -Value {powershell_quote(json_text)}"
                " -Encoding ascii -NoNewline"
            ),
        ),
        also_download="registry.json",
        verify=Command(
            shell=SHELL_POWERSHELL,
            text=(
                f"Get-Content -Raw -Path {path}\n"
                f"(Get-Item -Path {path}).Length\n"
                f"(Get-Acl -Path {path}).Owner"
            ),
            expected_output=f"{json_text}\n{len(json_text)}\nBUILTIN\\Administrators",
        ),
    )
    methods = [registry_key, file_method]
    if len(names) == 1:
        methods.append(
            Method(
                key="installer",
                title="Installer flag",
                summary="When you install Docker Desktop, the installer writes registry.json.",
                how=(
                    "In the folder with Docker Desktop Installer.exe, run in PowerShell as "
                    "administrator:"
                ),
                action=Command(
                    shell=SHELL_POWERSHELL,
                    text=(
                        f"Start-Process {powershell_quote(_WINDOWS_INSTALLER_RELATIVE)}"
                        f" -Wait {powershell_quote('install --allowed-org=' + names[0])}"
                    ),
                ),
                verify=Command(
                    shell=SHELL_POWERSHELL,
                    text=f"Get-Content -Raw -Path {path}",
                    expected_output=json_text,
                ),
            )
        )
    return OsInstructions(os_key="windows", title="Windows", methods=tuple(methods))


def _macos_instructions(orgs: AllowedOrgs) -> OsInstructions:
    names = orgs.names
    content = registry_json(orgs)
    json_text = content.decode("ascii")
    identifier_uuid, _ = mobileconfig_uuids(orgs)
    identifier = f"{MOBILECONFIG_IDENTIFIER_PREFIX}.{identifier_uuid}"
    profile = Method(
        key="configuration-profile",
        title="Configuration profile",
        summary=(
            "The most secure method on a Mac: the profile is protected by System Integrity "
            "Protection and takes precedence over registry.json. Needs Docker Desktop "
            f"{CONFIG_PROFILE_MIN_VERSION} or later."
        ),
        how="Deploy it with your MDM solution.",
        download="mobileconfig",
        note=MOBILECONFIG_INSTALL_NOTE,
        verify=Command(
            shell=SHELL_ZSH,
            text=f"sudo profiles list | grep -F {bash_quote(identifier)}",
            expected_output=f"_computerlevel[1] attribute: profileIdentifier: {identifier}",
        ),
    )
    action, verify = _posix_registry_json(
        SHELL_ZSH,
        MACOS_REGISTRY_JSON_DIR,
        MACOS_REGISTRY_JSON_PATH,
        content,
        # macOS ls pads its columns with two spaces; the group is inherited from the parent
        # folder (/Library/Application Support is root:admin).
        " 1 root  admin ",
    )
    file_method = Method(
        key="registry-json",
        title="registry.json",
        summary=_registry_json_summary(
            MACOS_REGISTRY_JSON_PATH, " when no configuration profile is installed"
        ),
        how="Run in Terminal (you will be asked for your password):",
        action=action,
        also_download="registry.json",
        verify=verify,
    )
    methods = [profile, file_method]
    if len(names) == 1:
        methods.append(
            Method(
                key="installer",
                title="Installer flag",
                summary="When you install Docker Desktop, the installer writes registry.json.",
                how="In the folder with Docker.dmg, run in Terminal:",
                action=Command(
                    shell=SHELL_ZSH,
                    text=(
                        f"sudo hdiutil attach {bash_quote('Docker.dmg')}\n"
                        "sudo "
                        f"{bash_quote('/Volumes/Docker/Docker.app/Contents/MacOS/install')}"
                        f" {bash_quote(f'--allowed-org={names[0]}')}\n"
                        f"sudo hdiutil detach {bash_quote('/Volumes/Docker')}"
                    ),
                ),
                verify=Command(
                    shell=SHELL_ZSH,
                    text=f"sudo cat {bash_quote(MACOS_REGISTRY_JSON_PATH)}; echo",
                    expected_output=json_text,
                ),
            )
        )
    return OsInstructions(os_key="macos", title="macOS", methods=tuple(methods))


def _linux_instructions(orgs: AllowedOrgs) -> OsInstructions:
    action, verify = _posix_registry_json(
        SHELL_BASH,
        LINUX_REGISTRY_JSON_DIR,
        LINUX_REGISTRY_JSON_PATH,
        registry_json(orgs),
        "1 root root",
    )
    return OsInstructions(
        os_key="linux",
        title="Linux",
        methods=(
            Method(
                key="registry-json",
                title="registry.json",
                summary=_registry_json_summary(
                    LINUX_REGISTRY_JSON_PATH, ", its only sign-in enforcement method on Linux"
                ),
                how="Run in a terminal (you will be asked for your password):",
                action=action,
                also_download="registry.json",
                verify=verify,
            ),
        ),
    )


_BUILDERS = {
    "windows": _windows_instructions,
    "macos": _macos_instructions,
    "linux": _linux_instructions,
}


def instructions_for(os_key: OsKey, orgs: AllowedOrgs) -> OsInstructions:
    """Return the methods for one operating system (``windows|macos|linux``), the one that
    takes precedence first. With more than one organisation the installer flag is left out
    (it takes one organisation)."""
    try:
        builder = _BUILDERS[os_key]
    except KeyError:
        raise ValueError(f"Unknown operating system {os_key!r}.") from None
    return builder(orgs)


def install_instructions(orgs: AllowedOrgs) -> tuple[OsInstructions, ...]:
    """Return the instructions for Windows, macOS and Linux, in that order."""
    return tuple(instructions_for(os_key, orgs) for os_key in OS_KEYS)


# A User-Agent names the OS it runs on: "Windows NT 10.0", "Macintosh; Intel Mac OS X 10_15_7",
# "X11; Linux x86_64". Phones and tablets ("iPhone ... like Mac OS X", "Android ... Linux")
# don't run Docker Desktop, so they get the default.
_MOBILE_RE = re.compile(r"iPhone|iPad|iPod|Android|Mobile", re.IGNORECASE)
_USER_AGENT_OS: tuple[tuple[re.Pattern[str], OsKey], ...] = (
    (re.compile(r"Windows", re.IGNORECASE), "windows"),
    (re.compile(r"Macintosh|Mac OS X", re.IGNORECASE), "macos"),
    (re.compile(r"Linux|X11|CrOS", re.IGNORECASE), "linux"),
)
DEFAULT_OS: OsKey = "windows"


def os_from_user_agent(user_agent: str) -> OsKey:
    """The operating system a browser's User-Agent header names, or :data:`DEFAULT_OS`
    (Windows, where most Docker Desktop installations are) when it names none we know."""
    if _MOBILE_RE.search(user_agent):
        return DEFAULT_OS
    for pattern, os_key in _USER_AGENT_OS:
        if pattern.search(user_agent):
            return os_key
    return DEFAULT_OS
