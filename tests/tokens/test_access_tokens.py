"""Personal access tokens: the services, the settings page and ``manage.py create_token``."""

import hashlib
import io
import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_user
from tokens.authentication import SignInRefused, sign_in
from tokens.models import AccessToken
from tokens.protocol import Password
from tokens.services import MAX_EXPIRY_DAYS, TOKEN_PREFIX, access_token_create, access_token_revoke

SECRET_RE = re.compile(r"iamp_[A-Za-z0-9_-]{43}")
LIST_URL = reverse("tokens:list")


def raw_row(token: AccessToken) -> tuple:
    """The token's row exactly as the database holds it (no model field in between)."""
    table = connection.ops.quote_name(AccessToken._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [token.pk])
        return cursor.fetchone()


def authenticate(token_user, secret, *, username=None):
    """The username the token service signs a token for, given ``token_user``'s name (or
    ``username``) and ``secret``; None when it refuses them."""
    request = RequestFactory().get("/auth/token")
    try:
        signed_in = sign_in(request, Password(username or token_user.username, secret))
    except SignInRefused:
        return None
    return signed_in.username


# --- creation ----------------------------------------------------------------------


def test_create_returns_a_prefixed_secret_and_stores_only_its_digest(acme):
    token, secret = access_token_create(user=acme.member, name="laptop")

    assert SECRET_RE.fullmatch(secret)
    assert secret.startswith(TOKEN_PREFIX)
    token.refresh_from_db()
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.hint == secret[-4:]
    assert token.name == "laptop"
    assert token.expires_at is None
    assert token.status == "active"

    row = raw_row(token)
    random_part = secret[len(TOKEN_PREFIX) : -len(token.hint)]
    for value in row:
        assert secret not in str(value)
        assert random_part not in str(value)


def test_every_secret_is_new(acme):
    secrets = {access_token_create(user=acme.member, name=f"t{i}")[1] for i in range(20)}
    assert len(secrets) == 20


def test_name_is_stripped_and_required(acme):
    token, _ = access_token_create(user=acme.member, name="  ci  ")
    assert token.name == "ci"
    for blank in ("", "   ", None):
        with pytest.raises(ValidationError) as excinfo:
            access_token_create(user=acme.member, name=blank)
        assert "name" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        access_token_create(user=acme.member, name="x" * 101)
    assert excinfo.value.message_dict["name"] == ["Token names are at most 100 characters."]


def test_names_are_unique_among_a_users_active_tokens(acme):
    first, _ = access_token_create(user=acme.member, name="ci")

    with pytest.raises(ValidationError) as excinfo:
        access_token_create(user=acme.member, name="ci")
    assert excinfo.value.message_dict["name"] == ["You already have an active token named 'ci'."]
    assert AccessToken.objects.filter(user=acme.member).count() == 1

    # Another user may use the name; after a revocation the name is free again.
    access_token_create(user=acme.owner, name="ci")
    access_token_revoke(token=first)
    second, _ = access_token_create(user=acme.member, name="ci")
    assert second.pk != first.pk
    assert AccessToken.objects.filter(user=acme.member, name="ci").count() == 2


def test_unique_active_name_is_a_database_constraint(acme):
    access_token_create(user=acme.member, name="ci")
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessToken.objects.create(user=acme.member, name="ci", secret_hash="0" * 64, hint="abcd")


@pytest.mark.parametrize("days", [1, 30, MAX_EXPIRY_DAYS])
def test_expiry_in_days(acme, days):
    before = timezone.now()
    token, _ = access_token_create(user=acme.member, name="ci", expires_days=days)
    after = timezone.now()
    assert before + timedelta(days=days) <= token.expires_at <= after + timedelta(days=days)


@pytest.mark.parametrize("days", [0, -1, MAX_EXPIRY_DAYS + 1])
def test_expiry_out_of_range_is_refused(acme, days):
    with pytest.raises(ValidationError) as excinfo:
        access_token_create(user=acme.member, name="ci", expires_days=days)
    assert excinfo.value.message_dict["expires_days"] == [
        f"Expiry must be between 1 and {MAX_EXPIRY_DAYS} days."
    ]
    assert not AccessToken.objects.exists()


def test_inactive_user_cannot_create_tokens(acme):
    acme.member.is_active = False
    acme.member.save()
    with pytest.raises(ValidationError, match="Deactivated accounts"):
        access_token_create(user=acme.member, name="ci")
    assert not AccessToken.objects.exists()


# --- authentication ------------------------------------------------------------------


def test_authenticate_returns_the_owner(acme):
    _, secret = access_token_create(user=acme.member, name="ci")
    assert authenticate(acme.member, secret) == acme.member.username


def test_authenticate_refuses_another_username_and_wrong_secrets(acme):
    _, secret = access_token_create(user=acme.member, name="ci")
    assert authenticate(acme.owner, secret) is None
    assert authenticate(acme.member, secret, username="MIKE") is None
    wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert authenticate(acme.member, wrong) is None


def test_a_password_shaped_secret_costs_no_query(acme, settings, django_assert_num_queries):
    settings.REGISTRY_PASSWORD_AUTH = False
    with django_assert_num_queries(0):
        assert authenticate(acme.member, "test-pass-123") is None
        assert authenticate(acme.member, TOKEN_PREFIX + "short") is None


def test_revoke_stops_the_token_at_once_and_is_idempotent(acme):
    token, secret = access_token_create(user=acme.member, name="ci")
    access_token_revoke(token=token)
    token.refresh_from_db()
    revoked_at = token.revoked_at
    assert revoked_at is not None
    assert token.status == "revoked"
    assert authenticate(acme.member, secret) is None

    access_token_revoke(token=token)
    token.refresh_from_db()
    assert token.revoked_at == revoked_at


def test_expired_token_does_not_authenticate(acme):
    token, secret = access_token_create(user=acme.member, name="ci", expires_days=1)
    assert authenticate(acme.member, secret) == acme.member.username

    AccessToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    token.refresh_from_db()
    assert token.status == "expired"
    assert authenticate(acme.member, secret) is None


def test_deactivating_the_user_stops_the_token_at_once(acme):
    token, secret = access_token_create(user=acme.member, name="ci")
    assert authenticate(acme.member, secret) == acme.member.username

    acme.member.is_active = False
    acme.member.save(update_fields=["is_active"])
    assert authenticate(acme.member, secret) is None
    token.refresh_from_db()
    assert token.revoked_at is None  # nothing else had to happen


def test_last_use_is_recorded_at_most_once_a_minute(acme, django_assert_num_queries):
    token, secret = access_token_create(user=acme.member, name="ci")
    assert token.last_used_at is None

    # the lookup, the memberships (read once per memberships epoch), recording the use
    with django_assert_num_queries(3):
        assert authenticate(acme.member, secret) == acme.member.username
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None
    assert timezone.now() - first_use < timedelta(seconds=10)

    with django_assert_num_queries(1):  # within the minute: lookup only, no write
        assert authenticate(acme.member, secret) == acme.member.username
    token.refresh_from_db()
    assert token.last_used_at == first_use

    a_minute_ago = timezone.now() - timedelta(minutes=1, seconds=1)
    AccessToken.objects.filter(pk=token.pk).update(last_used_at=a_minute_ago)
    with django_assert_num_queries(2):
        assert authenticate(acme.member, secret) == acme.member.username
    token.refresh_from_db()
    assert token.last_used_at > a_minute_ago + timedelta(minutes=1)


def test_failed_authentication_records_nothing(acme):
    token, secret = access_token_create(user=acme.member, name="ci")
    assert authenticate(acme.owner, secret) is None
    token.refresh_from_db()
    assert token.last_used_at is None


def test_scope_defaults_to_write_and_unknown_scopes_are_refused(acme):
    token, _ = access_token_create(user=acme.member, name="ci")
    assert token.scope == "repo:write"
    assert not token.read_only
    read, _ = access_token_create(user=acme.member, name="puller", scope="repo:read")
    assert read.read_only
    with pytest.raises(ValidationError) as refused:
        access_token_create(user=acme.member, name="admin", scope="repo:admin")
    assert refused.value.message_dict == {
        "scope": ["The scope must be one of repo:read, repo:write."]
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessToken.objects.filter(pk=token.pk).update(scope="repo:admin")


def test_expiry_as_a_moment(acme):
    moment = timezone.now() + timedelta(hours=5)
    token, _ = access_token_create(user=acme.member, name="ci", expires_at=moment)
    assert token.expires_at == moment
    for bad in (timezone.now() - timedelta(seconds=1), timezone.now() + timedelta(days=3651)):
        with pytest.raises(ValidationError, match="must be in the future and at most 3650 days"):
            access_token_create(user=acme.member, name="later", expires_at=bad)


def test_every_token_has_its_own_uuid(acme):
    tokens = [access_token_create(user=acme.member, name=f"t{i}")[0] for i in range(3)]
    assert len({token.uuid for token in tokens}) == 3


# --- the settings page -----------------------------------------------------------------


def test_create_in_the_browser_shows_the_secret_once(acme, login):
    client = login(acme.member)

    response = client.post(LIST_URL, {"name": "laptop", "expires_days": "30", "scope": "repo:read"})

    assert response.status_code == 200
    secret = response.context["secret"]
    assert SECRET_RE.fullmatch(secret)
    assert secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert "no-cache" in response["Cache-Control"]
    token = AccessToken.objects.get(user=acme.member)
    assert token.name == "laptop"
    assert token.expires_at is not None
    assert token.scope == "repo:read"
    assert authenticate(acme.member, secret) == acme.member.username

    listing = client.get(LIST_URL)
    assert listing.status_code == 200
    page = listing.content.decode()
    assert secret not in page
    assert secret[len(TOKEN_PREFIX) : -4] not in page
    assert "laptop" in page
    assert f"iamp_…{token.hint}" in page
    assert "<code>repo:read</code>" in page


def test_the_list_shows_only_my_tokens(acme, login):
    access_token_create(user=acme.owner, name="olivias-laptop")
    access_token_create(user=acme.member, name="mikes-ci")

    page = login(acme.member).get(LIST_URL).content.decode()

    assert "mikes-ci" in page
    assert "olivias-laptop" not in page


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "scope": "repo:read"}, "name"),
        ({"name": "ci", "expires_days": "0", "scope": "repo:read"}, "expires_days"),
        (
            {"name": "ci", "expires_days": str(MAX_EXPIRY_DAYS + 1), "scope": "repo:read"},
            "expires_days",
        ),
        ({"name": "ci", "expires_days": "soon", "scope": "repo:read"}, "expires_days"),
        ({"name": "x" * 101, "scope": "repo:read"}, "name"),
        ({"name": "ci"}, "scope"),
        ({"name": "ci", "scope": "repo:admin"}, "scope"),
    ],
)
def test_invalid_form_is_400_and_creates_nothing(acme, login, data, field):
    response = login(acme.member).post(LIST_URL, data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert "secret" not in response.context
    assert not AccessToken.objects.exists()


def test_duplicate_name_in_the_browser_is_400_with_the_services_message(acme, login):
    access_token_create(user=acme.member, name="ci")
    response = login(acme.member).post(LIST_URL, {"name": "ci", "scope": "repo:write"})
    assert response.status_code == 400
    assert "You already have an active token named" in response.content.decode()
    assert "secret" not in response.context
    assert AccessToken.objects.filter(user=acme.member).count() == 1


def test_revoke_my_token(acme, login):
    token, secret = access_token_create(user=acme.member, name="ci")
    client = login(acme.member)

    response = client.post(reverse("tokens:revoke", args=[token.pk]))

    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert authenticate(acme.member, secret) is None
    page = client.get(LIST_URL).content.decode()
    assert "revoked" in page
    assert "Token &#x27;ci&#x27; revoked" in page


def test_revoking_someone_elses_token_is_404_and_changes_nothing(acme, login):
    token, secret = access_token_create(user=acme.owner, name="ci")

    response = login(acme.member).post(reverse("tokens:revoke", args=[token.pk]))

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert authenticate(acme.owner, secret) == acme.owner.username


def test_revoke_is_confirmed_and_needs_sign_in(acme, client, login):
    token, _ = access_token_create(user=acme.member, name="ci")
    url = reverse("tokens:revoke", args=[token.pk])
    assert client.post(url).status_code == 302  # anonymous: to the login page
    page = login(acme.member).get(url)  # the confirmation step changes nothing
    assert page.status_code == 200
    html = page.content.decode()
    assert f"Revoke token &#x27;ci&#x27; (iamp_…{token.hint})?" in html
    assert "It stops working at once" in html
    token.refresh_from_db()
    assert token.revoked_at is None
    response = client.post(url, follow=True)
    assert "Token &#x27;ci&#x27; revoked. It no longer works." in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "This token is already revoked." in client.get(url).content.decode()


# --- manage.py create_token ---------------------------------------------------------------


def test_create_token_command_prints_the_secret_alone(acme):
    out = io.StringIO()
    call_command("create_token", "mike", "--name", "ci", stdout=out)

    printed = out.getvalue()
    secret = printed.rstrip("\n")
    assert printed == secret + "\n"
    assert SECRET_RE.fullmatch(secret)
    token = AccessToken.objects.get(user=acme.member)
    assert token.name == "ci"
    assert token.expires_at is None
    assert token.scope == "repo:write"  # the default, what tokens could always do
    assert authenticate(acme.member, secret) == acme.member.username


@pytest.mark.parametrize("scope", ["repo:read", "repo:write"])
def test_create_token_command_with_scope(acme, scope):
    call_command("create_token", "mike", "--name", "ci", "--scope", scope, stdout=io.StringIO())
    assert AccessToken.objects.get(user=acme.member).scope == scope


def test_create_token_command_refuses_an_unknown_scope(acme):
    with pytest.raises(CommandError, match="invalid choice: 'repo:admin'"):
        call_command(
            "create_token", "mike", "--name", "ci", "--scope", "repo:admin", stdout=io.StringIO()
        )
    assert not AccessToken.objects.exists()


def test_create_token_command_with_expiry(acme):
    out = io.StringIO()
    call_command("create_token", "mike", "--name", "ci", "--expires-days", "7", stdout=out)
    token = AccessToken.objects.get(user=acme.member)
    remaining = token.expires_at - timezone.now()
    assert timedelta(days=6, hours=23) < remaining <= timedelta(days=7)


def test_create_token_command_unknown_user(db):
    with pytest.raises(CommandError, match=r"^Unknown user 'nobody'\.$"):
        call_command("create_token", "nobody", "--name", "ci", stdout=io.StringIO())
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize("days", ["0", "-3", str(MAX_EXPIRY_DAYS + 1)])
def test_create_token_command_refuses_out_of_range_expiry(acme, days):
    with pytest.raises(CommandError, match=f"between 1 and {MAX_EXPIRY_DAYS} days"):
        call_command(
            "create_token", "mike", "--name", "ci", "--expires-days", days, stdout=io.StringIO()
        )
    assert not AccessToken.objects.exists()


def test_create_token_command_refuses_non_numeric_expiry(acme):
    with pytest.raises(CommandError, match="--expires-days: invalid int value: 'soon'"):
        call_command(
            "create_token", "mike", "--name", "ci", "--expires-days", "soon", stdout=io.StringIO()
        )
    assert not AccessToken.objects.exists()


def test_create_token_command_refuses_duplicate_name_and_inactive_user(acme):
    call_command("create_token", "mike", "--name", "ci", stdout=io.StringIO())
    with pytest.raises(CommandError, match="already have an active token named 'ci'"):
        call_command("create_token", "mike", "--name", "ci", stdout=io.StringIO())

    make_user("gone", is_active=False)
    with pytest.raises(CommandError, match="Deactivated accounts cannot create tokens"):
        call_command("create_token", "gone", "--name", "ci", stdout=io.StringIO())
    assert AccessToken.objects.count() == 1
