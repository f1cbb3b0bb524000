"""An identity provider's requests at the same time: one account per username, and no
membership change lost."""

import pytest

from orgs.models import Team, TeamMembership
from provisioning.models import ProvisionedAccount
from provisioning.selectors import scim_users
from provisioning.services import (
    GroupData,
    UserData,
    scim_group_update,
    scim_token_create,
    scim_user_create,
)
from tests.concurrency import run_at_once
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_same_user_created_twice_at_once_is_one_account(acme):
    token, _ = scim_token_create(organization=acme.org, name="okta", actor=acme.owner)

    def create():
        scim_user_create(organization=acme.org, token=token, data=UserData(username="alice"))

    outcomes = run_at_once(create, create, slowed=("auth_user",))
    assert outcomes == ["ValidationError", "ok"]
    assert ProvisionedAccount.objects.filter(user__username="alice").count() == 1


def test_two_group_updates_at_once_are_applied_one_after_the_other(acme):
    token, _ = scim_token_create(organization=acme.org, name="okta", actor=acme.owner)
    team = Team.objects.get(organization=acme.org, name="developers")
    for name in ("ann", "bob"):
        TeamMembership.objects.create(
            team=Team.objects.get(organization=acme.org, name="members"), user=make_user(name)
        )
    users = {user.username: user.pk for user in scim_users(organization=acme.org)}

    def replace_with(*names):
        def call():
            scim_group_update(
                team=team,
                token=token,
                data=GroupData(
                    display_name="developers", member_ids=frozenset(users[n] for n in names)
                ),
                allowed=scim_users(organization=acme.org),
            )

        return call

    outcomes = run_at_once(
        replace_with("mike", "ann"), replace_with("mike", "bob"), slowed=("orgs_teammembership",)
    )
    assert outcomes == ["ok", "ok"]
    members = set(team.memberships.values_list("user__username", flat=True))
    assert members in ({"mike", "ann"}, {"mike", "bob"})
