"""Identity providers in the admin: the secret is required once, never shown, kept when left
empty; an id that OIDC_PROVIDERS uses is refused."""

from identity.config import Provider
from identity.models import IdentityProvider

URL = "/admin/identity/identityprovider/"
FORM = {
    "slug": "lab",
    "label": "Lab Keycloak",
    "issuer": "https://kc.example.com/realms/lab",
    "client_id": "portal",
    "scope": "openid email profile groups",
    "groups_claim": "groups",
    "enabled": "on",
}


def test_secret_is_required_then_kept_and_never_shown(admin_client):
    assert admin_client.post(f"{URL}add/", FORM).status_code == 200  # no secret: form again
    assert not IdentityProvider.objects.exists()
    assert admin_client.post(f"{URL}add/", {**FORM, "client_secret": "s3cret"}).status_code == 302
    row = IdentityProvider.objects.get()
    change = f"{URL}{row.pk}/change/"
    assert "s3cret" not in admin_client.get(change).content.decode()
    assert admin_client.post(change, {**FORM, "label": "Lab"}).status_code == 302
    row.refresh_from_db()
    assert (row.label, row.client_secret) == ("Lab", "s3cret")


def test_an_id_of_the_setting_is_refused(admin_client, settings):
    settings.OIDC_PROVIDERS = (
        Provider(id="lab", label="Lab", issuer="https://kc", client_id="c", client_secret="s"),
    )
    response = admin_client.post(f"{URL}add/", {**FORM, "client_secret": "x"})
    assert "OIDC_PROVIDERS already configures a provider with this id" in response.content.decode()
    assert not IdentityProvider.objects.exists()
