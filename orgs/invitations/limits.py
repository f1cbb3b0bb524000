"""How often invitations may be sent, and looked up (:mod:`core.ratelimit`, from settings).

* ``INVITATIONS_PER_ORGANIZATION_PER_HOUR``: invitations an organisation sends (clock hours);
* ``INVITATIONS_PER_ADDRESS_PER_DAY``: invitation e-mails one address receives, from every
  organisation (UTC days);
* ``INVITE_ATTEMPTS_PER_USER_PER_HOUR``: invite forms a user submits, whatever the answer:
  each one says whether a username exists, so this bounds how fast usernames can be learnt.

The count lives in the shared cache; while it is down no invitation is sent (fail closed).
"""

from django.conf import settings

from core import ratelimit

HOUR, DAY = 3600, 86400

UNAVAILABLE = (
    "Invitations can't be sent right now: the portal's rate-limit store (its shared cache) is "
    "unavailable. Try again later; if it keeps failing, site staff must check CACHE_URL."
)


def per_organization() -> ratelimit.RateLimit:
    return ratelimit.RateLimit(
        "invitations-org", settings.INVITATIONS_PER_ORGANIZATION_PER_HOUR, HOUR
    )


def per_address() -> ratelimit.RateLimit:
    return ratelimit.RateLimit("invitations-address", settings.INVITATIONS_PER_ADDRESS_PER_DAY, DAY)


def attempts_per_user() -> ratelimit.RateLimit:
    return ratelimit.RateLimit(
        "invitation-attempts", settings.INVITE_ATTEMPTS_PER_USER_PER_HOUR, HOUR
    )
