"""The mail of an owner's revocation of a member's personal access token. Bodies from
``templates/tokens/email/``, sent once the revocation is saved (:mod:`core.mail`)."""

from django.urls import reverse

from core.mail import OnFailure, render_mail, send_after_commit


def notify_member_of_revocation(
    *, token, organization, actor, site_url: str = "", on_failure: OnFailure | None = None
) -> None:
    """E-mail the token's user (if they have an address) that an owner of ``organization``
    revoked it, with a link to their tokens page when ``site_url`` is given."""
    user = token.user
    context = {
        "token": token,
        "organization": organization,
        "actor": actor.get_username(),
        "link": site_url.rstrip("/") + reverse("tokens:list") if site_url else "",
    }
    recipients = [user.email] if user.email else []
    send_after_commit(
        render_mail("tokens/email/member_token_revoked", context, recipients),
        on_failure=on_failure,
    )
