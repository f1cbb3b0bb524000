"""The token service records every pull decision: one row per repository scope that asks to
pull (stored once, filed under each organisation the user is in), one INSERT per request, one
JSON line per decision on ``portal.decisions``; a decision that cannot be recorded is not handed
out."""

import json
import logging

import pytest
from django.db import OperationalError, connection

from activity.models import PullDecision
from orgs.models import Team
from policies.models import AccessPolicy
from tests.factories import PASSWORD, make_team, set_policy
from tests.tokens.conftest import SERVICE, post_form
from tests.tokens.test_token_service import pulls


@pytest.fixture
def decision_lines(caplog):
    """``decision_lines()``: the lines written on ``portal.decisions`` during the test (the
    logger does not propagate: its lines go to their own handler)."""
    logger = logging.getLogger("portal.decisions")
    logger.addHandler(caplog.handler)
    caplog.handler.setLevel(logging.INFO)
    try:
        yield lambda: [r.getMessage() for r in caplog.records if r.name == "portal.decisions"]
    finally:
        logger.removeHandler(caplog.handler)


def statements(into: str):
    """A context manager collecting every SQL statement run, and those that insert ``into``."""

    class Recorder:
        def __init__(self):
            self.sql = []

        def __call__(self, execute, sql, params, many, context):
            self.sql.append(sql)
            return execute(sql, params, many, context)

        @property
        def inserts(self):
            return [s for s in self.sql if s.startswith(f'INSERT INTO "{into}"')]

    return Recorder()


def test_each_pull_scope_is_recorded_under_each_organisation(acme, ask, granted, token_of):
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True)
    make_team(acme.globex, "contractors", acme.member)  # mike is in acme and globex
    response = ask(
        *pulls("library/alpine", "someone/thing"),
        "repository:acme/app:pull,push",
        "repository:acme/other:push",  # no pull: not a pull decision
        "registry:catalog:*",
        auth=token_of(acme.member),
        headers={"user-agent": "skopeo/1.9.3"},
    )
    assert granted(response) == {
        "library/alpine": ["pull"],
        "acme/app": ["pull", "push"],
        "acme/other": ["push"],
    }
    rows = PullDecision.objects.order_by("repository")
    assert [r.repository for r in rows] == ["acme/app", "library/alpine", "someone/thing"]
    # Each stored once, with both organisations and the version of each one's policy.
    versions = {
        str(policy.organization_id): policy.version
        for policy in AccessPolicy.objects.filter(organization__name__in=("acme", "globex"))
    }
    assert len(versions) == 2
    assert all(r.filed_under == versions for r in rows)
    assert rows[0].policy_version_for(acme.globex.pk) == versions[str(acme.globex.pk)]
    blocked = rows.get(repository="someone/thing")
    assert blocked.user == acme.member and blocked.username == "mike"
    assert (blocked.signed_in_with, blocked.credential) == ("access_token", "registry")
    assert (blocked.client_address, blocked.user_agent) == ("127.0.0.1", "skopeo/1.9.3")
    assert (blocked.actions_asked, blocked.actions_granted) == ("pull", "")
    assert (blocked.category, blocked.deciding_organization, blocked.rule) == (
        "community",
        "acme",
        "category",
    )
    assert blocked.outcome == "blocked"
    assert blocked.reason == "Community images are blocked by acme's Image Access Management."
    pushed = rows.get(repository="acme/app")
    assert (pushed.actions_asked, pushed.actions_granted, pushed.outcome) == (
        "pull,push",
        "pull,push",
        "allowed",
    )
    # All of one request's decisions have the same time: when the snapshot was read.
    assert len({r.decided_at for r in rows}) == 1


def test_a_user_in_no_organisation_is_recorded_once_under_none(db, ask, token_of):
    from tests.factories import make_user

    loner = make_user("loner")
    ask(*pulls("someone/thing"), auth=token_of(loner))
    row = PullDecision.objects.get()
    assert row.filed_under == {}
    assert (row.rule, row.outcome) == ("no_organization", "allowed")


def test_audit_only_pulls_are_granted_and_recorded_as_would_block(acme, ask, granted, token_of):
    set_policy(acme.org, actor=acme.owner, enabled=True, audit_only=True)
    assert granted(ask(*pulls("someone/thing"), auth=token_of(acme.member))) == {
        "someone/thing": ["pull"]
    }
    row = PullDecision.objects.get()
    assert (row.outcome, row.actions_granted, row.deciding_organization) == (
        "would_block",
        "pull",
        "acme",
    )
    assert "audit-only mode" in row.reason


def test_how_they_signed_in(acme, ask, client, token_of, settings):
    ask(*pulls("library/alpine"), auth=token_of(acme.member))
    session = ask(
        *pulls("library/alpine"),
        auth=("mike", PASSWORD),
        method="POST",
        access_type="offline",
        client_id="buildkit",
    ).json()["refresh_token"]
    post_form(
        client,
        {
            "grant_type": "refresh_token",
            "refresh_token": session,
            "service": SERVICE,
            "client_id": "buildkit",
            "scope": "repository:library/alpine:pull",
        },
    )
    settings.ANONYMOUS_PULLS = True
    ask(*pulls("library/alpine"))
    rows = list(
        PullDecision.objects.order_by("id").values_list(
            "signed_in_with", "credential", "username", "user"
        )
    )
    assert rows == [
        ("access_token", "registry", "mike", acme.member.pk),
        ("password", "", "mike", acme.member.pk),  # the sign-in that opened the session
        ("refresh_token", "buildkit", "mike", acme.member.pk),
        ("anonymous", "", "", None),
    ]


def test_client_address_behind_a_proxy_and_hostile_user_agent(acme, ask, token_of, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    ask(
        *pulls("library/alpine"),
        auth=token_of(acme.member),
        headers={
            "x-forwarded-for": "198.51.100.7, 203.0.113.9",
            "user-agent": "evil\x00\nagent é " + "x" * 300,
        },
    )
    row = PullDecision.objects.get()
    assert row.client_address == "203.0.113.9"  # what the trusted proxy saw
    assert row.user_agent == ("evil??agent é " + "x" * 300)[:200]


def test_one_insert_for_a_request_with_several_scopes(
    acme, ask, granted, token_of, django_assert_max_num_queries
):
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True)
    make_team(acme.globex, "contractors", acme.member)
    auth = token_of(acme.member)
    ask(*pulls("library/alpine"), auth=auth)  # the token's first use is written once a minute
    recorder = statements("policies_pulldecision")
    scopes = pulls("library/alpine", "bitnami/redis", "someone/thing", "acme/app", "globex/x")
    # The token read, verified publishers, allowlist entries, and the one INSERT.
    with django_assert_max_num_queries(4), connection.execute_wrapper(recorder):
        response = ask(*scopes, auth=auth)
    assert response.status_code == 200
    assert len(recorder.inserts) == 1, recorder.sql
    assert PullDecision.objects.count() == 1 + 5  # one row a scope, whatever the organisations


def test_each_decision_is_one_json_line(acme, ask, token_of, decision_lines):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    make_team(acme.globex, "contractors", acme.member)
    ask(
        *pulls("someone/thing", "acme/app"),
        auth=token_of(acme.member),
        headers={"user-agent": 'ua "quoted"\n{"forged": true} é'},
    )
    raw = decision_lines()
    assert len(raw) == 2  # one per decision, not one per organisation it is filed under
    # Each is one line of ASCII JSON, whatever the client sent.
    assert all("\n" not in line and line.isascii() for line in raw)
    lines = [json.loads(line) for line in raw]
    first = lines[0]
    assert first == {
        "event": "pull_decision",
        "time": first["time"],
        "user": "mike",
        "user_id": acme.member.pk,
        "signed_in_with": "access_token",
        "credential": "registry",
        "client_address": "127.0.0.1",
        "user_agent": 'ua "quoted"?{"forged": true} é',
        "repository": "someone/thing",
        "actions_asked": ["pull"],
        "actions_granted": [],
        "category": "community",
        "organization": "acme",
        "rule": "category",
        "reason": "Community images are blocked by acme's Image Access Management.",
        "also_allowed_by": [],
        "outcome": "blocked",
        "member_of": ["acme", "globex"],
    }
    assert lines[1]["outcome"] == "allowed"


def test_recording_can_be_turned_off(acme, ask, granted, token_of, settings, decision_lines):
    settings.DECISION_LOG_ENABLED = False
    set_policy(acme.org, actor=acme.owner, enabled=True)
    assert granted(ask(*pulls("acme/app", "someone/thing"), auth=token_of(acme.member))) == {
        "acme/app": ["pull"]
    }
    assert PullDecision.objects.count() == 0
    assert decision_lines() == []


def test_a_decision_that_cannot_be_recorded_is_not_handed_out(
    acme, ask, token_of, caplog, decision_lines
):
    auth = token_of(acme.member)

    def refuse_the_insert(execute, sql, params, many, context):
        if sql.startswith('INSERT INTO "policies_pulldecision"'):
            raise OperationalError("disk full")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse_the_insert):
        response = ask(*pulls("library/alpine"), auth=auth)
    assert response.status_code == 503
    assert response.json() == {
        "errors": [
            {"code": "UNAVAILABLE", "message": "The token service is temporarily unavailable."}
        ]
    }
    assert "pull decisions could not be recorded: disk full" in caplog.text
    assert decision_lines() == []
    assert ask(*pulls("library/alpine"), auth=auth).status_code == 200


def test_a_team_change_is_in_the_next_decision(acme, ask, token_of):
    """Decisions are filed by the memberships read with the request, not later ones."""
    auth = token_of(acme.member)
    ask(*pulls("library/alpine"), auth=auth)
    Team.objects.get(organization=acme.org, name="developers").memberships.all().delete()
    make_team(acme.globex, "contractors", acme.member)
    ask(*pulls("library/alpine"), auth=auth)
    assert [
        list(filed)
        for filed in PullDecision.objects.order_by("id").values_list("filed_under", flat=True)
    ] == [[str(acme.org.pk)], [str(acme.globex.pk)]]


# --- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DECISION_LOG_RETENTION_DAYS", "0", "DECISION_LOG_RETENTION_DAYS must be between 1"),
        ("DECISION_LOG_FLUSH_SECONDS", "-1", "DECISION_LOG_FLUSH_SECONDS must be between 0"),
        ("DECISION_LOG_MAX_PENDING", "0", "DECISION_LOG_MAX_PENDING at least 1"),
    ],
)
def test_decision_log_settings_are_checked_at_start(variable, value, message):
    from tests.test_operations import manage, production_environment

    result = manage(production_environment(**{variable: value}), "check")
    assert result.returncode != 0
    assert message in result.stderr


def test_the_json_lines_can_go_to_their_own_file(tmp_path):
    from tests.test_operations import manage, production_environment

    target = tmp_path / "decisions.jsonl"
    code = "import logging; logging.getLogger('portal.decisions').info('{\"event\": 1}')"
    result = manage(production_environment(DECISION_LOG_FILE=str(target)), "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    assert target.read_text() == '{"event": 1}\n'  # the line alone, no prefix
    assert '"event"' not in result.stderr


# --- the queued writer (DECISION_LOG_FLUSH_SECONDS > 0, the default) ---------------------------


@pytest.fixture
def queued(settings):
    """Decisions queued and written by the worker's thread every 50 ms; the thread is stopped
    (and its database connection closed) after the test."""
    from activity.decisions import writer

    settings.DECISION_LOG_FLUSH_SECONDS = 0.05
    yield writer
    writer.stop()
    assert writer.pending == 0


def wait_for(condition, seconds=10.0):
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.django_db(transaction=True)
def test_queued_decisions_cost_the_request_no_insert(acme, ask, granted, token_of, queued):
    auth = token_of(acme.member)
    ask(*pulls("library/alpine"), auth=auth)  # the token's first use is written once a minute
    wait_for(lambda: PullDecision.objects.count() == 1)
    recorder = statements("policies_pulldecision")
    with connection.execute_wrapper(recorder):
        response = ask(*pulls("library/alpine", "someone/thing"), auth=auth)
    assert granted(response) == {"library/alpine": ["pull"], "someone/thing": ["pull"]}
    assert recorder.inserts == []  # the request only queued them
    wait_for(lambda: PullDecision.objects.count() == 3)
    assert set(PullDecision.objects.values_list("repository", flat=True)) == {
        "library/alpine",
        "someone/thing",
    }


@pytest.mark.django_db(transaction=True)
def test_failed_writes_are_retried_and_a_backlog_refuses_tokens(
    acme, ask, token_of, queued, settings, monkeypatch, caplog, decision_lines
):
    from activity import decisions

    settings.DECISION_LOG_MAX_PENDING = 2
    real = decisions._INSERT_DECISIONS

    class Refusing:
        def insert(self, rows):
            raise OperationalError("the disk is full")

    monkeypatch.setattr(decisions, "_INSERT_DECISIONS", Refusing())
    auth = token_of(acme.member)
    assert ask(*pulls("library/alpine"), auth=auth).status_code == 200
    assert ask(*pulls("library/alpine"), auth=auth).status_code == 200
    wait_for(lambda: "Could not write 2 pull decisions (kept, retrying)" in caplog.text)
    # Two decisions wait: the next request is refused rather than handed out unrecorded.
    refused = ask(*pulls("library/alpine"), auth=auth)
    assert refused.status_code == 503
    assert "pull decisions could not be recorded: 2 pull decisions wait" in caplog.text
    assert PullDecision.objects.count() == 0
    assert len(decision_lines()) == 2  # the JSON lines are out, once, whatever the table
    # Once writes work again, the queue drains and tokens are issued again.
    monkeypatch.setattr(decisions, "_INSERT_DECISIONS", real)
    wait_for(lambda: PullDecision.objects.count() == 2)
    assert len(decision_lines()) == 2  # not again with the retried rows
    assert ask(*pulls("library/alpine"), auth=auth).status_code == 200
    wait_for(lambda: len(decision_lines()) == 3)


@pytest.mark.django_db(transaction=True)
def test_what_is_queued_is_written_at_exit(acme, ask, token_of, queued, settings, decision_lines):
    """Rows and JSON lines are queued together and written by the worker's thread (here: at
    exit), lines first."""
    settings.DECISION_LOG_FLUSH_SECONDS = 60  # the thread would wait a minute
    ask(*pulls("library/alpine", "acme/app"), auth=token_of(acme.member))
    assert queued.pending == 2
    assert decision_lines() == []
    assert queued.flush() is True  # what atexit runs
    assert PullDecision.objects.count() == 2
    lines = [json.loads(line) for line in decision_lines()]
    assert [(line["repository"], line["outcome"]) for line in lines] == [
        ("library/alpine", "allowed"),
        ("acme/app", "allowed"),
    ]
    assert queued.flush() is True
    assert len(decision_lines()) == 2


@pytest.mark.django_db(transaction=True)
def test_a_full_batch_is_written_without_waiting_for_the_interval(
    acme, ask, token_of, queued, settings, monkeypatch
):
    """A member of many organisations makes a row per organisation and decision: once
    FLUSH_ROWS wait, the writer writes them at once rather than at the end of its interval."""
    import time

    from activity import decisions

    settings.DECISION_LOG_FLUSH_SECONDS = 30
    monkeypatch.setattr(decisions, "FLUSH_ROWS", 3)
    auth = token_of(acme.member)
    started = time.monotonic()
    ask(*pulls("library/alpine", "someone/thing", "bitnami/redis"), auth=auth)
    wait_for(lambda: PullDecision.objects.count() == 3, seconds=10)
    assert time.monotonic() - started < 10  # not the 30-second interval


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("decisions", [1, 40])  # a few rows (INSERT) or many (COPY)
def test_a_user_or_organisation_deleted_while_their_rows_wait_does_not_hold_up_the_queue(
    acme, ask, token_of, queued, settings, decisions
):
    """Rows queued for a user who is deleted before they are written (an account removed while
    its CI still pulls) are filed as the deletion would have filed them: without the user (the
    username stays). An organisation deleted meanwhile holds nothing up (its id stays in the
    rows' filed_under, which no page of another organisation reads). The rest of the queue is
    written, and the writer goes on."""
    settings.DECISION_LOG_FLUSH_SECONDS = 60  # written only when the test flushes
    make_team(acme.globex, "contractors", acme.member)  # mike: in acme and globex
    auth = token_of(acme.member)
    names = [f"someone/thing{n}" for n in range(decisions)]
    assert ask(*pulls(*names), auth=auth).status_code == 200
    assert ask(*pulls("library/alpine"), auth=token_of(acme.outsider)).status_code == 200
    assert queued.pending == decisions + 1
    acme.member.delete()
    acme.globex.delete()  # oscar's row was filed under globex, mike's too
    assert queued.flush() is True
    assert queued.pending == 0
    rows = list(PullDecision.objects.filter(username="mike").values_list("user", "repository"))
    assert sorted(rows) == sorted((None, name) for name in names)
    assert PullDecision.objects.filter(username="oscar").count() == 1
    # The writer goes on with the next rows.
    assert ask(*pulls("library/alpine"), auth=token_of(acme.owner)).status_code == 200
    assert queued.flush() is True
    assert PullDecision.objects.filter(username="olivia").count() == 1


def test_filed_under_text_is_kept_only_for_the_very_same_organizations():
    """The writer reuses the JSON text of the last organisations only when a request brings
    that same tuple (the memoised snapshot's): equal-looking or other organisations are encoded
    anew, so no row is filed under another request's organisations."""
    from activity.decisions import filed_under_text
    from policies.engine import OrgPolicy

    acme = (OrgPolicy(name="acme", is_owner=False, id=1, version=3),)
    globex = (OrgPolicy(name="globex", is_owner=False, id=2, version=5),)
    assert filed_under_text(acme) == '{"1":3}'
    assert filed_under_text(globex) == '{"2":5}'
    newer = (OrgPolicy(name="acme", is_owner=False, id=1, version=4),)
    assert filed_under_text(newer) == '{"1":4}'
    assert filed_under_text(acme) == '{"1":3}'
    assert filed_under_text(()) == "{}"
