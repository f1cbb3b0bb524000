"""Ask the decision engine whether a user may pull an image; print the decision as JSON.

The JSON has ``allowed`` (whether the policy allows the pull), ``enforced`` (false when the
deciding organisation is in audit-only mode: its refusal is recorded, not applied), ``outcome``
(``allowed``, ``blocked`` or ``would_block``), ``category``, ``reference``, ``organization`` (the
deciding one), ``rule`` (which rule decided, see :class:`policies.engine.Rule`) and ``reason``.
With ``--request-exception "justification"`` a refused pull (blocked or would-block) also asks the
refusing organisation's owners for an exception, and the JSON gains ``exception_request``.

Exit status, as the registry would act: 0 pulled (allowed, or would-block in audit-only mode),
3 blocked, 2 unknown user, invalid reference or a request that cannot be made (message on
stderr).
"""

import json
import sys

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from orgs.models import Organization
from policies.engine import pull_decide
from policies.exceptions.services import exception_request_create
from policies.references import InvalidReference, parse_reference
from policies.selectors import pull_snapshot

EXIT_ALLOWED, EXIT_USAGE, EXIT_BLOCKED = 0, 2, 3


class Command(BaseCommand):
    help = (
        "Decide whether USERNAME may pull REFERENCE; prints JSON, exits 0 pulled (allowed or "
        "would-block in audit-only mode) / 3 blocked."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("reference")
        parser.add_argument(
            "--request-exception",
            metavar="JUSTIFICATION",
            help="if the pull is refused, ask the refusing organization's owners for an "
            "exception, with this justification",
        )

    def handle(self, *args, username, reference, request_exception, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            self.fail(f"Unknown user '{username}'.")
        try:
            parsed = parse_reference(reference)
        except InvalidReference as error:
            self.fail(str(error))
        decision = pull_decide(pull_snapshot(user=user, references=[parsed]), parsed)
        result = decision.as_dict()
        if request_exception is not None:
            if decision.allowed:
                self.stderr.write("The pull is allowed: no exception is needed.")
            else:
                try:
                    request = exception_request_create(
                        organization=Organization.objects.get(name=decision.organization),
                        requester=user,
                        reference=parsed,
                        justification=request_exception,
                        on_mail_failure=lambda mail: self.stderr.write(
                            "The request was saved, but the e-mail to "
                            f"{decision.organization}'s owners could not be sent."
                        ),
                    )
                except ValidationError as error:
                    self.fail(" ".join(error.messages))
                result["exception_request"] = {
                    "id": request.pk,
                    "organization": decision.organization,
                    "repository": request.repository,
                    "status": request.status,
                }
        self.stdout.write(json.dumps(result))
        sys.exit(EXIT_ALLOWED if decision.granted else EXIT_BLOCKED)

    def fail(self, message: str):
        self.stderr.write(message)
        sys.exit(EXIT_USAGE)
