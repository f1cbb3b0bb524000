"""What the apps above ``orgs`` hold for a team: shown on the team's page, and said (and
recorded) when the team is deleted.

``orgs`` never imports those apps (the layers' rule); as in :mod:`orgs.namespaces`, each of
them registers a reader from its ``AppConfig.ready()``:

* :func:`team_section_register`: ``reader(team) -> TeamSection | None``, a section of the team's
  page (policies: the team's grant and its allowlist entries) that also says what goes with the
  team when it is deleted;
* :func:`team_deletion_register`: ``hook(team, actor)``, run by
  :func:`orgs.services.team_delete` inside its transaction before the team's rows go (policies:
  records the grant and entries removed in the settings history, as a new policy version).
"""

from collections.abc import Callable
from typing import NamedTuple


class TeamSection(NamedTuple):
    """A section of a team's page, from an app above ``orgs``: a title, its lines (``empty``
    when there are none), a link to where the owners change it, and ``deleted_with``: what
    goes when the team is deleted, in words ("" when nothing)."""

    title: str
    lines: tuple[str, ...]
    empty: str = ""
    link_text: str = ""
    link_url: str = ""
    deleted_with: str = ""


TeamSectionReader = Callable[[object], TeamSection | None]
TeamDeletionHook = Callable[[object, object], None]

_section_readers: list[TeamSectionReader] = []
_deletion_hooks: list[TeamDeletionHook] = []


def team_section_register(reader: TeamSectionReader) -> TeamSectionReader:
    """Register ``reader(team) -> TeamSection | None``. Idempotent; returns ``reader``."""
    if reader not in _section_readers:
        _section_readers.append(reader)
    return reader


def team_sections(team) -> list[TeamSection]:
    """Every registered app's section for ``team``, in the order the apps registered."""
    return [section for reader in _section_readers if (section := reader(team)) is not None]


def team_deletion_register(hook: TeamDeletionHook) -> TeamDeletionHook:
    """Register ``hook(team, actor)``, run before ``team`` is deleted, in the same transaction.
    Idempotent; returns ``hook``."""
    if hook not in _deletion_hooks:
        _deletion_hooks.append(hook)
    return hook


def team_deletion_hooks_run(team, actor) -> None:
    """Run every registered deletion hook for ``team`` (in the caller's transaction)."""
    for hook in _deletion_hooks:
        hook(team, actor)
