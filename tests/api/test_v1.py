"""The portal's own API, ``/api/v1/``: what owners and members do on the pages, scripted."""

import contextlib
import io
import json
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from orgs import services as org_services
from policies.models import (
    GRANT_FIELDS,
    POLICY_FIELDS,
    AccessPolicy,
    AllowlistEntry,
    ExceptionRequest,
    PolicyChange,
    TeamGrant,
)
from tests.factories import add_entry, make_team, make_user, set_policy

ACME = "/api/v1/orgs/acme"
SETTINGS = f"{ACME}/settings"
GRANT = f"{ACME}/teams/developers/grant"
ALLOWLIST = f"{ACME}/allowlist"
REQUESTS = f"{ACME}/exception-requests"


def fields(response, status=400) -> dict:
    assert response.status_code == status, response.content
    return response.json()["fields"]


# --- organisations, members, teams ------------------------------------------------------------


def test_my_organisations_with_my_role(acme, api):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    assert api(acme.member).get("/api/v1/orgs").json() == [
        {"name": "acme", "role": "member", "image_access_management": True}
    ]
    assert api(acme.owner).get(ACME).json() == {
        "name": "acme",
        "role": "owner",
        "image_access_management": True,
    }
    assert api(make_user("lonely")).get("/api/v1/orgs").json() == []


def test_members_with_their_teams_searched_and_paged(acme, member_api):
    team = make_team(acme.org, "platform", acme.member)
    for index in range(3):
        org_services.team_member_add(team=team, user=make_user(f"zed{index}"))
    body = member_api.get(f"{ACME}/members").json()
    assert body["count"] == 5
    assert body["results"][:2] == [
        {"username": "mike", "role": "member", "teams": ["developers", "platform"]},
        {"username": "olivia", "role": "owner", "teams": ["owners"]},
    ]
    page = member_api.get(f"{ACME}/members?search=ZED&page_size=2&page=2").json()
    assert page["count"] == 3
    assert [row["username"] for row in page["results"]] == ["zed2"]
    assert page["previous"].startswith("http://testserver/api/v1/orgs/acme/members?")
    assert "page=" not in page["previous"] and "search=ZED" in page["previous"]
    assert fields(member_api.get(f"{ACME}/members?page=4&page_size=2")) == {
        "page": "Page 4 does not exist: there are 3 pages of 2."
    }


def test_teams(acme, member_api):
    teams = member_api.get(f"{ACME}/teams").json()
    assert [(t["name"], t["member_count"]) for t in teams] == [
        ("developers", 1),
        ("members", 0),
        ("owners", 1),
    ]


# --- settings ----------------------------------------------------------------------------------


def test_settings_follow_the_policy_model(acme, member_api):
    """Every policy setting, derived from AccessPolicy's boolean fields: a new one (such as
    audit_only) appears without the API naming it. Docker's endpoint keeps Docker's three."""
    body = member_api.get(SETTINGS).json()
    assert list(body) == list(POLICY_FIELDS)
    hub = member_api.get("/v2/orgs/acme/settings").json()
    assert list(hub["restricted_images"]) == [
        "enabled",
        "allow_official_images",
        "allow_verified_publishers",
    ]


def test_put_and_patch_settings(acme, owner_api):
    every = {field: True for field in POLICY_FIELDS}
    response = owner_api.put(SETTINGS, every)
    assert response.json() == every
    assert response["ETag"] == '"2"'
    response = owner_api.patch(SETTINGS, {"allow_official_images": False}, HTTP_IF_MATCH='"2"')
    assert response.json() == {**every, "allow_official_images": False}
    assert response["ETag"] == '"3"'
    assert AccessPolicy.objects.get(organization=acme.org).version == 3
    history = owner_api.get(f"{SETTINGS}/history").json()
    assert history["count"] == 2
    newest = history["results"][0]
    assert newest["version"] == 3
    assert newest["actor"] == "olivia"
    assert newest["changes"] == {"allow_official_images": {"from": True, "to": False}}
    assert newest["description"] == ["Docker Official Images: Allowed → Restricted"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"enabled": True}, {f: "This field is required." for f in POLICY_FIELDS[1:]}),
        (
            {**dict.fromkeys(POLICY_FIELDS, True), "enabled": "on"},
            {"enabled": "Must be true or false (a JSON boolean)."},
        ),
        ({**dict.fromkeys(POLICY_FIELDS, True), "version": 2}, {"version": "Unknown field."}),
    ],
)
def test_put_settings_bad_bodies(acme, owner_api, body, expected):
    assert fields(owner_api.put(SETTINGS, body)) == expected
    assert AccessPolicy.objects.get(organization=acme.org).version == 1


def test_stale_if_match_on_settings_is_412(acme, owner_api):
    etag = owner_api.get(SETTINGS)["ETag"]
    add_entry(acme.org, "someone/*", actor=acme.owner)  # any change of the policy version
    response = owner_api.patch(SETTINGS, {"enabled": True}, HTTP_IF_MATCH=etag)
    assert response.status_code == 412
    assert not AccessPolicy.objects.get(organization=acme.org).enabled
    fresh = owner_api.get(SETTINGS)["ETag"]
    assert fresh == '"2"'
    assert owner_api.patch(SETTINGS, {"enabled": True}, HTTP_IF_MATCH=fresh).status_code == 200


def test_history_pages(acme, member_api):
    for _ in range(3):
        set_policy(acme.org, actor=acme.owner, enabled=True)
        set_policy(acme.org, actor=acme.owner, enabled=False)
    page = member_api.get(f"{SETTINGS}/history?page_size=4&page=2").json()
    assert page["count"] == 6
    assert [c["version"] for c in page["results"]] == [3, 2]


# --- team grants -------------------------------------------------------------------------------


def test_team_grant(acme, owner_api, member_api):
    assert member_api.get(GRANT).json() == dict.fromkeys(GRANT_FIELDS, False)
    every = dict.fromkeys(GRANT_FIELDS, True)
    response = owner_api.put(GRANT, every, HTTP_IF_MATCH='"1"')
    assert response.status_code == 200, response.content
    assert response.json() == every
    assert response["ETag"] == '"2"'
    assert TeamGrant.objects.get(team__name="developers").as_dict() == every
    assert PolicyChange.objects.get().changes["team_grant"]["team"] == "developers"
    stale = owner_api.put(GRANT, dict.fromkeys(GRANT_FIELDS, False), HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    assert TeamGrant.objects.get(team__name="developers").as_dict() == every


def test_grants_of_owners_or_unknown_teams_are_404(acme, owner_api):
    for team in ("owners", "nosuchteam"):
        assert owner_api.get(f"{ACME}/teams/{team}/grant").status_code == 404
        assert owner_api.put(f"{ACME}/teams/{team}/grant", {}).status_code == 404


def test_grant_put_needs_every_setting(acme, owner_api):
    assert set(fields(owner_api.put(GRANT, {"allow_official_images": True}))) == set(
        GRANT_FIELDS[1:]
    )


# --- allowlist ---------------------------------------------------------------------------------


def test_add_list_and_remove_allowlist_entries(acme, owner_api, member_api):
    response = owner_api.post(
        ALLOWLIST,
        {
            "repository": "ubuntu",
            "reason": "CI base image",
            "expires_at": "2030-12-31",
            "team": "developers",
        },
    )
    assert response.status_code == 201, response.content
    entry = response.json()
    assert entry["repository"] == "library/ubuntu"  # normalised, as on the page
    assert entry["team"] == "developers"
    assert entry["expires_at"] == "2030-12-31T00:00:00Z"
    assert entry["added_by"] == "olivia"
    assert entry["expired"] is False
    assert AccessPolicy.objects.get(organization=acme.org).version == 2
    assert "allowlist_added" in PolicyChange.objects.get().changes
    listed = member_api.get(ALLOWLIST).json()
    assert listed["results"] == [entry]
    assert owner_api.delete(f"{ALLOWLIST}/{entry['id']}").status_code == 204
    assert not AllowlistEntry.objects.exists()
    assert owner_api.delete(f"{ALLOWLIST}/{entry['id']}").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"repository": "Someone/Tool", "reason": "x"}, "repository"),
        ({"repository": "*", "reason": "x"}, "repository"),
        ({"repository": "ghcr.io/a/b", "reason": "x"}, "repository"),
        ({"repository": "a/b", "reason": "   "}, "reason"),
        ({"repository": "a/b", "reason": "x", "expires_at": "2001-01-01"}, "expires_at"),
        ({"repository": "a/b", "reason": "x", "expires_at": "soon"}, "expires_at"),
        ({"repository": "a/b", "reason": "x", "team": "nosuchteam"}, "team"),
        ({"repository": "a/b", "reason": "x", "team": "owners"}, "team"),
        ({"repository": "a/b", "reason": "x", "pattern": "a/b"}, "pattern"),
        ({"reason": "x"}, "repository"),
    ],
)
def test_allowlist_refusals_name_the_field(acme, owner_api, body, field):
    assert field in fields(owner_api.post(ALLOWLIST, body))
    assert not AllowlistEntry.objects.exists()
    assert AccessPolicy.objects.get(organization=acme.org).version == 1


def test_a_duplicate_entry_is_refused(acme, owner_api):
    add_entry(acme.org, "someone/*", actor=acme.owner)
    response = owner_api.post(ALLOWLIST, {"repository": "someone/*", "reason": "again"})
    assert "already has 'someone/*'" in fields(response)["repository"]
    assert AllowlistEntry.objects.count() == 1


def test_another_organisations_entry_is_not_found(acme, api):
    entry = add_entry(acme.globex, "someone/*", actor=acme.gina)
    assert api(acme.owner).delete(f"{ALLOWLIST}/{entry.pk}").status_code == 404
    assert AllowlistEntry.objects.filter(pk=entry.pk).exists()


# --- exception requests ------------------------------------------------------------------------


def test_the_exception_request_flow(
    acme, member_api, owner_api, django_capture_on_commit_callbacks
):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    acme.owner.email = "olivia@example.com"
    acme.owner.save()
    refused = member_api.post("/api/v1/check", {"reference": "someone/tool:1"}).json()
    assert refused["allowed"] is False
    with django_capture_on_commit_callbacks(execute=True):
        created = member_api.post(REQUESTS, {"reference": "someone/tool:1", "justification": "CI"})
    assert created.status_code == 201, created.content
    request = created.json()
    assert (request["status"], request["repository"], request["granted"]) == (
        "pending",
        "someone/tool",
        None,
    )
    assert len(mail.outbox) == 1  # the owners are told
    pending = owner_api.get(f"{REQUESTS}?status=pending").json()
    assert [r["id"] for r in pending["results"]] == [request["id"]]
    until = (timezone.now() + timedelta(days=30)).date().isoformat()
    approved = owner_api.post(
        f"{REQUESTS}/{request['id']}/approve",
        {"repository": "someone/*", "expires_at": until, "note": "ok"},
    )
    assert approved.status_code == 201, approved.content
    assert approved.json()["repository"] == "someone/*"
    assert member_api.post("/api/v1/check", {"reference": "someone/tool:1"}).json()["rule"] == (
        "allowlist"
    )
    mine = member_api.get("/api/v1/exception-requests").json()["results"]
    assert mine[0]["status"] == "approved"
    assert mine[0]["granted"] == {
        "repository": "someone/*",
        "team": None,
        "expires_at": f"{until}T00:00:00Z",
    }
    again = owner_api.post(f"{REQUESTS}/{request['id']}/decline", {"note": "no"})
    assert again.status_code == 409
    assert "already approved by olivia" in again.json()["detail"]


def test_decline_with_a_note(acme, member_api, owner_api):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    request = member_api.post(REQUESTS, {"reference": "a/b", "justification": "x"}).json()
    assert fields(owner_api.post(f"{REQUESTS}/{request['id']}/decline", {})) == {
        "note": "This field is required."
    }
    declined = owner_api.post(f"{REQUESTS}/{request['id']}/decline", {"note": "Use c/d"})
    assert declined.json()["status"] == "declined"
    assert ExceptionRequest.objects.get().note == "Use c/d"


def test_approve_refusals(acme, member_api, owner_api):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    request = member_api.post(REQUESTS, {"reference": "a/b", "justification": "x"}).json()
    url = f"{REQUESTS}/{request['id']}/approve"
    assert set(fields(owner_api.post(url, {"repository": "a/b"}))) == {"expires_at"}
    later = (timezone.now() + timedelta(days=3)).isoformat()
    assert set(fields(owner_api.post(url, {"repository": "c/d", "expires_at": later}))) == {
        "repository"
    }
    assert ExceptionRequest.objects.get().is_pending


def test_asking_without_being_refused_is_400(acme, member_api, owner_api):
    assert (
        "Image Access Management is off"
        in member_api.post(REQUESTS, {"reference": "a/b", "justification": "x"}).json()["detail"]
    )
    set_policy(acme.org, actor=acme.owner, enabled=True)
    assert (
        "owners team"
        in owner_api.post(REQUESTS, {"reference": "a/b", "justification": "x"}).json()["detail"]
    )
    assert fields(member_api.post(REQUESTS, {"reference": "UPPER/case", "justification": "x"}))[
        "reference"
    ]
    assert not ExceptionRequest.objects.exists()


def test_another_organisations_request_is_404(acme, api):
    set_policy(acme.globex, actor=acme.gina, enabled=True)
    api(acme.outsider).post(
        "/api/v1/orgs/globex/exception-requests", {"reference": "a/b", "justification": "x"}
    )
    request = ExceptionRequest.objects.get()
    assert api(acme.owner).get(f"{REQUESTS}/{request.pk}").status_code == 404


# --- check -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reference",
    [
        "ubuntu",
        "bitnami/redis",
        "someone/thing",
        "acme/app",
        "DOCKER.IO/someone/thing",
        "index.docker.io:443/someone/thing",
    ],
)
def test_check_answers_what_check_pull_answers(acme, member_api, reference):
    set_policy(acme.org, actor=acme.owner, enabled=True, official=True)
    out = io.StringIO()
    with contextlib.suppress(SystemExit):
        call_command("check_pull", "mike", reference, stdout=out)
    assert member_api.post("/api/v1/check", {"reference": reference}).json() == json.loads(
        out.getvalue()
    )


@pytest.mark.parametrize(
    "reference",
    ["Docker.io/someone/thing", "DOCKER.IO/someone/thing", "docker.io:443/someone/thing"],
)
def test_check_sees_docker_hub_by_any_of_its_names(acme, member_api, reference):
    set_policy(acme.org, actor=acme.owner, enabled=True)
    answer = member_api.post("/api/v1/check", {"reference": reference}).json()
    assert answer["allowed"] is False
    assert answer["reference"] == "docker.io/someone/thing:latest"


@pytest.mark.parametrize("reference", ["", "UPPER", "a" * 300, "a//b", 7, None])
def test_check_refuses_a_malformed_reference(acme, member_api, reference):
    assert list(fields(member_api.post("/api/v1/check", {"reference": reference}))) == ["reference"]
