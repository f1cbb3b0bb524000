"""The Django admin keeps the portal's rules: no membership without consent, the owners team
and an active owner stay, namespaces stay exclusive, and a broken rule is an error on the page,
never a 500."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from orgs.models import Invitation, Organization, Team, TeamMembership
from policies.models import AccessPolicy, Publisher
from tests.factories import add_owner, invite, make_org, make_user


@pytest.fixture
def admin_client(acme, client):
    client.force_login(make_user("admin", is_staff=True, is_superuser=True))
    return client


def form_data(response) -> dict:
    """The POST data an admin change page would submit unchanged: its form and inlines."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(n): management[n].value() for n in management.fields})
        forms += inline.formset.forms
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value not in (None, False):
                data[form.add_prefix(name)] = value
    return data


def inline_prefix_of(data: dict, team: Team) -> str:
    return next(
        k.removesuffix("-id") for k, v in data.items() if k.endswith("-id") and v == team.pk
    )


# --- memberships -------------------------------------------------------------------------------


def test_memberships_cannot_be_added_or_changed_in_the_admin(acme, admin_client):
    """Read-only: adding one would make someone a member without their consent."""
    assert admin_client.get(reverse("admin:orgs_teammembership_add")).status_code == 403
    changelist = admin_client.get(reverse("admin:orgs_teammembership_changelist"))
    assert reverse("admin:orgs_teammembership_add") not in changelist.content.decode()
    membership = TeamMembership.objects.get(user=acme.member)
    url = reverse("admin:orgs_teammembership_change", args=[membership.pk])
    assert admin_client.get(url).status_code == 200  # view only
    owners = acme.org.teams.get(name="owners")
    response = admin_client.post(url, {"team": owners.pk, "user": acme.gina.pk})
    assert response.status_code == 403
    membership.refresh_from_db()
    assert (membership.team.name, membership.user) == ("developers", acme.member)
    # A team's page lists its members without a way to add one.
    team = acme.org.teams.get(name="developers")
    response = admin_client.get(reverse("admin:orgs_team_change", args=[team.pk]))
    assert response.context["inline_admin_formsets"][0].has_add_permission is False


def test_the_last_owners_membership_cannot_be_deleted(acme, admin_client):
    membership = TeamMembership.objects.get(user=acme.owner, team__name="owners")
    url = reverse("admin:orgs_teammembership_delete", args=[membership.pk])
    page = admin_client.get(url).content.decode()
    assert "olivia is the last owner of acme" in page
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert TeamMembership.objects.filter(pk=membership.pk).exists()
    # The bulk action says the same.
    response = admin_client.post(
        reverse("admin:orgs_teammembership_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [membership.pk, TeamMembership.objects.get(user=acme.member).pk],
            "post": "yes",
        },
    )
    assert response.status_code == 200
    assert "olivia is the last owner of acme" in response.content.decode()
    assert TeamMembership.objects.filter(user__in=[acme.owner, acme.member]).count() == 2


def test_an_owner_can_be_removed_while_another_remains(acme, admin_client):
    add_owner(acme.org, acme.gina)
    membership = TeamMembership.objects.get(user=acme.owner, team__name="owners")
    url = reverse("admin:orgs_teammembership_delete", args=[membership.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not TeamMembership.objects.filter(pk=membership.pk).exists()


# --- user accounts -----------------------------------------------------------------------------


def user_change_data(user, *, active: bool) -> dict:
    """What the admin's user change page submits for ``user``, with *Active* as given."""
    joined = timezone.localtime(user.date_joined)
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "date_joined_0": joined.strftime("%Y-%m-%d"),
        "date_joined_1": joined.strftime("%H:%M:%S"),
    }
    return data | ({"is_active": "on"} if active else {})


def test_the_last_owners_account_cannot_be_deleted(acme, admin_client):
    """Deleting an account deletes its memberships: not the last owner's."""
    url = reverse("admin:auth_user_delete", args=[acme.owner.pk])
    page = admin_client.get(url).content.decode()
    assert "olivia is the last owner of acme" in page
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert get_user_model().objects.filter(pk=acme.owner.pk).exists()
    assert TeamMembership.objects.filter(user=acme.owner, team__name="owners").exists()
    # The bulk action refuses the whole selection, and says why.
    response = admin_client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "delete_selected", "_selected_action": [acme.owner.pk, acme.member.pk]},
    )
    assert "olivia is the last owner of acme" in response.content.decode()
    response = admin_client.post(
        reverse("admin:auth_user_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [acme.owner.pk, acme.member.pk],
            "post": "yes",
        },
    )
    assert response.status_code == 200
    assert get_user_model().objects.filter(pk__in=[acme.owner.pk, acme.member.pk]).count() == 2


def test_the_last_owners_account_cannot_be_deactivated(acme, admin_client):
    url = reverse("admin:auth_user_change", args=[acme.owner.pk])
    response = admin_client.post(url, user_change_data(acme.owner, active=False))
    assert response.status_code == 200
    assert "olivia is the last owner of acme" in response.content.decode()
    acme.owner.refresh_from_db()
    assert acme.owner.is_active
    # Other changes to the account still save.
    response = admin_client.post(url, user_change_data(acme.owner, active=True))
    assert response.status_code == 302


def test_an_owners_account_can_go_while_another_active_owner_remains(acme, admin_client):
    add_owner(acme.org, acme.member)
    url = reverse("admin:auth_user_change", args=[acme.member.pk])
    assert admin_client.post(url, user_change_data(acme.member, active=False)).status_code == 302
    acme.member.refresh_from_db()
    assert not acme.member.is_active
    # mike no longer counts: olivia is now the last active owner.
    page = admin_client.get(reverse("admin:auth_user_delete", args=[acme.owner.pk])).content
    assert "olivia is the last owner of acme" in page.decode()
    # A member who owns nothing goes as before.
    response = admin_client.post(
        reverse("admin:auth_user_delete", args=[acme.outsider.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not get_user_model().objects.filter(pk=acme.outsider.pk).exists()


def test_removing_every_owner_in_the_team_inline_is_a_form_error(acme, admin_client):
    add_owner(acme.org, acme.gina)
    owners = acme.org.teams.get(name="owners")
    url = reverse("admin:orgs_team_change", args=[owners.pk])
    data = form_data(admin_client.get(url))
    for key in [k for k in data if k.endswith("-id") and k.startswith("memberships-")]:
        data[key.replace("-id", "-DELETE")] = "on"
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "gina and olivia are the last owners of acme" in response.content.decode()
    assert owners.memberships.count() == 2
    # One of the two may go.
    data = form_data(admin_client.get(url))
    data["memberships-0-DELETE"] = "on"
    assert admin_client.post(url, data).status_code == 302
    assert owners.memberships.count() == 1


# --- teams ----------------------------------------------------------------------------------


def test_the_owners_team_cannot_be_deleted(acme, admin_client):
    owners = acme.org.teams.get(name="owners")
    url = reverse("admin:orgs_team_delete", args=[owners.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert "The owners team of an organization cannot be deleted" in page.content.decode()
    assert admin_client.post(url, {"post": "yes"}).status_code == 200
    response = admin_client.post(
        reverse("admin:orgs_team_changelist"),
        {"action": "delete_selected", "_selected_action": [owners.pk], "post": "yes"},
    )
    assert "cannot be deleted" in response.content.decode()
    assert Team.objects.filter(pk=owners.pk).exists()
    developers = acme.org.teams.get(name="developers")
    url = reverse("admin:orgs_team_delete", args=[developers.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302


def test_a_second_owners_team_is_a_form_error(acme, admin_client):
    url = reverse("admin:orgs_team_add")
    response = admin_client.post(url, {"organization": acme.org.pk, "name": "owners"})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert acme.org.teams.filter(name="owners").count() == 1


def test_a_team_cannot_be_moved_to_another_organisation(acme, admin_client):
    """Its members would become members of the other organisation without having agreed."""
    developers = acme.org.teams.get(name="developers")
    url = reverse("admin:orgs_team_change", args=[developers.pk])
    data = {**form_data(admin_client.get(url)), "organization": acme.globex.pk}
    assert admin_client.post(url, data).status_code == 302
    developers.refresh_from_db()
    assert developers.organization == acme.org


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("delete owners", "The owners team of an organization cannot be deleted or renamed."),
        ("rename owners", "The owners team of an organization cannot be deleted or renamed."),
        ("rename developers to owners", "Please correct the duplicate data for name."),
    ],
)
def test_organisation_team_inline_keeps_the_owners_team(acme, admin_client, change, message):
    url = reverse("admin:orgs_organization_change", args=[acme.org.pk])
    data = form_data(admin_client.get(url))
    owners = inline_prefix_of(data, acme.org.teams.get(name="owners"))
    developers = inline_prefix_of(data, acme.org.teams.get(name="developers"))
    if change == "delete owners":
        data[f"{owners}-DELETE"] = "on"
    elif change == "rename owners":
        data[f"{owners}-name"] = "bosses"
    else:
        data[f"{developers}-name"] = "owners"
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert sorted(acme.org.teams.values_list("name", flat=True)) == [
        "developers",
        "members",
        "owners",
    ]


def test_organisation_created_in_the_admin_gets_its_teams_and_policy(acme, admin_client):
    response = admin_client.post(reverse("admin:orgs_organization_add"), {"name": "initech"})
    assert response.status_code == 302
    created = Organization.objects.get(name="initech")
    assert created.teams.get(name="owners").members.get().username == "admin"
    assert created.teams.filter(name="members").exists()
    assert AccessPolicy.objects.filter(organization=created).exists()


# --- namespaces -----------------------------------------------------------------------------


def test_a_publisher_cannot_take_an_organisations_namespace(acme, admin_client):
    url = reverse("admin:policies_publisher_add")
    response = admin_client.post(
        url, {"namespace": "acme", "display_name": "Acme", "verified": "on"}
    )
    assert response.status_code == 200
    assert "is the namespace of the organization acme" in response.content.decode()
    assert not Publisher.objects.filter(namespace="acme").exists()
    # Renaming an existing publisher onto an organisation is refused the same way.
    bitnami = Publisher.objects.get(namespace="bitnami")
    url = reverse("admin:policies_publisher_change", args=[bitnami.pk])
    response = admin_client.post(
        url, {"namespace": "globex", "display_name": "x", "verified": "on"}
    )
    assert response.status_code == 200
    bitnami.refresh_from_db()
    assert bitnami.namespace == "bitnami"
    url = reverse("admin:policies_publisher_add")
    data = {"namespace": "newpub", "display_name": "New", "verified": "on"}
    assert admin_client.post(url, data).status_code == 302


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bitnami", "The name &#x27;bitnami&#x27; belongs to a publisher."),
        ("library", "The name &#x27;library&#x27; is reserved."),
        ("acme", "The name &#x27;acme&#x27; is already taken."),
        ("Bad Name", "may contain only lowercase letters"),
    ],
)
def test_an_organisation_cannot_take_a_publishers_or_reserved_namespace_in_the_admin(
    acme, admin_client, name, message
):
    response = admin_client.post(reverse("admin:orgs_organization_add"), {"name": name})
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert html.count('class="errorlist') == 1  # said once
    assert Organization.objects.count() == 2


def test_publisher_clean_refuses_an_organisations_namespace(db):
    from django.core.exceptions import ValidationError

    make_org("initech", owner=make_user("olivia"))
    with pytest.raises(ValidationError, match="namespace of the organization initech"):
        Publisher(namespace="initech", display_name="Initech").full_clean()


# --- invitations ----------------------------------------------------------------------------


def test_invitations_are_read_only_in_the_admin_and_can_be_revoked(acme, admin_client):
    pending, _ = invite(acme.org, "gina", by=acme.owner)
    used, _ = invite(acme.org, "oscar", by=acme.owner)
    used.status = "accepted"
    used.save()
    assert admin_client.get(reverse("admin:orgs_invitation_add")).status_code == 403
    changelist = reverse("admin:orgs_invitation_changelist")
    assert "gina" in admin_client.get(changelist).content.decode()
    response = admin_client.post(
        changelist,
        {"action": "revoke_invitations", "_selected_action": [pending.pk, used.pk]},
        follow=True,
    )
    assert "Revoked 1 invitation(s)." in response.content.decode()
    assert dict(Invitation.objects.values_list("pk", "status")) == {
        pending.pk: "revoked",
        used.pk: "accepted",
    }
