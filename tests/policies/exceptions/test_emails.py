"""The mails of exception requests (core.mail's policy): bodies from templates, sent once the
change is saved, never for a change rolled back; a mail that cannot be sent is logged and the
person who triggered it is warned, and what it announces is saved anyway."""

import logging

import pytest
from django.db import transaction
from django.urls import reverse

from policies.exceptions import services
from policies.models import ExceptionRequest
from policies.references import parse_reference
from tests.factories import set_policy
from tests.mail import FAILING, use_templates

CREATE = reverse("policies:exception_create", kwargs={"org": "acme"})


@pytest.fixture
def restricted(acme):
    """acme with management on; its owner and member have e-mail addresses."""
    set_policy(acme.org, actor=acme.owner, enabled=True)
    for user, address in ((acme.owner, "olivia@acme.example"), (acme.member, "mike@a.example")):
        user.email = address
        user.save()
    return acme


def ask(acme, **kwargs):
    return services.exception_request_create(
        organization=acme.org,
        requester=acme.member,
        reference=parse_reference("someone/tool:1.0"),
        justification="Our CI builds on it.",
        **kwargs,
    )


def review(request):
    return reverse("policies:exception_review", kwargs={"org": "acme", "pk": request.pk})


def messages_on(response) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in response.context["messages"]]


def test_the_owners_mail_is_sent_once_the_request_is_saved(
    restricted, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        request = ask(restricted, site_url="https://portal.example/")
        assert mailoutbox == []  # not while the transaction is open
    assert len(callbacks) == 1
    callbacks[0]()
    (mail,) = mailoutbox
    assert mail.to == ["olivia@acme.example"]
    assert mail.subject == "[acme] mike asks to pull someone/tool"
    assert mail.body == (
        "mike asks acme's owners for an exception to Image Access Management.\n\n"
        "Image: docker.io/someone/tool:1.0\n"
        "Justification: Our CI builds on it.\n\n"
        "Approve it (an allowlist entry for the organization or one team, with an expiry) or "
        "decline it with a note:\n"
        f"https://portal.example{review(request)}\n"
    )


def test_no_mail_for_a_request_rolled_back(
    restricted, mailoutbox, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        ask(restricted)
        raise RuntimeError("the rest of the change failed")
    assert callbacks == []
    assert mailoutbox == []
    assert not ExceptionRequest.objects.exists()


def test_the_bodies_come_from_the_templates(
    restricted, mailoutbox, settings, tmp_path, django_capture_on_commit_callbacks
):
    use_templates(
        settings,
        tmp_path,
        {
            "policies/exceptions/emails/request_body.txt": "Asked: {{ request.repository }}",
            "policies/exceptions/emails/decision_subject.txt": "Answer\n{{ request.status }}",
            "policies/exceptions/emails/decision_body.txt": "{{ request.note }}",
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        request = ask(restricted)
        services.exception_request_decline(request=request, actor=restricted.owner, note="No.")
    asked, answered = mailoutbox
    assert asked.body == "Asked: someone/tool\n"
    assert (answered.subject, answered.body) == ("Answer declined", "No.\n")


# The pages' tests commit for real, as a request does: the mail goes when the service's
# transaction commits, before the view answers.
pages = pytest.mark.django_db(transaction=True)


@pages
def test_a_mail_that_cannot_be_sent_is_logged_and_the_requester_warned(
    restricted, login, settings, caplog
):
    settings.EMAIL_BACKEND = FAILING
    client = login(restricted.member)
    with caplog.at_level(logging.ERROR, logger="core.mail"):
        response = client.post(
            CREATE, {"image": "someone/tool:1.0", "justification": "CI"}, follow=True
        )
    assert ExceptionRequest.objects.get().repository == "someone/tool"  # saved all the same
    assert messages_on(response) == [
        (
            "success",
            "Your request for someone/tool was sent to acme's owners. You will find "
            "their answer here.",
        ),
        (
            "warning",
            "The e-mail telling acme's owners could not be sent: they will see your "
            "request on the organization's Requests page.",
        ),
    ]
    (record,) = [record for record in caplog.records if record.name == "core.mail"]
    assert record.getMessage() == (
        "Could not send '[acme] mike asks to pull someone/tool' to 1 recipient(s)"
    )
    assert record.exc_info is not None  # with the backend's error
    assert "olivia@acme.example" not in caplog.text


@pages
@pytest.mark.parametrize("answer", ["approve", "decline"])
def test_an_answer_that_cannot_be_mailed_warns_the_owner(
    restricted, login, settings, caplog, answer
):
    request = ask(restricted)
    settings.EMAIL_BACKEND = FAILING
    client = login(restricted.owner)
    if answer == "approve":
        url, data = review(request), {"pattern": "someone/tool", "expires_at": "2099-01-01"}
    else:
        url = reverse("policies:exception_decline", kwargs={"org": "acme", "pk": request.pk})
        data = {"note": "No."}
    response = client.post(url, data, follow=True)
    request.refresh_from_db()
    assert request.status == {"approve": "approved", "decline": "declined"}[answer]
    level, message = messages_on(response)[-1]
    assert (level, message) == (
        "warning",
        "The e-mail telling mike your answer could not be sent: they will see it on their "
        "Exception requests page.",
    )
    assert "Could not send '[acme] Your request for someone/tool was" in caplog.text


@pages
def test_an_answer_mailed_from_the_page_links_to_the_requests(restricted, login, mailoutbox):
    request = ask(restricted)
    url = reverse("policies:exception_decline", kwargs={"org": "acme", "pk": request.pk})
    response = login(restricted.owner).post(url, {"note": "No."}, follow=True)
    assert [level for level, _ in messages_on(response)] == ["success"]
    mail = mailoutbox[-1]  # after the owners' mail about the request
    assert mail.body == (
        "Your request to pull someone/tool in acme was declined.\n\n"
        "Note from olivia: No.\n\n"
        "Your requests and the owners' answers: http://127.0.0.1:8000/settings/exception-requests/\n"
    )
