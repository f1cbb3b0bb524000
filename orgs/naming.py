"""The organisation-name rule, shared by forms, services, commands and shell rendering.

Docker Hub namespaces are 4 to 30 characters of lowercase letters and digits. A name that
breaks the rule is refused as typed: never lower-cased, trimmed or otherwise repaired.
"""

import re

ORG_NAME_MIN_LENGTH = 4
ORG_NAME_MAX_LENGTH = 30
ORG_NAME_RE = re.compile(r"[a-z0-9]{4,30}")


class InvalidOrgName(ValueError):
    """Raised when a string is not a valid organisation name; the message says why."""


def org_name_error(name: str) -> str | None:
    """Return why ``name`` is not a valid organisation name, or ``None`` when it is."""
    if name == "":
        return "Organization name is required."
    if len(name) < ORG_NAME_MIN_LENGTH or len(name) > ORG_NAME_MAX_LENGTH:
        return (
            f"Organization name must be {ORG_NAME_MIN_LENGTH} to {ORG_NAME_MAX_LENGTH} "
            f"characters long (got {len(name)})."
        )
    if ORG_NAME_RE.fullmatch(name) is None:
        return "Organization name may contain only lowercase letters (a-z) and digits (0-9)."
    return None
