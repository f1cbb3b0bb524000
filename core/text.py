"""Client-controlled text: the one rule for control characters.

C0 controls and DEL never belong in a name, a search, a filter or a credential, and
PostgreSQL refuses NUL in any text parameter. Whatever reads such text checks it against
:data:`CONTROL_CHARACTERS` (refused, or replaced where the text is only recorded).
"""

import re

#: C0 control characters (U+0000 to U+001F) and DEL (U+007F).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def has_control_characters(value: str) -> bool:
    """Whether ``value`` holds a character of :data:`CONTROL_CHARACTERS`."""
    return CONTROL_CHARACTERS.search(value) is not None
