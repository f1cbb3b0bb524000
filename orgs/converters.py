"""URL converters: a path segment that cannot be an organisation, team or user name is a 404
before any view (or database) sees it."""

from orgs.models import TEAM_NAME_RE
from orgs.naming import ORG_NAME_RE


class OrganizationNameConverter:
    regex = ORG_NAME_RE.pattern

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class TeamNameConverter(OrganizationNameConverter):
    regex = TEAM_NAME_RE


class UsernameConverter(OrganizationNameConverter):
    # django.contrib.auth's UnicodeUsernameValidator, up to the field's 150 characters.
    regex = r"[\w.@+-]{1,150}"
