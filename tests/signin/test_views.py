"""Settings > Enforce sign-in: the downloads and the page, for one and several organisations."""

import json
import plistlib
from html import escape
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from orgs import services
from signin import files, instructions
from tests.factories import add_owner, make_org

PAGE = reverse("signin:sign_in", kwargs={"org": "acme"})
DOWNLOAD = reverse("signin:sign_in_registry_json", kwargs={"org": "acme"})


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
    reg = client.get(reverse("signin:sign_in_reg", kwargs={"org": "acme"}), {"also": "globex"})
    assert reg.content == files.windows_reg_file(files.allowed_orgs(["acme", "globex"]))
    profile = client.get(
        reverse("signin:sign_in_mobileconfig", kwargs={"org": "acme"}), {"also": "globex"}
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


WINDOWS_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
)
MAC_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Version/18.1 Safari"


class PageText(HTMLParser):
    """Where the page mentions each download file, and which OS panels it hides."""

    def __init__(self):
        super().__init__()
        self.links = 0  # depth inside <a>
        self.loose_mentions = []
        self.hidden_panels = set()
        self.shown_panels = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a":
            self.links += 1
        if "ospanel" in (attrs.get("class") or ""):
            (self.hidden_panels if "hidden" in attrs else self.shown_panels).add(attrs["id"])

    def handle_endtag(self, tag):
        if tag == "a":
            self.links -= 1

    def handle_data(self, data):
        for name in (files.REG_FILE_NAME, files.MOBILECONFIG_FILE_NAME):
            if name in data and not self.links:
                self.loose_mentions.append(data.strip())


def parse(html: str) -> PageText:
    parser = PageText()
    parser.feed(html)
    return parser


def test_page_leads_each_os_with_its_best_method(acme, login):
    html = login(acme.owner).get(PAGE, HTTP_USER_AGENT=WINDOWS_UA).content.decode()
    # Every command of every OS is on the page (the panels not chosen are hidden).
    for os_instructions in instructions.install_instructions(files.allowed_orgs(["acme"])):
        for method in os_instructions.methods:
            for command in (method.action, method.verify):
                if command is not None:
                    assert escape(command.text) in html, command.text
    assert html.index('id="windows-registry-key"') < html.index('id="windows-registry-json"')
    assert html.index('id="windows-registry-json"') < html.index('id="windows-installer"')
    assert html.index('id="macos-configuration-profile"') < html.index('id="macos-registry-json"')
    assert html.count("Recommended") == 3  # one per OS
    assert html.count(instructions.PRECEDENCE_NOTE) == 1
    assert "/ProgramData/" not in html


def test_the_os_is_chosen_from_the_user_agent_or_the_query(acme, login):
    client = login(acme.owner)
    windows = parse(client.get(PAGE, HTTP_USER_AGENT=WINDOWS_UA).content.decode())
    assert windows.shown_panels == {"panel-windows"}
    assert windows.hidden_panels == {"panel-macos", "panel-linux"}
    mac = client.get(PAGE, HTTP_USER_AGENT=MAC_UA)
    assert parse(mac.content.decode()).shown_panels == {"panel-macos"}
    assert "User-Agent" in mac["Vary"]
    chosen = client.get(PAGE, {"os": "linux"}, HTTP_USER_AGENT=MAC_UA).content.decode()
    assert parse(chosen).shown_panels == {"panel-linux"}
    # Without JavaScript the other systems are links that keep the list of organisations.
    add_owner(acme.globex, acme.owner)
    html = client.get(PAGE, {"also": "globex", "os": "macos"}).content.decode()
    assert parse(html).shown_panels == {"panel-macos"}
    assert 'href="?also=globex&amp;os=windows"' in html
    assert 'name="os" value="macos"' in html  # the organisations form keeps the OS
    # An unknown ?os= falls back to the browser's.
    unknown = client.get(PAGE, {"os": "solaris"}, HTTP_USER_AGENT=MAC_UA).content.decode()
    assert parse(unknown).shown_panels == {"panel-macos"}


def test_every_download_is_a_link_where_it_is_mentioned(acme, login):
    add_owner(acme.globex, acme.owner)
    client = login(acme.owner)
    for query in ({}, {"also": "globex"}):
        html = client.get(PAGE, query).content.decode()
        assert parse(html).loose_mentions == []
        suffix = "?also=globex" if query else ""
        for url_name in ("sign_in_registry_json", "sign_in_reg", "sign_in_mobileconfig"):
            url = reverse(f"signin:{url_name}", kwargs={"org": "acme"}) + suffix
            assert f'href="{url}" download' in html, url
            assert client.get(url).status_code == 200


def test_new_org_owned_via_service_appears_as_choice(acme, login):
    services.organization_create(name="initech", creator=acme.owner)
    make_org("umbrella", owner=acme.gina)
    html = login(acme.owner).get(PAGE).content.decode()
    assert 'value="initech"' in html
    assert 'value="umbrella"' not in html and 'value="globex"' not in html
