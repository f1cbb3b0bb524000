"""When an allowlist entry applies is one rule with two forms: the engine's predicate
(:func:`policies.engine.entry_in_force`) and the database's filter
(:func:`policies.selectors.in_force`), which the token service, the Org Permissions page and the
impact preview read entries through. This table pins each to the rule and to each other, so
changing either one alone fails."""

from datetime import timedelta, timezone

import pytest
from django.utils import timezone as django_timezone

from policies.engine import entry_in_force
from policies.models import AllowlistEntry
from policies.selectors import in_force
from tests.factories import add_entry

US = timedelta(microseconds=1)
PARIS_SUMMER = timezone(timedelta(hours=2))

# (expires: None or an offset from the entry's expiry time, at: an offset from it, in force?)
IN_FORCE_TABLE = [
    ("never", -timedelta(days=1), True),
    ("never", timedelta(days=400), True),
    ("set", -timedelta(days=1), True),
    ("set", -US, True),
    ("set", timedelta(0), False),  # expires at that very moment: no longer applies
    ("set", US, False),
    ("set", timedelta(days=1), False),
    ("set, in another zone", -US, True),  # the same instant written with another offset
    ("set, in another zone", timedelta(0), False),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("expires", "at", "expected"), IN_FORCE_TABLE)
def test_the_engine_and_the_database_agree_on_when_an_entry_applies(acme, expires, at, expected):
    expiry = (django_timezone.now() + timedelta(days=30)).replace(microsecond=123456)
    entry = add_entry(
        acme.org,
        "someone/*",
        actor=acme.owner,
        expires_at=None if expires == "never" else expiry,
    )
    now = expiry + at
    if expires == "set, in another zone":
        now = now.astimezone(PARIS_SUMMER)
    in_database = AllowlistEntry.objects.filter(in_force(now), pk=entry.pk).exists()
    assert entry_in_force(entry.expires_at, now) is expected
    assert in_database is expected


def test_without_a_time_an_entry_with_an_expiry_never_applies():
    assert entry_in_force(None, None) is True
    assert entry_in_force(django_timezone.now() + timedelta(days=1), None) is False
