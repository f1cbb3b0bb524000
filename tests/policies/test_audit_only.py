"""Audit-only mode: the policy is evaluated and recorded but its refusals are not enforced.

The engine tables need no database; the rest checks that the page, ``check_pull``, the history
and the token service all say and do the same thing.
"""

import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from policies.engine import OrgPolicy, Outcome, PullSnapshot, Rule, pull_decide
from policies.models import PolicyChange
from policies.references import parse_reference
from tests.factories import set_policy
from tokens.grants import Requester, grant_access
from tokens.scopes import parse_scopes


def org(name, *, enabled=True, audit=False, official=False, owner=False):
    return OrgPolicy(
        name=name,
        is_owner=owner,
        enabled=enabled,
        audit_only=audit,
        allow_official_images=official,
        teams=(),
    )


def decide(image, *orgs):
    return pull_decide(PullSnapshot(username="u", organizations=orgs), parse_reference(image))


@pytest.mark.parametrize(
    ("orgs", "image", "outcome", "decider", "granted"),
    [
        # One organisation in audit-only mode: refusals become would-block, the pull goes.
        ([org("acme", audit=True)], "someone/thing", Outcome.WOULD_BLOCK, "acme", True),
        ([org("acme", audit=True)], "ubuntu", Outcome.WOULD_BLOCK, "acme", True),
        ([org("acme", audit=True, official=True)], "ubuntu", Outcome.ALLOWED, "acme", True),
        ([org("acme", audit=True)], "acme/app", Outcome.ALLOWED, "acme", True),
        # audit_only means nothing while management is off, nor for the owners.
        ([org("acme", enabled=False, audit=True)], "someone/x", Outcome.ALLOWED, None, True),
        ([org("acme", audit=True, owner=True)], "someone/x", Outcome.ALLOWED, "acme", True),
        # Several organisations: one enforcing refusal blocks, whatever the others' mode.
        ([org("acme"), org("globex", audit=True)], "someone/x", Outcome.BLOCKED, "acme", False),
        ([org("acme", audit=True), org("globex")], "someone/x", Outcome.BLOCKED, "globex", False),
        (
            [org("acme", audit=True), org("globex", audit=True)],
            "someone/x",
            Outcome.WOULD_BLOCK,
            "acme",
            True,
        ),
        # An enforcing organisation that allows does not hide an audit-only refusal.
        (
            [org("acme", audit=True), org("globex", official=True)],
            "ubuntu",
            Outcome.WOULD_BLOCK,
            "acme",
            True,
        ),
        (
            [org("acme", official=True), org("globex", audit=True, official=True)],
            "ubuntu",
            Outcome.ALLOWED,
            "acme",
            True,
        ),
        # Other registries are outside Image Access Management in every mode.
        ([org("acme", audit=True)], "ghcr.io/x/y", Outcome.ALLOWED, None, True),
    ],
)
def test_outcome_table(orgs, image, outcome, decider, granted):
    decision = decide(image, *orgs)
    assert decision.outcome is outcome
    assert decision.organization == decider
    assert decision.granted is granted
    assert decision.allowed is (outcome is Outcome.ALLOWED)


def test_would_block_says_so_in_words():
    decision = decide("someone/thing", org("acme", audit=True))
    assert (decision.allowed, decision.enforced, decision.rule) == (False, False, Rule.CATEGORY)
    assert decision.reason == (
        "Community images are blocked by acme's Image Access Management. acme is in audit-only "
        "mode: the pull is allowed and recorded as would-block."
    )
    assert decision.as_dict()["enforced"] is False
    assert decision.as_dict()["outcome"] == "would_block"


def test_the_token_grants_what_audit_only_mode_would_refuse():
    snapshot = PullSnapshot(username="u", organizations=(org("acme", audit=True),))
    scopes = parse_scopes(["repository:someone/thing:pull", "repository:acme/app:pull,push"])
    grant = grant_access(Requester(snapshot=snapshot), scopes)
    assert grant.access == [
        {"type": "repository", "name": "someone/thing", "actions": ["pull"]},
        {"type": "repository", "name": "acme/app", "actions": ["pull", "push"]},
    ]
    assert grant.refusals == []  # nothing was refused
    assert [d.decision.outcome for d in grant.decisions] == [Outcome.WOULD_BLOCK, Outcome.ALLOWED]
    assert [d.granted for d in grant.decisions] == [("pull",), ("pull", "push")]


def test_an_enforcing_refusal_is_left_out_of_the_token():
    snapshot = PullSnapshot(username="u", organizations=(org("acme", audit=True), org("globex")))
    grant = grant_access(Requester(snapshot=snapshot), parse_scopes(["repository:x/y:pull"]))
    assert grant.access == []
    assert grant.refusals == [
        "pull x/y: Community images are blocked by globex's Image Access Management."
    ]


# --- check_pull, the page, the history -----------------------------------------------------


def check_pull(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        call_command("check_pull", *args)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


@pytest.mark.parametrize(("audit", "code", "enforced"), [(True, 0, False), (False, 3, True)])
def test_check_pull_says_which_mode_is_in_force(acme, capsys, audit, code, enforced):
    set_policy(acme.org, actor=acme.owner, enabled=True, audit_only=audit)
    exit_code, out, _ = check_pull(capsys, "mike", "someone/thing")
    result = json.loads(out)
    assert exit_code == code  # as the registry acts: pulled, or blocked
    assert result["allowed"] is False
    assert result["enforced"] is enforced
    assert result["outcome"] == ("would_block" if audit else "blocked")


def test_check_pull_can_request_an_exception_for_a_would_block(acme, capsys):
    set_policy(acme.org, actor=acme.owner, enabled=True, audit_only=True)
    exit_code, out, _ = check_pull(capsys, "mike", "someone/thing", "--request-exception", "CI")
    assert exit_code == 0
    assert json.loads(out)["exception_request"]["status"] == "pending"


def test_page_and_history_say_audit_only(acme, login):
    client = login(acme.owner)
    url = reverse("policies:permissions", kwargs={"org": "acme"})
    response = client.post(
        url, {"version": "1", "enabled": "on", "audit_only": "on", "confirm": "1"}
    )
    assert response.status_code == 302
    change = PolicyChange.objects.get()
    assert change.changes == {
        "enabled": {"from": False, "to": True},
        "audit_only": {"from": False, "to": True},
    }
    html = client.get(url).content.decode()
    assert "Image Access Management is enabled in audit-only mode." in html
    assert "Audit-only mode: Off → On" in html
    assert 'data-testid="state-audit">Saved: On' in html
    # Members read the same state.
    member_html = login(acme.member).get(url).content.decode()
    assert "Image Access Management is enabled in audit-only mode." in member_html


def test_members_check_shows_would_be_blocked(acme, login):
    set_policy(acme.org, actor=acme.owner, enabled=True, audit_only=True)
    url = reverse("policies:permissions", kwargs={"org": "acme"})
    html = login(acme.member).get(url, {"image": "someone/thing"}).content.decode()
    assert '<p class="verdict">⚠ Would be blocked' in html
    assert "decision-would-block" in html
    assert 'data-testid="exception-form"' in html  # they can still ask before it is enforced
