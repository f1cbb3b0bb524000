"""Single sign-on against a real OpenID provider (Canaille, in-process, over HTTP)."""

from django.contrib.auth import get_user_model

from identity.models import SsoIdentity


def test_first_sign_in_creates_the_account_just_in_time(idp, client, db):
    alice = idp.person("alice", formatted_name="Alice Liddell")
    response = idp.sign_in(client, alice)
    assert response.status_code == 302, response.content[:500]
    user = get_user_model().objects.get(username="alice")
    assert user.email == "alice@corp.example"
    assert not user.has_usable_password()
    assert SsoIdentity.objects.get(user=user).provider == "corp"
    assert client.get("/orgs/").context["user"] == user
