"""E-mail backends for tests (``settings.EMAIL_BACKEND = "tests.mail_backends.Failing"``)."""

import smtplib

from django.core.mail.backends.base import BaseEmailBackend


class Failing(BaseEmailBackend):
    """A mail server that is down: every send raises what smtplib raises then."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed (test backend)")
