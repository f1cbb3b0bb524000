"""Quoting values for the shells the sign-in commands are pasted into: bash and zsh
(:func:`bash_quote`), PowerShell (:func:`powershell_quote`) and cmd.exe (:func:`cmd_safe`).

Pure module (no Django). Every value placed into a command goes through one of these, on top of
the organisation-name check in :func:`signin.files.allowed_orgs`.
"""

import re
import shlex


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
