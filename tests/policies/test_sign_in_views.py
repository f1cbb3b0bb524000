"""Settings > Enforce sign-in: the downloads and the page, for one and several organisations."""

import json
import plistlib

import pytest
from django.urls import reverse

from orgs import services
from policies import signin
from tests.factories import add_owner, make_org

PAGE = reverse("policies:sign_in", kwargs={"org": "acme"})
DOWNLOAD = reverse("policies:sign_in_registry_json", kwargs={"org": "acme"})


def test_registry_json_download_is_exact(acme, login):
    response = login(acme.owner).get(DOWNLOAD)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="registry.json"'
    assert response.content == b'{"allowedOrgs":["acme"]}'
    assert not response.content.startswith(b"\xef\xbb\xbf")
    assert json.loads(response.content.decode("utf-8")) == {"allowedOrgs": ["acme"]}


def test_owner_of_several_orgs_lists_them_in_one_file(acme, login):
    add_owner(acme.globex, acme.owner)
    client = login(acme.owner)
    response = client.get(DOWNLOAD, {"also": "globex"})
    assert response.content == b'{"allowedOrgs":["acme","globex"]}'
    page = client.get(PAGE, {"also": "globex"}).content.decode()
    assert "{&quot;allowedOrgs&quot;:[&quot;acme&quot;,&quot;globex&quot;]}" in page
    assert "4.36" in page  # several organisations need a recent Docker Desktop
    assert "--allowed-org=" not in page  # the installer flag takes one organisation
    reg = client.get(reverse("policies:sign_in_reg", kwargs={"org": "acme"}), {"also": "globex"})
    assert reg.content == signin.windows_reg_file(signin.allowed_orgs(["acme", "globex"]))
    profile = client.get(
        reverse("policies:sign_in_mobileconfig", kwargs={"org": "acme"}), {"also": "globex"}
    )
    assert profile["Content-Type"] == "application/x-apple-aspen-config"
    payload = plistlib.loads(profile.content)["PayloadContent"][0]
    assert payload["PayloadType"] == "com.docker.config"
    assert payload["allowedOrgs"] == "acme;globex"


def test_an_organization_listed_twice_is_a_clear_400(acme, login):
    add_owner(acme.globex, acme.owner)
    client = login(acme.owner)
    for url in (DOWNLOAD, PAGE):
        response = client.get(url, {"also": ["globex", "globex"]})
        assert response.status_code == 400
        assert "globex is listed more than once." in response.content.decode()


@pytest.mark.parametrize("other", ["globex", "nosuchorg", "Acme", "acme; rm -rf /", "$(id)"])
def test_orgs_the_owner_does_not_own_are_refused(acme, login, other):
    client = login(acme.owner)
    response = client.get(DOWNLOAD, {"also": other})
    assert response.status_code == 400
    assert b"is not another organization you own" in response.content
    page = client.get(PAGE, {"also": other})
    assert page.status_code == 400
    assert "rm -rf" not in page.content.decode().split("</form>", 1)[1]


def test_page_shows_paths_and_commands_for_every_os(acme, login):
    html = login(acme.owner).get(PAGE).content.decode()
    for path in (
        signin.WINDOWS_REGISTRY_JSON_PATH,
        signin.MACOS_REGISTRY_JSON_PATH,
        signin.LINUX_REGISTRY_JSON_PATH,
    ):
        assert path in html
    assert "case-sensitive" in html
    assert "Start-Process &#x27;.\\Docker Desktop Installer.exe&#x27; -Wait" in html
    assert "&quot;Docker Desktop Installer.exe&quot; install --allowed-org=acme" in html
    assert "sudo mkdir -p /usr/share/docker-desktop/registry" in html
    assert "sudo hdiutil attach Docker.dmg" in html
    assert "Get-Acl" in html
    assert html.count('class="copy"') >= 10
    assert "precedence" in html.lower()


def test_new_org_owned_via_service_appears_as_choice(acme, login):
    services.organization_create(name="initech", creator=acme.owner)
    make_org("umbrella", owner=acme.gina)
    html = login(acme.owner).get(PAGE).content.decode()
    assert 'value="initech"' in html
    assert 'value="umbrella"' not in html and 'value="globex"' not in html
