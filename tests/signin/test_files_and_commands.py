"""Tests for signin.files, signin.shell and signin.instructions: registry.json, .reg,
.mobileconfig, quoting and the per-OS commands.

The Linux and macOS commands are run by real shells here. The Windows commands cannot run on
this machine: their exact-text tests (named ``..._change_detector``) only restate the text, so
that any change to it is deliberate and reviewed against Docker's documentation.
"""

import json
import pathlib
import plistlib
import re
import shutil
import subprocess
import sys
import uuid

import pytest

from orgs.naming import InvalidOrgName
from signin.files import (
    LINUX_REGISTRY_JSON_DIR,
    LINUX_REGISTRY_JSON_PATH,
    MACOS_REGISTRY_JSON_DIR,
    MACOS_REGISTRY_JSON_PATH,
    AllowedOrgs,
    InvalidOrgList,
    allowed_orgs,
    macos_mobileconfig,
    mobileconfig_uuids,
    registry_json,
    windows_reg_file,
)
from signin.instructions import (
    Method,
    OsInstructions,
    install_instructions,
    instructions_for,
    os_from_user_agent,
)
from signin.shell import (
    cmd_safe,
    powershell_quote,
)
from tests.conftest import require_tool

ONE = AllowedOrgs(("acme",))
SEVERAL = AllowedOrgs(("acme", "globex", "initech42"))


def orgs(*names: str) -> AllowedOrgs:
    return allowed_orgs(names)


BAD_NAMES = [
    "Acme",
    "ac",
    "acme; rm -rf /",
    "a'b",
    "$(id)",
    "`id`",
    "acme\n",
    " acme",
    "",
    "a" * 31,
    "acme-corp",
    "ácme",
]

IDENTIFIER_UUID = uuid.UUID("0deedb64-7dc9-46e5-b6bf-69d64a9561ce")
PAYLOAD_UUID = uuid.UUID("eed295b0-a650-40b0-9dda-90efb12be3c7")


def method(instructions: OsInstructions, key: str) -> Method:
    matches = [m for m in instructions.methods if m.key == key]
    assert len(matches) == 1, [m.key for m in instructions.methods]
    return matches[0]


# --------------------------------------------------------------------------------------------
# registry.json
# --------------------------------------------------------------------------------------------


def test_registry_json_one_org_exact_bytes():
    content = registry_json(orgs("acme"))
    assert content == b'{"allowedOrgs":["acme"]}'
    assert json.loads(content) == {"allowedOrgs": ["acme"]}


def test_registry_json_several_orgs_exact_bytes_keeps_order():
    assert registry_json(orgs("acme", "globex")) == b'{"allowedOrgs":["acme","globex"]}'
    assert registry_json(orgs("globex", "acme")) == b'{"allowedOrgs":["globex","acme"]}'


def test_registry_json_has_no_bom_and_no_trailing_newline():
    for allowed in (ONE, SEVERAL):
        content = registry_json(allowed)
        assert not content.startswith(b"\xef\xbb\xbf")
        assert not content.endswith(b"\n")
        assert content.decode("ascii")  # plain ASCII, hence UTF-8 without BOM


def test_name_length_limits():
    assert registry_json(orgs("a" * 4, "9" * 30)) == (
        b'{"allowedOrgs":["aaaa","999999999999999999999999999999"]}'
    )


@pytest.mark.parametrize("bad", BAD_NAMES)
def test_allowed_orgs_refuses_bad_names(bad):
    with pytest.raises(InvalidOrgName) as excinfo:
        allowed_orgs(["acme", bad])
    assert "Organization 2" in str(excinfo.value)


def test_bad_name_message_says_why():
    with pytest.raises(InvalidOrgName, match="lowercase letters"):
        allowed_orgs(["Acme"])
    with pytest.raises(InvalidOrgName, match="4 to 30"):
        allowed_orgs(["ac"])


def test_allowed_orgs_refuses_an_empty_list_and_duplicates():
    with pytest.raises(InvalidOrgList, match="At least one organization"):
        allowed_orgs([])
    with pytest.raises(InvalidOrgList, match="'acme' is listed more than once"):
        allowed_orgs(["acme", "globex", "acme"])
    assert allowed_orgs(["globex", "acme"]).names == ("globex", "acme")


# --------------------------------------------------------------------------------------------
# Quoting helpers
# --------------------------------------------------------------------------------------------

HOSTILE = [
    "a'b",
    "'",
    "''",
    "$(id)",
    "`id`",
    "${HOME}",
    "; rm -rf /",
    "a && b || c",
    "a\nb",
    "tab\there",
    '"double"',
    "back\\slash",
    "*",
    "~root",
    "-n",
    "!!",
    "%PATH%",
    "\u2018smart\u2019",
    "\u201alow\u201b",
    "",
    " ",
    "ünïcødé",
]


def _powershell_unquote(literal: str) -> str:
    """Independent decoder of a PowerShell verbatim string (quote chars come in pairs)."""
    quotes = "'\u2018\u2019\u201a\u201b"
    assert literal[0] == "'" and literal[-1] == "'"
    body = literal[1:-1]
    out = []
    index = 0
    while index < len(body):
        char = body[index]
        if char in quotes:
            # A lone quote character would end the string early: must be doubled.
            assert index + 1 < len(body) and body[index + 1] == char, literal
            index += 2
        else:
            index += 1
        out.append(char)
    return "".join(out)


@pytest.mark.parametrize("value", HOSTILE)
def test_powershell_quote_round_trips(value):
    assert _powershell_unquote(powershell_quote(value)) == value


def test_powershell_quote_literals():
    assert powershell_quote("acme") == "'acme'"
    assert powershell_quote("a'b") == "'a''b'"
    assert powershell_quote("$(id)") == "'$(id)'"
    assert powershell_quote("`n") == "'`n'"
    assert powershell_quote("\u2019") == "'\u2019\u2019'"
    assert powershell_quote("") == "''"
    with pytest.raises(ValueError):
        powershell_quote("a\x00b")


@pytest.mark.parametrize("value", ["acme", "initech42", "docker-desktop-allowed-orgs.reg"])
def test_cmd_safe_accepts(value):
    assert cmd_safe(value) == value


@pytest.mark.parametrize(
    "value", ["a&b", "%PATH%", "!x!", "a b", '"', "a^b", "a|b", "a>b", "(a)", "", "-rf", "a\nb"]
)
def test_cmd_safe_refuses(value):
    with pytest.raises(ValueError):
        cmd_safe(value)


# --------------------------------------------------------------------------------------------
# Linux and macOS commands, executed for real
# --------------------------------------------------------------------------------------------

POSIX_CASES = [
    ("linux", LINUX_REGISTRY_JSON_DIR, LINUX_REGISTRY_JSON_PATH),
    ("macos", MACOS_REGISTRY_JSON_DIR, MACOS_REGISTRY_JSON_PATH),
]


def run_here(shell: str, text: str, directory: str, fake_directory: str, cwd) -> bytes:
    """Run ``text`` as the page gives it, without ``sudo`` and inside ``fake_directory``."""
    assert "sudo " in text
    text = text.replace("sudo ", "")
    assert "sudo" not in text
    assert directory in text
    text = text.replace(directory, fake_directory)
    assert directory not in text.replace(fake_directory, "")
    result = subprocess.run(
        [shell, "-c", "umask 022; " + text], cwd=cwd, capture_output=True, check=True
    )
    assert result.stderr == b""
    return result.stdout


@pytest.mark.parametrize("shell", ["bash", "sh", "zsh"])
@pytest.mark.parametrize("allowed", [ONE, SEVERAL], ids=["one", "several"])
@pytest.mark.parametrize(("os_key", "directory", "path"), POSIX_CASES, ids=["linux", "macos"])
def test_registry_json_commands_write_the_download_byte_for_byte_and_check_it(
    tmp_path, shell, allowed, os_key, directory, path
):
    require_tool(shutil.which(shell) is not None, shell)
    assert re.fullmatch(r"[A-Za-z0-9_./-]+", str(tmp_path)), "tmp_path must need no quoting"
    fake_directory = str(tmp_path) + directory
    fake_path = str(tmp_path) + path
    file_method = method(instructions_for(os_key, allowed), "registry-json")
    assert file_method.action.shell == file_method.verify.shell

    out = run_here(shell, file_method.action.text, directory, fake_directory, tmp_path)
    assert out == b""  # > /dev/null: tee does not echo the JSON

    written = pathlib.Path(fake_path).read_bytes()
    assert written == registry_json(allowed)
    assert json.loads(written) == {"allowedOrgs": list(allowed.names)}

    checked = run_here(shell, file_method.verify.text, directory, fake_directory, tmp_path)
    cat_line, ls_line = checked.decode().splitlines()
    expected_cat, expected_ls = file_method.verify.expected_output.splitlines()
    assert cat_line == expected_cat == written.decode()
    # ls -l: the mode, the size and the path are as the page says; owner and date vary.
    mode, size = ls_line.split()[0], ls_line.split()[4]
    assert (mode, size) == (expected_ls.split()[0], expected_ls.split()[4])
    assert (mode, size) == ("-rw-r--r--", str(len(written)))
    assert ls_line.endswith(fake_path)
    assert expected_ls.endswith(" <date> " + path)


def test_macos_installer_check_reads_what_the_installer_writes(tmp_path):
    """The installer writes registry.json; the installer method's check prints exactly the
    JSON, like the registry.json method's first line."""
    macos = instructions_for("macos", ONE)
    fake_directory = str(tmp_path) + MACOS_REGISTRY_JSON_DIR
    pathlib.Path(fake_directory).mkdir(parents=True)
    (pathlib.Path(fake_directory) / "registry.json").write_bytes(registry_json(ONE))
    verify = method(macos, "installer").verify
    out = run_here(
        "zsh" if shutil.which("zsh") else "bash",
        verify.text,
        MACOS_REGISTRY_JSON_DIR,
        fake_directory,
        tmp_path,
    )
    assert out.decode() == verify.expected_output + "\n"


def test_commands_overwrite_an_existing_file(tmp_path):
    target = pathlib.Path(str(tmp_path) + LINUX_REGISTRY_JSON_PATH)
    target.parent.mkdir(parents=True)
    target.write_bytes(b'{"allowedOrgs":["someoldorgwithalongername"]}\n')
    action = method(instructions_for("linux", ONE), "registry-json").action
    run_here(
        "bash",
        action.text,
        LINUX_REGISTRY_JSON_DIR,
        str(tmp_path) + LINUX_REGISTRY_JSON_DIR,
        tmp_path,
    )
    assert target.read_bytes() == b'{"allowedOrgs":["acme"]}'


def test_linux_commands_exact_text():
    linux = instructions_for("linux", orgs("acme", "globex"))
    assert linux.os_key == "linux"
    assert [m.key for m in linux.methods] == ["registry-json"]
    file_method = linux.recommended
    assert file_method.action.text == (
        "sudo mkdir -p /usr/share/docker-desktop/registry\n"
        'printf \'%s\' \'{"allowedOrgs":["acme","globex"]}\''
        " | sudo tee /usr/share/docker-desktop/registry/registry.json > /dev/null"
    )
    assert file_method.verify.text == (
        "sudo cat /usr/share/docker-desktop/registry/registry.json; echo\n"
        "sudo ls -l /usr/share/docker-desktop/registry/registry.json"
    )
    assert file_method.verify.expected_output == (
        '{"allowedOrgs":["acme","globex"]}\n'
        "-rw-r--r-- 1 root root 33 <date> /usr/share/docker-desktop/registry/registry.json"
    )
    assert file_method.also_download == "registry.json" and file_method.download is None
    assert {file_method.action.shell, file_method.verify.shell} == {"bash"}


def test_macos_commands_exact_text_one_org():
    macos = instructions_for("macos", orgs("acme"))
    assert [m.key for m in macos.methods] == [
        "configuration-profile",
        "registry-json",
        "installer",
    ]
    profile = macos.recommended
    assert profile.download == "mobileconfig" and profile.action is None
    assert "MDM" in profile.how
    identifier = f"com.docker.desktop.enforce-sign-in.{mobileconfig_uuids(ONE)[0]}"
    assert profile.verify.text == f"sudo profiles list | grep -F {identifier}"
    assert profile.verify.expected_output == (
        f"_computerlevel[1] attribute: profileIdentifier: {identifier}"
    )
    profile_file = plistlib.loads(
        macos_mobileconfig(
            ONE, identifier_uuid=mobileconfig_uuids(ONE)[0], payload_uuid=mobileconfig_uuids(ONE)[1]
        )
    )
    assert profile_file["PayloadIdentifier"] == identifier  # the check looks for the download

    file_method = method(macos, "registry-json")
    assert file_method.action.text == (
        "sudo mkdir -p '/Library/Application Support/com.docker.docker'\n"
        "printf '%s' '{\"allowedOrgs\":[\"acme\"]}'"
        " | sudo tee '/Library/Application Support/com.docker.docker/registry.json' > /dev/null"
    )
    assert file_method.verify.expected_output == (
        '{"allowedOrgs":["acme"]}\n'
        "-rw-r--r--  1 root  admin  24 <date> "
        "/Library/Application Support/com.docker.docker/registry.json"
    )
    installer = method(macos, "installer")
    assert installer.action.text == (
        "sudo hdiutil attach Docker.dmg\n"
        "sudo /Volumes/Docker/Docker.app/Contents/MacOS/install --allowed-org=acme\n"
        "sudo hdiutil detach /Volumes/Docker"
    )
    assert installer.verify.text == (
        "sudo cat '/Library/Application Support/com.docker.docker/registry.json'; echo"
    )
    assert {c.shell for m in macos.methods for c in (m.action, m.verify) if c} == {"zsh"}


def test_several_orgs_leave_out_the_installer_flag():
    for instructions in install_instructions(SEVERAL):
        assert "installer" not in [m.key for m in instructions.methods]
        for each in instructions.methods:
            for command in (each.action, each.verify):
                assert command is None or "--allowed-org" not in command.text


def test_each_os_leads_with_the_method_that_takes_precedence():
    result = install_instructions(ONE)
    assert [i.os_key for i in result] == ["windows", "macos", "linux"]
    assert [i.title for i in result] == ["Windows", "macOS", "Linux"]
    assert [i.recommended.key for i in result] == [
        "registry-key",
        "configuration-profile",
        "registry-json",
    ]
    for instructions in result:
        for each in instructions.methods:
            # One download or one block of commands, and one check.
            assert (each.download is None) != (each.action is None)
            assert each.verify.text
    with pytest.raises(ValueError):
        instructions_for("solaris", ONE)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("user_agent", "os_key"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36",
            "windows",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) Version/18.1 Safari/605.1.15",
            "macos",
        ),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "linux"),
        ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64) HeadlessChrome/131.0.0.0", "linux"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
            "windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36",
            "windows",
        ),
        ("curl/8.5.0", "windows"),
        ("", "windows"),
    ],
)
def test_os_from_user_agent(user_agent, os_key):
    assert os_from_user_agent(user_agent) == os_key


# --------------------------------------------------------------------------------------------
# Windows commands
# --------------------------------------------------------------------------------------------


def test_windows_commands_one_org_change_detector():
    windows = instructions_for("windows", orgs("acme"))
    assert [m.key for m in windows.methods] == ["registry-key", "registry-json", "installer"]
    assert {c.shell for m in windows.methods for c in (m.action, m.verify)} == {"powershell"}

    registry = windows.recommended
    assert registry.also_download == "reg"
    assert registry.action.text == (
        "if (-not (Test-Path -LiteralPath 'HKLM:\\SOFTWARE\\Policies\\Docker\\Docker Desktop'))"
        " { New-Item -Path 'HKLM:\\SOFTWARE\\Policies\\Docker\\Docker Desktop' -Force"
        " | Out-Null }\n"
        "New-ItemProperty -Path 'HKLM:\\SOFTWARE\\Policies\\Docker\\Docker Desktop'"
        " -Name 'allowedOrgs' -PropertyType MultiString -Value @('acme') -Force | Out-Null"
    )
    assert registry.verify.text == (
        'reg query "HKLM\\SOFTWARE\\Policies\\Docker\\Docker Desktop" /v allowedOrgs'
    )
    assert registry.verify.expected_output == (
        "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Docker\\Docker Desktop\n"
        "    allowedOrgs    REG_MULTI_SZ    acme"
    )

    file_method = method(windows, "registry-json")
    assert file_method.action.text == (
        "New-Item -ItemType Directory -Force -Path 'C:\\ProgramData\\DockerDesktop' | Out-Null\n"
        "Set-Content -Path 'C:\\ProgramData\\DockerDesktop\\registry.json'"
        ' -Value \'{"allowedOrgs":["acme"]}\' -Encoding ascii -NoNewline'
    )
    assert file_method.verify.text == (
        "Get-Content -Raw -Path 'C:\\ProgramData\\DockerDesktop\\registry.json'\n"
        "(Get-Item -Path 'C:\\ProgramData\\DockerDesktop\\registry.json').Length\n"
        "(Get-Acl -Path 'C:\\ProgramData\\DockerDesktop\\registry.json').Owner"
    )
    assert file_method.verify.expected_output == (
        '{"allowedOrgs":["acme"]}\n24\nBUILTIN\\Administrators'
    )

    installer = method(windows, "installer")
    assert installer.action.text == (
        "Start-Process '.\\Docker Desktop Installer.exe' -Wait 'install --allowed-org=acme'"
    )
    assert installer.verify.text == (
        "Get-Content -Raw -Path 'C:\\ProgramData\\DockerDesktop\\registry.json'"
    )


def test_windows_commands_several_orgs_change_detector():
    windows = instructions_for("windows", orgs("acme", "globex"))
    assert [m.key for m in windows.methods] == ["registry-key", "registry-json"]
    assert windows.recommended.action.text.endswith(
        "New-ItemProperty -Path 'HKLM:\\SOFTWARE\\Policies\\Docker\\Docker Desktop'"
        " -Name 'allowedOrgs' -PropertyType MultiString -Value @('acme','globex') -Force"
        " | Out-Null"
    )
    assert windows.recommended.verify.expected_output.endswith("REG_MULTI_SZ    acme\\0globex")
    file_method = method(windows, "registry-json")
    assert file_method.action.text.endswith(
        "Set-Content -Path 'C:\\ProgramData\\DockerDesktop\\registry.json'"
        ' -Value \'{"allowedOrgs":["acme","globex"]}\' -Encoding ascii -NoNewline'
    )
    assert file_method.verify.expected_output.splitlines()[1] == "33"


def test_windows_paths_are_absolute():
    """``/ProgramData/...`` in PowerShell is relative to the current drive: every path the
    Windows commands name is ``C:\\ProgramData\\...``."""
    for allowed in (ONE, SEVERAL):
        for each in instructions_for("windows", allowed).methods:
            for command in (each.action, each.verify):
                assert "/ProgramData" not in command.text
                for line in command.text.splitlines():
                    if "ProgramData" in line:
                        assert "'C:\\ProgramData\\DockerDesktop" in line, line


def test_windows_set_content_value_decodes_to_the_download():
    action = method(instructions_for("windows", SEVERAL), "registry-json").action
    literal = re.search(r"-Value ('(?:[^']|'')*')", action.text).group(1)
    assert _powershell_unquote(literal).encode("ascii") == registry_json(SEVERAL)


# --------------------------------------------------------------------------------------------
# .reg file
# --------------------------------------------------------------------------------------------


def _reg_bytes(text: str) -> bytes:
    return b"\xff\xfe" + text.encode("utf-16-le")


def test_reg_file_one_org_exact_bytes():
    assert windows_reg_file(orgs("acme")) == _reg_bytes(
        "Windows Registry Editor Version 5.00\r\n"
        "\r\n"
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Docker\\Docker Desktop]\r\n"
        '"allowedOrgs"=hex(7):61,00,63,00,6d,00,65,00,00,00,00,00\r\n'
        "\r\n"
    )


def test_reg_file_several_orgs_exact_bytes_wrapped_like_regedit():
    assert windows_reg_file(orgs("acme", "globex")) == _reg_bytes(
        "Windows Registry Editor Version 5.00\r\n"
        "\r\n"
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Docker\\Docker Desktop]\r\n"
        '"allowedOrgs"=hex(7):61,00,63,00,6d,00,65,00,00,00,67,00,6c,00,6f,00,62,00,65,\\\r\n'
        "  00,78,00,00,00,00,00\r\n"
        "\r\n"
    )


def _parse_multi_sz(reg: bytes) -> list[str]:
    assert reg.startswith(b"\xff\xfe")
    text = reg[2:].decode("utf-16-le")
    assert "\n" not in text.replace("\r\n", "")
    assert text.startswith("Windows Registry Editor Version 5.00\r\n")
    logical_lines = text.replace("\\\r\n  ", "").split("\r\n")
    [hex_data] = [
        match.group(1)
        for line in logical_lines
        if (match := re.fullmatch(r'"allowedOrgs"=hex\(7\):([0-9a-f,]+)', line))
    ]
    data = bytes(int(h, 16) for h in hex_data.split(","))
    assert data.endswith(b"\x00\x00\x00\x00")
    decoded = data.decode("utf-16-le")
    assert decoded.endswith("\x00\x00")
    return decoded[:-2].split("\x00")


def test_reg_file_round_trips_and_lines_fit_80_columns():
    for allowed in (ONE, SEVERAL, orgs("a" * 30, "b" * 30, "c" * 30, "d" * 30)):
        reg = windows_reg_file(allowed)
        assert _parse_multi_sz(reg) == list(allowed.names)
        physical = reg[2:].decode("utf-16-le").split("\r\n")
        assert all(len(line) <= 80 for line in physical), physical


# --------------------------------------------------------------------------------------------
# .mobileconfig
# --------------------------------------------------------------------------------------------

EXPECTED_MOBILECONFIG = """\
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
\t<key>PayloadContent</key>
\t<array>
\t\t<dict>
\t\t\t<key>PayloadType</key>
\t\t\t<string>com.docker.config</string>
\t\t\t<key>PayloadVersion</key>
\t\t\t<integer>1</integer>
\t\t\t<key>PayloadIdentifier</key>
\t\t\t<string>com.docker.desktop.enforce-sign-in.0deedb64-7dc9-46e5-b6bf-69d64a9561ce.com.docker.config</string>
\t\t\t<key>PayloadUUID</key>
\t\t\t<string>eed295b0-a650-40b0-9dda-90efb12be3c7</string>
\t\t\t<key>PayloadDisplayName</key>
\t\t\t<string>Docker Desktop Configuration</string>
\t\t\t<key>PayloadDescription</key>
\t\t\t<string>Configuration profile to manage Docker Desktop settings.</string>
\t\t\t<key>allowedOrgs</key>
\t\t\t<string>acme;globex</string>
\t\t</dict>
\t</array>
\t<key>PayloadType</key>
\t<string>Configuration</string>
\t<key>PayloadVersion</key>
\t<integer>1</integer>
\t<key>PayloadIdentifier</key>
\t<string>com.docker.desktop.enforce-sign-in.0deedb64-7dc9-46e5-b6bf-69d64a9561ce</string>
\t<key>PayloadUUID</key>
\t<string>0deedb64-7dc9-46e5-b6bf-69d64a9561ce</string>
\t<key>PayloadScope</key>
\t<string>System</string>
\t<key>PayloadDisplayName</key>
\t<string>Docker Desktop sign-in enforcement</string>
\t<key>PayloadDescription</key>
\t<string>Requires Docker Desktop users to sign in as a member of: acme, globex.</string>
</dict>
</plist>
"""  # noqa: E501


def test_mobileconfig_exact_text():
    content = macos_mobileconfig(
        orgs("acme", "globex"), identifier_uuid=IDENTIFIER_UUID, payload_uuid=PAYLOAD_UUID
    )
    assert content.decode("utf-8") == EXPECTED_MOBILECONFIG


@pytest.mark.parametrize("allowed", [ONE, SEVERAL], ids=["one", "several"])
def test_mobileconfig_payload_type_key_and_value(allowed):
    profile = plistlib.loads(
        macos_mobileconfig(allowed, identifier_uuid=IDENTIFIER_UUID, payload_uuid=PAYLOAD_UUID)
    )
    assert profile["PayloadType"] == "Configuration"
    assert profile["PayloadVersion"] == 1
    assert profile["PayloadUUID"] == str(IDENTIFIER_UUID)
    [payload] = profile["PayloadContent"]
    assert payload["PayloadType"] == "com.docker.config"
    assert payload["PayloadUUID"] == str(PAYLOAD_UUID)
    assert isinstance(payload["allowedOrgs"], str)
    assert payload["allowedOrgs"] == ";".join(allowed.names)
    assert payload["PayloadIdentifier"].startswith(profile["PayloadIdentifier"] + ".")


def test_mobileconfig_uuids_are_deterministic_uuid5():
    first = mobileconfig_uuids(SEVERAL)
    assert first == mobileconfig_uuids(allowed_orgs(list(SEVERAL.names)))
    assert all(value.version == 5 for value in first)
    assert first[0] != first[1]
    assert mobileconfig_uuids(ONE) != first


# --------------------------------------------------------------------------------------------
# Documentation facts
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["signin.files", "signin.shell", "signin.instructions"])
def test_module_is_pure(module):
    source = pathlib.Path(__import__(module, fromlist=["_"]).__file__).read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from|import)\s+django", source, re.MULTILINE)
    check = f"import sys, {module}; assert not any(m.startswith('django') for m in sys.modules)"
    subprocess.run([sys.executable, "-c", check], check=True, cwd=pathlib.Path(__file__).parents[2])
