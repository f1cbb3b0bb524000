"""The token pages read through user-scoped selectors: another user's tokens and sessions are
never in them, and the page lists only sessions still open."""

from django.urls import reverse

from tokens.selectors import access_tokens_of, password_binding, registry_sessions_of
from tokens.services import access_token_create, refresh_token_create, refresh_token_revoke


def open_session(user, client_id, token=None):
    session, _ = refresh_token_create(
        user_id=user.pk,
        access_token_id=token.pk if token else None,
        client_id=client_id,
        password_binding="" if token else password_binding(password_hash=user.password),
    )
    return session


def test_registry_sessions_of_a_user(acme):
    token, _ = access_token_create(user=acme.member, name="laptop")
    current = open_session(acme.member, "docker-laptop", token)
    ended = refresh_token_revoke(session=open_session(acme.member, "old-ci"))
    open_session(acme.owner, "olivias-docker")
    assert list(registry_sessions_of(user=acme.member, open_only=True)) == [current]
    assert set(registry_sessions_of(user=acme.member)) == {current, ended}
    assert list(access_tokens_of(user=acme.member)) == [token]


def test_the_tokens_page_lists_my_open_sessions_only(acme, login):
    open_session(acme.member, "docker-laptop")
    refresh_token_revoke(session=open_session(acme.member, "old-ci"))
    open_session(acme.owner, "olivias-docker")
    html = login(acme.member).get(reverse("tokens:list")).content.decode()
    assert "docker-laptop" in html
    assert "old-ci" not in html and "olivias-docker" not in html
