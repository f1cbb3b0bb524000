"""The mails of exception requests: the owners are told of a new request, the requester of the
answer. Bodies from ``templates/policies/exceptions/emails/``, sent once the change is saved
(:mod:`core.mail`)."""

from django.contrib.auth import get_user_model
from django.urls import reverse

from core.mail import OnFailure, render_mail, send_after_commit
from orgs.models import OWNERS_TEAM
from policies.models import ExceptionRequest

TEMPLATES = "policies/exceptions/emails"


def notify_owners_of_request(
    *, request: ExceptionRequest, site_url: str = "", on_failure: OnFailure | None = None
) -> None:
    """E-mail the organisation's active owners who have an address about a new request, with
    the link to review it (absolute with ``site_url``)."""
    organization = request.organization
    owners = (
        get_user_model()
        .objects.filter(
            team_memberships__team__organization=organization,
            team_memberships__team__name=OWNERS_TEAM,
            is_active=True,
        )
        .exclude(email="")
        .order_by("username")
        .values_list("email", flat=True)
    )
    link = site_url.rstrip("/") + reverse(
        "policies:exception_review", kwargs={"org": organization.name, "pk": request.pk}
    )
    context = {"request": request, "organization": organization, "link": link}
    send_after_commit(render_mail(f"{TEMPLATES}/request", context, owners), on_failure=on_failure)


def notify_requester_of_decision(
    *, request: ExceptionRequest, site_url: str = "", on_failure: OnFailure | None = None
) -> None:
    """E-mail the requester (if they have an address) the owners' answer, with a link to their
    requests when ``site_url`` is given."""
    context = {
        "request": request,
        "organization": request.organization,
        "approved": request.status == ExceptionRequest.Status.APPROVED,
        "link": site_url.rstrip("/") + reverse("policies:my_requests") if site_url else "",
    }
    recipients = [request.requester.email] if request.requester.email else []
    send_after_commit(
        render_mail(f"{TEMPLATES}/decision", context, recipients), on_failure=on_failure
    )
