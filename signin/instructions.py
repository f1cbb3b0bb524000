"""The commands that make Docker Desktop enforce sign-in, per operating system, and the
command that checks each worked.

Pure module (no Django): every function takes an :class:`~signin.files.AllowedOrgs` and returns
plain frozen dataclasses that a view or template can render as-is.

What Docker's documentation says about the methods (docs.docker.com/enterprise/security/
enforce-sign-in/methods/):

* Precedence when several exist: registry key (Windows), configuration profile (Mac), ``.plist``
  file (Mac), then ``registry.json``.
* More than one organisation needs Docker Desktop 4.36 or later (4.35 and earlier silently fail
  to enforce sign-in); configuration profiles also need 4.36 or later.

The page leads each operating system with the method that takes precedence there (Windows: the
registry key; macOS: the configuration profile; Linux: ``registry.json``, its only method), then
offers ``registry.json`` and the installer flag as alternatives. Each :class:`Method` is one
download or one block of commands, plus one block that checks the result. Every value placed
into a shell command is quoted for that shell (:mod:`signin.shell`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from signin.files import (
    LINUX_REGISTRY_JSON_DIR,
    LINUX_REGISTRY_JSON_PATH,
    MACOS_REGISTRY_JSON_DIR,
    MACOS_REGISTRY_JSON_PATH,
    MOBILECONFIG_IDENTIFIER_PREFIX,
    WINDOWS_REGISTRY_JSON_DIR,
    WINDOWS_REGISTRY_JSON_PATH,
    WINDOWS_REGISTRY_KEY,
    WINDOWS_REGISTRY_KEY_PS,
    WINDOWS_REGISTRY_KEY_REG_EXE,
    WINDOWS_REGISTRY_VALUE_NAME,
    AllowedOrgs,
    mobileconfig_uuids,
    registry_json,
)
from signin.shell import bash_quote, cmd_safe, powershell_quote

_WINDOWS_INSTALLER_RELATIVE = ".\\Docker Desktop Installer.exe"

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
