"""Template context for every page: the owners' inbox."""

import functools

from policies.exceptions.selectors import owner_inbox


def inbox(request) -> dict:
    """``owner_inbox``: what waits in the organisations the user owns (the counts on the top
    navigation and on each organisation's navigation and home), and ``org_inbox``: its row for
    the organisation the page is about (None when nothing waits there or the user does not own
    it). Callables, so the one query runs only when a page shows a count, and at most once."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    read = functools.cache(lambda: owner_inbox(user=user))

    def here():
        match = getattr(request, "resolver_match", None)
        name = match.kwargs.get("org") if match else None
        return read().of(name) if name else None

    return {"owner_inbox": read, "org_inbox": functools.cache(here)}
