"""Print the registry.json that makes Docker Desktop enforce sign-in to the given orgs."""

import sys

from django.core.management.base import BaseCommand, CommandError

from orgs.models import Organization
from orgs.naming import InvalidOrgName
from signin.files import InvalidOrgList, allowed_orgs, registry_json


class Command(BaseCommand):
    help = 'Print registry.json ({"allowedOrgs": [...]}) for one or more organizations.'

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="+", metavar="NAME")

    def handle(self, *args, names, **options):
        try:
            orgs = allowed_orgs(names)
        except (InvalidOrgName, InvalidOrgList) as error:
            raise CommandError(str(error)) from None
        known = set(Organization.objects.filter(name__in=names).values_list("name", flat=True))
        unknown = [name for name in names if name not in known]
        if unknown:
            raise CommandError(f"Unknown organization(s): {', '.join(unknown)}.")
        content = registry_json(orgs)
        # The exact bytes of the download: no trailing newline, no BOM.
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
