"""How many scopes real clients put in one token request, measured: skopeo (pull, push, and a
copy between two repositories of the registry, which mounts blobs across them) and containerd
(OAuth2 POST). The token service's bound (:data:`tokens.scopes.MAX_SCOPES`) must leave them a
wide margin; the figures are printed (``-s``) and documented in docs/security.md."""

import logging
import re

import pytest

from tests.e2e.oci import build_oci_layout
from tests.factories import make_user
from tokens.scopes import MAX_SCOPES
from tokens.services import access_token_create

pytestmark = pytest.mark.registry

SCOPES_LOGGED = re.compile(r"Token request with (\d+) scope\(s\) from (.*)")


def scope_counts(caplog) -> list[tuple[int, str]]:
    return [
        (int(match[1]), match[2])
        for record in caplog.records
        if record.name == "tokens.endpoint"
        and (match := SCOPES_LOGGED.fullmatch(record.getMessage()))
    ]


def test_real_clients_ask_for_a_few_scopes_per_request(
    registry, skopeo_client, containerd, tmp_path, caplog
):
    admin = make_user("admin", is_staff=True)
    creds = f"admin:{access_token_create(user=admin, name='push')[1]}"
    layout = build_oci_layout(tmp_path / "image", tag="v1", label="scopes")
    measured = {}
    with caplog.at_level(logging.DEBUG, logger="tokens.endpoint"):
        assert skopeo_client.push(layout, "v1", "acme/app", creds).returncode == 0
        measured["skopeo push"] = scope_counts(caplog)
        caplog.clear()
        copied = skopeo_client._run(
            "copy",
            "--src-creds",
            creds,
            "--dest-creds",
            creds,
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            f"docker://{registry.address}/acme/app:v1",
            f"docker://{registry.address}/acme/copy:v1",
        )
        assert copied.returncode == 0, skopeo_client.calls[-1]
        measured["skopeo copy across repositories"] = scope_counts(caplog)
        caplog.clear()
        result, _ = skopeo_client.pull("acme/app", "v1", creds)
        assert result.returncode == 0
        measured["skopeo pull"] = scope_counts(caplog)
        caplog.clear()
        fetched = containerd.fetch(f"{registry.address}/acme/app:v1", creds)
        assert fetched.returncode == 0, fetched.stderr
        measured["containerd fetch"] = scope_counts(caplog)

    print()
    for what, counts in measured.items():
        print(f"{what}: {len(counts)} token requests, scopes per request {[n for n, _ in counts]}")
    assert all(measured.values()), measured  # every client was seen asking
    most = max(n for counts in measured.values() for n, _ in counts)
    assert 1 <= most <= 4, measured
    assert 10 * most <= MAX_SCOPES
