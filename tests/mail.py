"""Helpers for the tests of the portal's mails (core.mail): a mail server that is down, and
mail templates of the test's own."""

import copy
import smtplib

from django.core.mail.backends.base import BaseEmailBackend

#: ``settings.EMAIL_BACKEND = FAILING``: every mail fails as with a mail server that is down.
FAILING = "tests.mail.Failing"


class Failing(BaseEmailBackend):
    """A mail server that is down: every send raises what smtplib raises then."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed (test backend)")


def use_templates(settings, directory, templates: dict[str, str]) -> None:
    """Write ``templates`` (``{name: text}``) into ``directory`` and put it ahead of the
    project's template directories, so that these win."""
    for name, text in templates.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    engines = copy.deepcopy(settings.TEMPLATES)
    engines[0]["DIRS"] = [directory, *engines[0]["DIRS"]]
    settings.TEMPLATES = engines
