"""Ask the decision engine whether a user may pull an image; print the decision as JSON.

Exit status: 0 allowed, 3 blocked, 2 unknown user or invalid reference (message on stderr).
"""

import json
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from policies.engine import pull_decide
from policies.references import InvalidReference, parse_reference
from policies.selectors import pull_snapshot

EXIT_ALLOWED, EXIT_USAGE, EXIT_BLOCKED = 0, 2, 3


class Command(BaseCommand):
    help = "Decide whether USERNAME may pull REFERENCE; prints JSON, exits 0 allowed / 3 blocked."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("reference")

    def handle(self, *args, username, reference, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            self.stderr.write(f"Unknown user '{username}'.")
            sys.exit(EXIT_USAGE)
        try:
            parsed = parse_reference(reference)
        except InvalidReference as error:
            self.stderr.write(str(error))
            sys.exit(EXIT_USAGE)
        decision = pull_decide(pull_snapshot(user=user, references=[parsed]), parsed)
        self.stdout.write(json.dumps(decision.as_dict()))
        sys.exit(EXIT_ALLOWED if decision.allowed else EXIT_BLOCKED)
