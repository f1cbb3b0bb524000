"""Exception requests: a refused member asks, owners approve (an allowlist entry with an expiry)
or decline with a note, the requester sees the outcome; e-mail; history; concurrency."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from orgs.models import Team
from policies.engine import Rule, pull_decide
from policies.exceptions import services
from policies.models import AccessPolicy, AllowlistEntry, ExceptionRequest, PolicyChange
from policies.references import parse_reference
from policies.selectors import pull_snapshot
from tests.concurrency import run_at_once
from tests.factories import add_owner, make_org, make_team, make_user, set_policy

URL = reverse("policies:permissions", kwargs={"org": "acme"})
REQUESTS = reverse("policies:requests", kwargs={"org": "acme"})
CREATE = reverse("policies:exception_create", kwargs={"org": "acme"})
MINE = reverse("policies:my_requests")
IN_A_MONTH = (timezone.now() + timedelta(days=30)).replace(second=30, microsecond=0)


def review_url(request):
    return reverse("policies:exception_review", kwargs={"org": "acme", "pk": request.pk})


def decide(user, image):
    reference = parse_reference(image)
    return pull_decide(pull_snapshot(user=user, references=[reference]), reference)


def ask(acme, image="someone/tool:1.0", justification="Our CI builds on it."):
    return services.exception_request_create(
        organization=acme.org,
        requester=acme.member,
        reference=parse_reference(image),
        justification=justification,
    )


@pytest.fixture
def restricted(acme):
    """acme with management on (nothing but its own images); owners with e-mail addresses."""
    set_policy(acme.org, actor=acme.owner, enabled=True)
    acme.owner.email = "olivia@acme.example"
    acme.owner.save()
    acme.member.email = "mike@acme.example"
    acme.member.save()
    return acme


# --- services ----------------------------------------------------------------------------------


def test_request_approve_pull_expire(restricted, mailoutbox, django_capture_on_commit_callbacks):
    acme = restricted
    assert decide(acme.member, "someone/tool").allowed is False
    with django_capture_on_commit_callbacks(execute=True):
        request = ask(acme)
    assert (request.status, request.repository) == ("pending", "someone/tool")
    assert request.reference == "docker.io/someone/tool:1.0"
    version = AccessPolicy.objects.get(organization=acme.org).version
    # Asking is recorded, but changes nothing members may pull: no new version.
    assert PolicyChange.objects.first().described() == [
        f"Exception request #{request.pk} by mike for someone/tool requested: "
        "'Our CI builds on it.'"
    ]
    assert PolicyChange.objects.first().version == version
    (mail,) = mailoutbox
    assert mail.to == ["olivia@acme.example"]
    assert mail.subject == "[acme] mike asks to pull someone/tool"
    assert "Justification: Our CI builds on it." in mail.body
    assert review_url(request) in mail.body

    with django_capture_on_commit_callbacks(execute=True):
        entry = services.exception_request_approve(
            request=request, actor=acme.owner, pattern="someone/*", expires_at=IN_A_MONTH
        )
    request.refresh_from_db()
    assert (request.status, request.entry, request.decided_by) == ("approved", entry, acme.owner)
    assert (entry.pattern, entry.team, entry.expires_at) == ("someone/*", None, IN_A_MONTH)
    assert entry.reason == f"Exception request #{request.pk} by mike: Our CI builds on it."
    assert AccessPolicy.objects.get(organization=acme.org).version == version + 1
    assert PolicyChange.objects.first().described() == [
        f"Exception request #{request.pk} by mike for someone/tool approved",
        f"Allowlist: added 'someone/*' for the whole organization, "
        f"expires {IN_A_MONTH:%Y-%m-%d %H:%M} UTC: '{entry.reason}'",
    ]
    assert mailoutbox[1].to == ["mike@acme.example"]
    assert "was approved: allowlist entry 'someone/*' for the whole organization" in (
        mailoutbox[1].body
    )
    decision = decide(acme.member, "someone/tool")
    assert (decision.allowed, decision.rule) == (True, Rule.ALLOWLIST)

    # The entry expires: the pull is refused again, at once.
    AllowlistEntry.objects.filter(pk=entry.pk).update(expires_at=timezone.now())
    assert decide(acme.member, "someone/tool").allowed is False
    # The request keeps what was granted.
    assert request.granted_text.startswith("'someone/*' for the whole organization, expires ")


def test_decline_with_a_note(restricted, mailoutbox, django_capture_on_commit_callbacks):
    acme = restricted
    request = ask(acme)
    with pytest.raises(ValidationError) as excinfo:
        services.exception_request_decline(request=request, actor=acme.owner, note="  ")
    assert excinfo.value.message_dict == {
        "note": ["Tell the requester why (they will read this note)."]
    }
    with django_capture_on_commit_callbacks(execute=True):
        services.exception_request_decline(
            request=request, actor=acme.owner, note="Use library/alpine instead."
        )
    request.refresh_from_db()
    assert (request.status, request.note) == ("declined", "Use library/alpine instead.")
    assert PolicyChange.objects.first().described() == [
        f"Exception request #{request.pk} by mike for someone/tool declined: "
        "'Use library/alpine instead.'"
    ]
    assert mailoutbox[-1].subject == "[acme] Your request for someone/tool was declined"
    assert "Note from olivia: Use library/alpine instead." in mailoutbox[-1].body
    # A decided request can't be decided again.
    with pytest.raises(ValidationError, match="This request was already declined by olivia"):
        services.exception_request_approve(
            request=request, actor=acme.owner, pattern="someone/tool", expires_at=IN_A_MONTH
        )
    assert not AllowlistEntry.objects.exists()


@pytest.mark.parametrize(
    ("who", "image", "justification", "message"),
    [
        ("member", "someone/tool", " ", "Tell the owners why you need this image."),
        ("member", "someone/tool", "x" * 1001, "At most 1000 characters (this is 1001)."),
        ("member", "acme/app", "why", "acme already lets you pull acme/app: Organization images"),
        ("member", "ghcr.io/a/b", "why", "acme already lets you pull a/b"),
        (
            "owner",
            "someone/tool",
            "why",
            "acme does not restrict your pulls (you are in its owners",
        ),
        ("outsider", "someone/tool", "why", "You are not a member of acme."),
    ],
)
def test_requests_that_make_no_sense_are_refused(restricted, who, image, justification, message):
    user = {"member": restricted.member, "owner": restricted.owner, "outsider": restricted.outsider}
    with pytest.raises(ValidationError) as excinfo:
        services.exception_request_create(
            organization=restricted.org,
            requester=user[who],
            reference=parse_reference(image),
            justification=justification,
        )
    assert message in " ".join(excinfo.value.messages)
    assert not ExceptionRequest.objects.exists()
    assert not PolicyChange.objects.filter(changes__has_key="exception_requested").exists()


def test_no_request_while_management_is_off(acme):
    with pytest.raises(ValidationError, match="Image Access Management is off"):
        ask(acme)


def test_one_pending_request_per_repository_and_a_limit(restricted, monkeypatch):
    ask(restricted, "someone/tool:1")
    with pytest.raises(ValidationError, match="You already asked acme's owners for someone/tool"):
        ask(restricted, "someone/tool:2")
    monkeypatch.setattr(services, "MAX_PENDING_REQUESTS", 2)
    ask(restricted, "someone/other")
    with pytest.raises(ValidationError, match="You have 2 requests pending in acme"):
        ask(restricted, "someone/third")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"pattern": "other/*"}, "pattern", "`other/*` does not cover the requested repository"),
        ({"pattern": "someone/x/*"}, "pattern", "does not cover"),
        ({"pattern": "Someone/*"}, "pattern", "repository name must be lowercase"),
        ({"expires_at": None}, "expires_at", "An exception needs an expiry"),
        ({"expires_at": "past"}, "expires_at", "is in the past"),
        ({"team": "ops"}, "team", "mike is not in team ops: an entry for that team would not"),
        ({"note": "n" * 1001}, "note", "At most 1000 characters"),
    ],
)
def test_approvals_that_would_not_help_are_refused(restricted, fields, field, message):
    request = ask(restricted)
    make_team(restricted.org, "ops", restricted.gina)
    values = {"pattern": "someone/tool", "expires_at": IN_A_MONTH, "team": None, "note": ""}
    values.update(fields)
    if values["expires_at"] == "past":
        values["expires_at"] = timezone.now() - timedelta(days=1)
    if values["team"] == "ops":
        values["team"] = Team.objects.get(organization=restricted.org, name="ops")
    with pytest.raises(ValidationError) as excinfo:
        services.exception_request_approve(request=request, actor=restricted.owner, **values)
    assert message in " ".join(excinfo.value.message_dict[field])
    request.refresh_from_db()
    assert request.is_pending
    assert not AllowlistEntry.objects.exists()


def test_approving_for_a_team(restricted):
    acme = restricted
    platform = make_team(acme.org, "platform", acme.member)
    request = ask(acme)
    entry = services.exception_request_approve(
        request=request,
        actor=acme.owner,
        pattern="someone/tool",
        expires_at=IN_A_MONTH,
        team=platform,
    )
    assert entry.team == platform
    assert decide(acme.member, "someone/tool").allowed is True
    other = make_user("dora")
    Team.objects.get(organization=acme.org, name="developers").memberships.create(user=other)
    assert decide(other, "someone/tool").allowed is False


@pytest.mark.django_db(transaction=True)
def test_two_owners_deciding_at_once_decide_once():
    olivia, gina, mike = make_user("olivia"), make_user("gina"), make_user("mike")
    org = make_org("acme", owner=olivia, members=[mike])
    add_owner(org, gina)
    set_policy(org, actor=olivia, enabled=True)
    request = services.exception_request_create(
        organization=org,
        requester=mike,
        reference=parse_reference("someone/tool"),
        justification="CI",
    )
    outcomes = run_at_once(
        lambda: services.exception_request_approve(
            request=request, actor=olivia, pattern="someone/tool", expires_at=IN_A_MONTH
        ),
        lambda: services.exception_request_decline(request=request, actor=gina, note="No."),
    )
    assert outcomes == ["ValidationError", "ok"]
    request.refresh_from_db()
    assert AllowlistEntry.objects.count() == (1 if request.status == "approved" else 0)
    decisions = PolicyChange.objects.filter(
        changes__has_any_keys=["exception_approved", "exception_declined"]
    )
    assert decisions.count() == 1


# --- pages ------------------------------------------------------------------------------------


def test_a_refused_check_offers_a_request_and_the_member_sees_the_answer(restricted, login):
    acme = restricted
    client = login(acme.member)
    html = client.get(URL, {"image": "someone/tool:1.0"}).content.decode()
    assert f'action="{CREATE}" class="exception-form" data-testid="exception-form"' in html
    form = html.split('data-testid="exception-form"')[1].split("</form>")[0]
    assert 'name="image" value="someone/tool:1.0"' in form
    # An allowed check offers nothing.
    assert (
        'data-testid="exception-form"' not in client.get(URL, {"image": "acme/x"}).content.decode()
    )

    response = client.post(CREATE, {"image": "someone/tool:1.0", "justification": "CI needs it"})
    assert response.status_code == 302 and response["Location"] == MINE
    request = ExceptionRequest.objects.get()
    page = client.get(MINE).content.decode()
    assert "Your request for someone/tool was sent to acme&#x27;s owners." in page
    row = page.split('data-testid="my-requests"')[1]
    assert "someone/tool" in row and "Pending" in row and "Waiting for an owner" in row

    services.exception_request_approve(
        request=request,
        actor=acme.owner,
        pattern="someone/*",
        expires_at=datetime(2099, 1, 1, tzinfo=UTC),
    )
    row = client.get(MINE).content.decode().split('data-testid="my-requests"')[1]
    assert "Approved by olivia" in row
    assert "&#x27;someone/*&#x27; for the whole organization, expires 2099-01-01" in row
    check = client.get(URL, {"image": "someone/tool"}).content.decode()
    assert "Rule: <strong>Allowlist entry</strong>" in check


def test_the_request_page_shows_the_decision_and_refuses_with_a_message(restricted, login):
    client = login(restricted.member)
    page = client.get(CREATE, {"image": "someone/tool"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "✖ Blocked" in html and 'value="someone/tool"' in html
    response = client.post(CREATE, {"image": "acme/app", "justification": "why"})
    assert response.status_code == 400
    assert "acme already lets you pull acme/app" in response.content.decode()
    response = client.post(CREATE, {"image": "Bad", "justification": "why"})
    assert response.status_code == 400
    assert "repository name must be lowercase" in response.content.decode()
    assert not ExceptionRequest.objects.exists()


def test_owners_review_pending_requests(restricted, login):
    acme = restricted
    make_team(acme.org, "platform", acme.member)
    request = ask(acme)
    client = login(acme.owner)
    html = client.get(URL).content.decode()
    assert 'data-testid="requests-count">1<' in html  # the Requests tab's count
    html = client.get(REQUESTS).content.decode()
    pending = html.split(f'data-testid="request-{request.pk}"')[1].split("</article>")[0]
    assert "mike" in pending and "someone/tool" in pending and review_url(request) in pending
    assert 'data-testid="answer-form"' in pending and 'value="someone/tool"' in pending
    review = client.get(review_url(request)).content.decode()
    assert 'value="someone/tool"' in review  # the pattern starts as the repository
    assert f'value="{(timezone.now() + timedelta(days=30)).date():%Y-%m-%d}"' in review
    assert "For mike now: ✖ Blocked" in review
    # mike's teams (not owners, not teams he's out of) are the choices.
    team_select = review.split('name="team"')[1].split("</select>")[0]
    assert "Team platform" in team_select and "Team developers" in team_select

    response = client.post(
        review_url(request),
        {"pattern": "someone/*", "team": "platform", "expires_at": "2099-06-30", "note": "ok"},
    )
    assert response.status_code == 302 and response["Location"] == REQUESTS
    entry = AllowlistEntry.objects.get()
    assert (entry.pattern, entry.team.name) == ("someone/*", "platform")
    assert entry.expires_at == datetime(2099, 6, 30, tzinfo=UTC)
    html = client.get(REQUESTS).content.decode()
    assert (
        "Approved mike&#x27;s request: &#x27;someone/*&#x27; is on the allowlist for team "
        "platform" in html
    )
    assert 'data-testid="no-requests"' in html and 'data-testid="requests-count"' not in html
    # Deciding again is refused with who decided.
    response = client.post(
        reverse("policies:exception_decline", kwargs={"org": "acme", "pk": request.pk}),
        {"note": "no"},
    )
    assert response.status_code == 400
    assert "already approved by olivia" in response.content.decode()


def test_bad_approvals_on_the_page_show_the_error(restricted, login):
    request = ask(restricted)
    client = login(restricted.owner)
    response = client.post(review_url(request), {"pattern": "other/*", "expires_at": "2099-01-01"})
    assert response.status_code == 400
    form = response.content.decode().split('data-testid="approve-form"')[1].split("</form>")[0]
    assert "does not cover the requested repository someone/tool" in form
    response = client.post(review_url(request), {"pattern": "someone/tool", "expires_at": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    decline = reverse("policies:exception_decline", kwargs={"org": "acme", "pk": request.pk})
    response = client.post(decline, {"note": ""})
    assert response.status_code == 400
    request.refresh_from_db()
    assert request.is_pending


def test_another_organisations_request_is_not_found(restricted, login):
    set_policy(restricted.globex, actor=restricted.gina, enabled=True)
    theirs = services.exception_request_create(
        organization=restricted.globex,
        requester=restricted.outsider,
        reference=parse_reference("someone/tool"),
        justification="why",
    )
    client = login(restricted.owner)
    assert client.get(review_url(theirs)).status_code == 404
    mine = client.get(MINE).content.decode()
    assert "someone/tool" not in mine.split('data-testid="my-requests"')[1]
