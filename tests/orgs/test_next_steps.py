"""A new organisation's home shows its owners the next steps until one of them dismisses them."""

from django.urls import reverse

from orgs.selectors import organization_next_steps
from orgs.services import organization_create, team_member_add
from tests.factories import invite, make_user, set_policy

HOME = reverse("orgs:detail", kwargs={"org": "initech"})


def test_next_steps_say_what_is_done(db):
    olivia = make_user("olivia")
    org = organization_create(name="initech", creator=olivia)
    steps = organization_next_steps(organization=org)
    assert [(s.label, s.done) for s in steps] == [
        ("Invite members", False),
        ("Turn on Image Access Management", False),
        ("Set up sign-in enforcement for Docker Desktop", None),
    ]
    invite(org, "someone@example.com", by=olivia)
    set_policy(org, actor=olivia, enabled=True)
    assert [s.done for s in organization_next_steps(organization=org)] == [True, True, None]


def test_owners_see_them_until_dismissed_and_members_never(db, login):
    olivia, mike = make_user("olivia"), make_user("mike")
    org = organization_create(name="initech", creator=olivia)
    client = login(olivia)
    page = client.get(HOME).content.decode()
    assert 'data-testid="next-steps"' in page
    assert reverse("orgs:invitations", kwargs={"org": "initech"}) in page
    assert reverse("signin:sign_in", kwargs={"org": "initech"}) in page

    team_member_add(team=org.teams.get(name="members"), user=mike)
    assert 'data-testid="next-steps"' not in login(mike).get(HOME).content.decode()
    client = login(olivia)
    response = client.post(reverse("orgs:next_steps_dismiss", kwargs={"org": "initech"}))
    assert response["Location"] == HOME
    assert 'data-testid="next-steps"' not in client.get(HOME).content.decode()
