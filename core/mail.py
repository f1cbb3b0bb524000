"""The one way the portal sends e-mail (invitations, exception requests and their answers).

A mail announces something already saved, which the portal also shows, so:

* its subject and body come from templates, ``<name>_subject.txt`` and ``<name>_body.txt``
  (:func:`render_mail`);
* it is sent only once the transaction that saved it commits (:func:`send_after_commit`): a
  change that rolls back sends nothing, and no row stays locked while the mail server answers;
* a mail that cannot be sent never fails the request: the failure is logged (the subject and the
  number of recipients, not their addresses) and handed to ``on_failure``, through which a view
  warns the person who triggered it (:class:`MailFailureWarning`).

Django's e-mail settings (``EMAIL_URL``) choose how mail leaves.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mail:
    """One rendered e-mail and its recipients."""

    subject: str
    body: str
    recipients: tuple[str, ...]


#: Called with the mail that could not be sent (after it was logged).
OnFailure = Callable[[Mail], None]


def render_mail(template: str, context: dict, recipients: Iterable[str]) -> Mail:
    """Render ``<template>_subject.txt`` (on one line) and ``<template>_body.txt`` (ending with
    one line break) with ``context`` for ``recipients``. The templates turn autoescaping off
    themselves: a mail is plain text."""
    subject = render_to_string(f"{template}_subject.txt", context)
    return Mail(
        subject=" ".join(subject.split()),
        body=render_to_string(f"{template}_body.txt", context).rstrip("\n") + "\n",
        recipients=tuple(recipients),
    )


def send_after_commit(mail: Mail, *, on_failure: OnFailure | None = None) -> None:
    """Send ``mail`` once the current transaction commits (at once outside a transaction);
    never if it rolls back. A mail without recipients is not sent."""
    if mail.recipients:
        transaction.on_commit(partial(send_now, mail, on_failure=on_failure))


def send_now(mail: Mail, *, on_failure: OnFailure | None = None) -> bool:
    """Send ``mail``; whether it was sent. Whatever the e-mail backend raises (``OSError``,
    ``smtplib.SMTPException``, a bad header, ...) is logged and reported to ``on_failure``."""
    try:
        send_mail(mail.subject, mail.body, settings.DEFAULT_FROM_EMAIL, list(mail.recipients))
    except Exception:
        logger.exception("Could not send %r to %d recipient(s)", mail.subject, len(mail.recipients))
        if on_failure is not None:
            on_failure(mail)
        return False
    return True


class MailFailureWarning:
    """For a :class:`~core.mixins.ServiceFormView` whose service sends a mail: pass
    ``on_failure=self.mail_not_sent`` to the service; when the mail could not be sent, the page
    after the success message also shows the warning :meth:`get_mail_failure_message` says."""

    mail_failure_message = ""
    unsent_mail: Mail | None = None

    def mail_not_sent(self, mail: Mail) -> None:
        self.unsent_mail = mail

    def get_mail_failure_message(self, result) -> str:
        return self.mail_failure_message.format(result=result)

    def succeeded(self, result):
        response = super().succeeded(result)
        if self.unsent_mail is not None:
            messages.warning(self.request, self.get_mail_failure_message(result))
        return response
