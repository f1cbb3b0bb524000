"""Template context for every page."""

import functools

from django.conf import settings

from orgs.invitations.selectors import pending_invitation_count


def invitations(request) -> dict:
    """``pending_invitation_count`` (for the notice on every page: a callable, so the one
    query runs only when a page shows it, and at most once) and ``signup_open``."""
    context = {"signup_open": settings.SIGNUP_OPEN}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        context["pending_invitation_count"] = functools.cache(
            lambda: pending_invitation_count(user=user)
        )
    return context
