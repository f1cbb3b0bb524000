"""Fixtures for the end-to-end tests: the portal (``live_server``) as the token service of a
real CNCF Distribution registry, driven by skopeo and by plain HTTP requests.

The Django live server runs in a thread of the test process and shares its settings, so the
key pair, issuer and service set here are what the token service uses. Missing tools skip the
tests locally and fail them in CI (:func:`tests.conftest.require_tool`).
"""

import http.cookiejar
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import REGISTRY_SERVICE, TOKEN_ISSUER, require_tool
from tests.e2e.containerd import find_containerd, running_containerd
from tests.e2e.registry import (
    find_registry_binary,
    find_skopeo,
    free_port,
    running_registry,
    skopeo,
)

ISSUER, SERVICE = TOKEN_ISSUER, REGISTRY_SERVICE


@pytest.fixture
def registry_tools():
    """The registry binary and skopeo, or a skip (locally) / failure (CI)."""
    require_tool(find_registry_binary() is not None, "docker-registry (CNCF Distribution)")
    require_tool(find_skopeo() is not None, "skopeo")


@pytest.fixture
def portal(live_server, token_keys, settings):
    """The live portal configured as the token service (a fresh key pair, issuer, service),
    and as the site its links lead to (``SITE_URL``).

    ``url`` uses 127.0.0.1 rather than ``localhost`` so that no client tries IPv6 first.
    """
    url = live_server.url.replace("://localhost:", "://127.0.0.1:")
    settings.SITE_URL = url
    return SimpleNamespace(url=url, realm=f"{url}/auth/token", certificate=token_keys)


@pytest.fixture
def registry(registry_tools, portal, tmp_path):
    """A registry with in-memory storage whose token realm is the live portal."""
    with running_registry(
        port=free_port(),
        realm=portal.realm,
        service=SERVICE,
        issuer=ISSUER,
        rootcertbundle=portal.certificate,
        workdir=tmp_path / "registry",
    ) as running:
        yield running


@pytest.fixture
def containerd(registry_tools):
    """A private containerd daemon (``ctr`` is its client); skipped locally, failed in CI, if
    containerd or ctr is missing."""
    require_tool(find_containerd() is not None, "containerd and ctr")
    with running_containerd() as running:
        yield running


@dataclass
class Skopeo:
    """skopeo against one registry, plain HTTP; every call's output is kept for diagnostics."""

    address: str
    workdir: Path
    calls: list[str] = field(default_factory=list)
    _count: int = 0

    def push(self, layout: Path, tag: str, repository: str, creds: str):
        return self._run(
            "copy",
            "--dest-creds",
            creds,
            "--dest-tls-verify=false",
            f"oci:{layout}:{tag}",
            f"docker://{self.address}/{repository}:{tag}",
        )

    def pull(self, repository: str, tag: str, creds: str):
        """``skopeo copy docker://... dir:OUT``; returns ``(CompletedProcess, OUT)``."""
        self._count += 1
        out = self.workdir / f"pull-{self._count}"
        result = self._run(
            "copy",
            "--src-creds",
            creds,
            "--src-tls-verify=false",
            f"docker://{self.address}/{repository}:{tag}",
            f"dir:{out}",
        )
        return result, out

    def _run(self, *args: str):
        result = skopeo(*args, timeout=30)
        shown = [
            arg.split(":", 1)[0] + ":***" if previous.endswith("-creds") else arg
            for previous, arg in zip(("", *args), args, strict=False)
        ]
        self.calls.append(
            f"$ skopeo {' '.join(shown)}\n-> {result.returncode}\n{result.stderr.strip()}"
        )
        return result


@pytest.fixture
def skopeo_client(registry, tmp_path):
    """skopeo against the running registry; pulled images land under ``tmp_path/pulled``."""
    workdir = tmp_path / "pulled"
    workdir.mkdir()
    return Skopeo(address=registry.address, workdir=workdir)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class _FormInputs(HTMLParser):
    """The ``name -> value`` of every ``<input>`` inside ``<form method=post>`` elements."""

    def __init__(self):
        super().__init__()
        self.in_post_form = False
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.in_post_form = (attributes.get("method") or "").lower() == "post"
        elif tag == "input" and self.in_post_form and attributes.get("name"):
            self.values.setdefault(attributes["name"], attributes.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_post_form = False


@dataclass
class HttpResponse:
    status: int
    headers: dict
    text: str

    def post_form_inputs(self) -> dict[str, str]:
        parser = _FormInputs()
        parser.feed(self.text)
        return parser.values


class WebSession:
    """A cookie-keeping HTTP client for the live portal that does not follow redirects."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect()
        )

    def request(self, path: str, data: dict | None = None) -> HttpResponse:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base_url + path, data=body)
        try:
            with self.opener.open(request, timeout=15) as response:
                return HttpResponse(
                    response.status, dict(response.headers), response.read().decode()
                )
        except urllib.error.HTTPError as error:  # 3xx (not followed), 4xx, 5xx
            return HttpResponse(error.code, dict(error.headers), error.read().decode())

    def log_in(self, username: str, password: str) -> None:
        form = self.request("/accounts/login/")
        assert form.status == 200, form.text[:500]
        token = form.post_form_inputs()["csrfmiddlewaretoken"]
        response = self.request(
            "/accounts/login/",
            {"username": username, "password": password, "csrfmiddlewaretoken": token},
        )
        assert response.status == 302, f"login failed ({response.status}): {response.text[:500]}"
        assert any(cookie.name == "sessionid" for cookie in self.cookies)


@pytest.fixture
def web_session(portal):
    """``web_session()`` -> a new :class:`WebSession` (its own cookies) for the live portal."""
    return lambda: WebSession(portal.url)
