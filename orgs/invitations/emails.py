"""The invitation e-mail: its body from ``templates/orgs/email/``, sent once the invitation is
saved (:mod:`core.mail`)."""

from django.conf import settings

from core.mail import OnFailure, render_mail, send_after_commit
from orgs.models import Invitation


def send_invitation_email(
    *, invitation: Invitation, recipient: str, link: str, on_failure: OnFailure | None = None
) -> None:
    """Send ``recipient`` the invitation with its link once the transaction commits;
    ``on_failure`` is called if it cannot be sent."""
    context = {
        "invitation": invitation,
        "organization": invitation.team.organization,
        "team": invitation.team,
        "link": link,
        "ttl_days": settings.INVITATION_TTL_DAYS,
    }
    mail = render_mail("orgs/email/invitation", context, [recipient])
    send_after_commit(mail, on_failure=on_failure)
