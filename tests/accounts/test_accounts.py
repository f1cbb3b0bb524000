"""A person's own account: profile, password change, password reset by e-mail, signing out,
and the error pages, all in the portal's layout."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts.services import user_profile_update
from tests.factories import PASSWORD

PROFILE = reverse("accounts:profile")
NEW_PASSWORD = "a-new-long-passphrase-42"


# --- profile ----------------------------------------------------------------------------------


def test_profile_shows_the_account(acme, login):
    acme.member.email = "mike@example.com"
    acme.member.save()
    page = login(acme.member).get(PROFILE).content.decode()
    assert "Username: <strong>mike</strong>" in page
    assert 'value="mike@example.com"' in page
    assert "Django administration" not in page
    assert f'href="{reverse("password_change")}"' in page


def test_a_name_is_saved_without_the_password(acme, login):
    client = login(acme.member)
    response = client.post(PROFILE, {"first_name": " Mike ", "last_name": "Ross", "email": ""})
    assert response.status_code == 302 and response["Location"] == PROFILE
    acme.member.refresh_from_db()
    assert (acme.member.first_name, acme.member.last_name) == ("Mike", "Ross")
    assert "Profile saved." in client.get(PROFILE).content.decode()


@pytest.mark.parametrize(
    ("password", "error"),
    [
        ("", "Enter your current password to change your e-mail address."),
        ("wrong-password", "That is not your current password."),
    ],
)
def test_changing_the_email_address_needs_the_password(acme, login, password, error):
    client = login(acme.member)
    response = client.post(PROFILE, {"email": "attacker@example.com", "current_password": password})
    assert response.status_code == 400
    assert error in response.content.decode()
    acme.member.refresh_from_db()
    assert acme.member.email == ""


def test_changing_the_email_address_with_the_password(acme, login):
    client = login(acme.member)
    response = client.post(PROFILE, {"email": "Mike@Example.COM", "current_password": PASSWORD})
    assert response.status_code == 302
    acme.member.refresh_from_db()
    assert acme.member.email == "Mike@example.com"  # the domain is case-insensitive
    # The same address in another case is no change: no password needed.
    assert client.post(PROFILE, {"email": "mike@example.com"}).status_code == 302


def test_an_invalid_address_is_a_form_error(acme, login):
    response = login(acme.member).post(
        PROFILE, {"email": "not an address", "current_password": PASSWORD}
    )
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()


def test_profile_service_checks_what_it_stores(acme):
    with pytest.raises(ValidationError) as excinfo:
        user_profile_update(user=acme.member, first_name="x" * 151, last_name="", email="nope")
    assert set(excinfo.value.message_dict) == {"first_name", "email"}
    acme.member.refresh_from_db()
    assert acme.member.first_name == ""
    user = user_profile_update(
        user=acme.member, first_name=" Mike", last_name="", email=" mike@EXAMPLE.com "
    )
    assert (user.first_name, user.email) == ("Mike", "mike@example.com")


# --- password change ---------------------------------------------------------------------------


def test_password_change_in_the_portal_layout(acme, login):
    client = login(acme.member)
    page = client.get(reverse("password_change")).content.decode()
    assert "Django administration" not in page and "breadcrumbs" not in page
    assert "<h2>Change password</h2>" in page
    other = Client()
    assert other.login(username="mike", password=PASSWORD)

    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response["Location"] == reverse("password_change_done")
    assert "Password changed" in client.get(response["Location"]).content.decode()
    # This session stays signed in; the other one is signed out.
    assert client.get(PROFILE).status_code == 200
    assert other.get(PROFILE).status_code == 302
    assert Client().login(username="mike", password=NEW_PASSWORD)


def test_password_change_refuses_a_wrong_old_password(acme, login):
    response = login(acme.member).post(
        reverse("password_change"),
        {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200  # Django re-renders the form
    assert "Your old password was entered incorrectly." in response.content.decode()


# --- password reset -----------------------------------------------------------------------------


def test_login_page_links_to_password_reset(db, client):
    page = client.get(reverse("login")).content.decode()
    assert f'<a href="{reverse("password_reset")}">Forgot password?</a>' in page


def test_password_reset_by_email(acme, client, mailoutbox, settings):
    settings.DEFAULT_FROM_EMAIL = "IAM Portal <portal@example.com>"
    acme.member.email = "mike@example.com"
    acme.member.save()
    response = client.post(reverse("password_reset"), {"email": "MIKE@example.com"})
    assert response["Location"] == reverse("password_reset_done")
    sent = client.get(response["Location"]).content.decode()
    assert "Check your e-mail" in sent and "for 72 hours" in sent

    (mail,) = mailoutbox
    assert mail.to == ["mike@example.com"]
    assert mail.from_email == "IAM Portal <portal@example.com>"
    assert mail.subject == "Reset your IAM Portal password"
    assert '"mike"' in mail.body
    link = re.search(re.escape(settings.SITE_URL) + r"(/accounts/reset/\S+/)", mail.body)[1]

    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done["Location"] == reverse("password_reset_complete")
    assert Client().login(username="mike", password=NEW_PASSWORD)
    # The link works once.
    again = client.get(link, follow=True).content.decode()
    assert "This link no longer works" in again
    assert f'href="{reverse("password_reset")}"' in again


def test_password_reset_mails_an_address_at_most_once_in_five_minutes(
    acme, client, mailoutbox, settings
):
    acme.member.email = "mike@example.com"
    acme.member.save()
    for _ in range(3):
        response = client.post(reverse("password_reset"), {"email": "mike@example.com"})
        assert response["Location"] == reverse("password_reset_done")  # the same answer
    assert len(mailoutbox) == 1
    # Other addresses are not held up.
    acme.owner.email = "olivia@example.com"
    acme.owner.save()
    client.post(reverse("password_reset"), {"email": "olivia@example.com"})
    assert [m.to for m in mailoutbox] == [["mike@example.com"], ["olivia@example.com"]]


def test_password_reset_does_not_say_whether_an_address_has_an_account(acme, client, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response["Location"] == reverse("password_reset_done")
    assert mailoutbox == []


# --- signing out ---------------------------------------------------------------------------------


def test_signing_out_says_so(acme, login):
    client = login(acme.member)
    response = client.post(reverse("logout"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("login")
    page = response.content.decode()
    assert "You have been signed out." in page
    assert client.get(PROFILE).status_code == 302
    # Not said twice, nor to someone who was not signed in.
    assert "signed out" not in client.get(reverse("login")).content.decode()
    assert "signed out" not in Client().post(reverse("logout"), follow=True).content.decode()


# --- error pages ---------------------------------------------------------------------------------


@pytest.fixture
def failing_urls(settings):
    settings.ROOT_URLCONF = "tests.error_urls"


@pytest.mark.parametrize(
    ("url", "status", "heading"),
    [
        ("/test-errors/400/", 400, "400 · Bad request"),
        ("/test-errors/500/", 500, "500 · Something went wrong"),
        ("/no/such/page/", 404, "404 · Not found"),
    ],
)
def test_error_pages_have_a_way_back(db, failing_urls, url, status, heading):
    client = Client(raise_request_exception=False)
    response = client.get(url)
    assert response.status_code == status
    page = response.content.decode()
    assert f"<h1>{heading}</h1>" in page
    assert re.search(r'<a href="/">Back to the portal</a>', page)
    assert "portal.css" in page


def test_403_page_has_a_way_back(acme, login):
    page = login(acme.member).get(reverse("signin:sign_in", kwargs={"org": "acme"}))
    assert page.status_code == 403
    assert "Back to your organizations" in page.content.decode()


def test_csrf_failure_links_back_to_the_form_on_this_site_only(acme):
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("login"))  # sets the CSRF cookie
    same_site = client.post(
        reverse("login"),
        {"username": "mike", "password": PASSWORD},
        HTTP_REFERER="http://testserver/accounts/login/?next=/orgs/",
    )
    assert same_site.status_code == 403
    page = same_site.content.decode()
    assert "Form expired or invalid" in page
    assert 'href="http://testserver/accounts/login/?next=/orgs/"' in page
    assert f'href="{reverse("home")}">Back to the portal' in page
    foreign = client.post(
        reverse("login"), {"username": "mike"}, HTTP_REFERER="https://evil.example/phish"
    )
    assert foreign.status_code == 403
    assert "evil.example" not in foreign.content.decode()
    assert "Back to the portal" in foreign.content.decode()
    assert get_user_model().objects.get(username="mike").last_login is None
