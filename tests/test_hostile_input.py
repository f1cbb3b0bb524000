"""No URL answers 5xx to hostile input: every URL pattern, as every role, GET and POST, with
hostile path segments, query parameters and form fields."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import make_user

HOSTILE = [
    "\x00",
    "a\x00b",
    "\x1b[31m",
    "line\nbreak",
    "\r\n",
    "\u202e\ufeff",
    "%00",
    "%ff%fe",
    "a" * 5000,
    "' OR 1=1 --",
    "../../etc/passwd",
    "<script>",
]
# Every query parameter a page, the API or the token service reads (searches, filters, pages).
QUERY_NAMES = (
    "also",
    "image",
    "q",
    "page",
    "page_size",
    "next",
    "scope",
    "service",
    "team",
    "member",
    "outcome",
    "since",
    "until",
    "status",
    "show",
    "os",
    "entries",
    "account",
    "client_id",
)
# Valid values for each URL argument, so that one argument at a time can be made hostile.
VALID = {"org": "acme", "team": "developers", "username": "mike", "pk": "1"}


def patterns(resolver=None, prefix=""):
    """Every URL pattern as ``(route with <name> placeholders, [argument names])``."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from patterns(entry, prefix + route)
        elif isinstance(entry, URLPattern):
            full = prefix + route
            if full.startswith("^") or "(?P" in full:  # regex routes (admin): arguments inline
                full = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", full).strip("^$").replace("\\", "")
            yield full, re.findall(r"<(?:\w+:)?(\w+)>", full)


def fill(route: str, values: dict) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values.get(m.group(1), "1"), route)


def quote(value: str) -> str:
    return "".join(c if c.isalnum() else f"%{ord(c):02x}" if ord(c) < 256 else c for c in value)


def requests():
    """``(path, query)`` pairs: each route with valid arguments and hostile query values, and
    with each argument made hostile in turn."""
    for route, names in sorted(set((r, tuple(n)) for r, n in patterns())):
        yield (
            fill(route, VALID),
            "&".join(
                f"{name}={quote(value)}"
                for name in QUERY_NAMES
                for value in (HOSTILE[0], HOSTILE[2], HOSTILE[8])
            )
            + "&also=acme&also=acme&page=-1&page=999999999999999999999",
        )
        for name in names:
            for value in HOSTILE:
                yield fill(route, {**VALID, name: quote(value)}), ""


CASES = list(requests())


@pytest.fixture
def as_role(acme, client):
    staff = make_user("staffer", is_staff=True, is_superuser=True)

    users = {"outsider": acme.outsider, "member": acme.member, "owner": acme.owner, "staff": staff}

    def _as(role):
        """The client signed in as ``role``; call again to sign in again (after a logout URL)."""
        client.logout()
        client.raise_request_exception = False
        if role in users:
            client.force_login(users[role])
        return client

    return _as


@pytest.mark.parametrize("role", ["anonymous", "outsider", "member", "owner", "staff"])
def test_no_5xx_for_hostile_input(as_role, role, token_keys):
    client = as_role(role)
    failures = []
    form = {"name": HOSTILE[1], "username": HOSTILE[3], "image": HOSTILE[0], "version": "x"}
    for path, query in CASES:
        url = f"{path}?{query}" if query else path
        for method in ("get", "post"):
            response = getattr(client, method)(url, form if method == "post" else None)
            if "logout" in path:
                client = as_role(role)
            if response.status_code >= 500:
                failures.append(f"{method.upper()} {url[:160]!r} -> {response.status_code}")
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures[:40])


@pytest.mark.parametrize("role", ["anonymous", "owner"])
def test_a_control_character_in_any_query_parameter_is_a_clear_400(as_role, role):
    """NUL (which PostgreSQL refuses in text) or another control character in a query string,
    in any parameter's value or name, is refused before any view reads it: the 400 page, or
    JSON in the API's, the token protocol's or SCIM's format."""
    client = as_role(role)
    failures = []
    routes = sorted({fill(route, VALID) for route, _ in patterns()})
    for path in routes:
        for query in (f"{name}=a%00b" for name in QUERY_NAMES[:12]):
            response = client.get(f"{path}?{query}&page=1")
            kind = response.get("Content-Type", "")
            if path.startswith(("/api/", "/v2/")):
                ok = kind == "application/json" and "control character" in response.json()["detail"]
            elif path.startswith("/auth/"):
                ok = response.json()["errors"][0]["code"] == "INVALID_REQUEST"
            elif path.startswith("/scim/"):
                ok = kind == "application/scim+json" and "control" in response.json()["detail"]
            else:
                ok = kind.startswith("text/html") and b"control character" in response.content
            if response.status_code != 400 or not ok:
                failures.append(f"GET {path}?{query} -> {response.status_code} {kind}")
        for query in ("q=%1b%5b31m", "%00=x", "team=%7f"):
            if (response := client.get(f"{path}?{query}")).status_code != 400:
                failures.append(f"GET {path}?{query} -> {response.status_code}")
    assert not failures, f"{len(failures)} not refused:\n" + "\n".join(failures[:40])
