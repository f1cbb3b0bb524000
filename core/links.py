"""Absolute links to the portal, for e-mails: built from the configured ``SITE_URL``, never
from a request's ``Host`` header (which a client chooses, port included)."""

from django.conf import settings


def site_url(path: str) -> str:
    """The absolute URL of ``path`` (``/invitations/...``) on the portal, e.g.
    ``https://portal.example.com/invitations/...``."""
    return settings.SITE_URL + "/" + path.lstrip("/")
