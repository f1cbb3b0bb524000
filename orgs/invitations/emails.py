"""The invitation e-mail, sent through Django's e-mail framework (``EMAIL_URL``)."""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from orgs.models import Invitation


def send_invitation_email(*, invitation: Invitation, recipient: str, link: str) -> None:
    """Send ``recipient`` the invitation with its link; raises what the e-mail backend raises
    (``OSError`` or ``smtplib.SMTPException``) when it cannot be sent."""
    context = {
        "invitation": invitation,
        "organization": invitation.team.organization,
        "team": invitation.team,
        "link": link,
        "ttl_days": settings.INVITATION_TTL_DAYS,
    }
    subject = render_to_string("orgs/email/invitation_subject.txt", context)
    send_mail(
        subject=" ".join(subject.split()),
        message=render_to_string("orgs/email/invitation_body.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[recipient],
    )
