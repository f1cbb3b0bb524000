"""The OpenAPI schema and the docs page: generated without warnings, valid, and served from
this server under the Content-Security-Policy (no inline script or style, no CDN)."""

import io
import re

import yaml
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client


def test_the_schema_is_valid_and_generated_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command(
        "spectacular", "--file", str(out), "--validate", "--fail-on-warn", stderr=io.StringIO()
    )
    schema = yaml.safe_load(out.read_text())
    assert schema["openapi"].startswith("3.")
    assert "/v2/orgs/{name}/settings" in schema["paths"]
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_the_schema_is_served_as_yaml_and_json(db):
    client = Client()
    assert client.get("/api/schema/")["Content-Type"].startswith("application/vnd.oai.openapi")
    assert client.get("/api/schema/?format=json").json()["info"]["title"] == "IAM Portal API"


def test_the_docs_page_loads_only_its_own_files(db):
    client = Client()
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    policy = page["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "<style" not in html and 'style="' not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all(body.strip() == "" for _, body in scripts)  # no inline script
    assets = [*re.findall(r'src="([^"]+)"', html), *re.findall(r'href="([^"]+)"', html)]
    assert len(assets) >= 5
    for url in assets:
        assert url.startswith("/"), url  # this server, no CDN
        if url.startswith(settings.STATIC_URL):
            assert finders.find(url.removeprefix(settings.STATIC_URL)), url  # a static file
        else:
            response = client.get(url.replace("&amp;", "&"))  # the init script
            assert response.status_code == 200, url
            assert response["Content-Type"] == "application/javascript", url


def _texts(node):
    """Every description and summary in a piece of the schema (Markdown, as Swagger UI reads)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("description", "summary") and isinstance(value, str):
                yield value
            else:
                yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


def test_no_description_has_text_that_markdown_would_take_for_html(db):
    """Swagger UI renders descriptions as Markdown, where ``<access token>`` is an HTML tag and
    disappears: such text belongs in a code span (between backticks)."""
    schema = Client().get("/api/schema/?format=json").json()
    swallowed = [
        text for text in _texts(schema) if re.search(r"<[A-Za-z!/]", re.sub(r"`[^`]*`", "", text))
    ]
    assert swallowed == []
