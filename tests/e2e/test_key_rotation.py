"""End to end: the token-signing key rotates under a running registry with no refused pull.

The rotation of the operations guide, with ``manage.py token_keys``: a next key pair beside the
current one (``--next``), a registry whose ``rootcertbundle`` holds both certificates
(``--bundle``), the portal switched to the next pair by replacing its files (``--promote``)
while skopeo pulls in a loop, and at last the bundle without the old certificate. The live
portal's workers notice the replaced files by themselves (no restart).
"""

import base64
import http.client
import io
import json
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import call_command

from tests.e2e.conftest import ISSUER, SERVICE, Skopeo
from tests.e2e.oci import build_oci_layout
from tests.e2e.registry import free_port, running_registry
from tests.factories import make_user
from tokens.services import access_token_create
from tokens.signing import (
    generate_dev_keypair,
    issue_registry_token,
    load_signing_key,
    next_keypair_paths,
)

pytestmark = pytest.mark.registry

REPOSITORY, TAG = "library/alpine", "v1"
PULLS_EACH_SIDE = 3  # pulls that start before the switch, and after it
DEADLINE = 120  # seconds for the whole pulling phase


@dataclass
class Pull:
    started: float
    returncode: int
    stderr: str


def token_keys(settings, *args: str) -> str:
    out = io.StringIO()
    call_command(
        "token_keys",
        "--key",
        str(settings.TOKEN_SIGNING_KEY_FILE),
        "--cert",
        str(settings.TOKEN_SIGNING_CERT_FILE),
        *args,
        stdout=out,
    )
    return out.getvalue()


def der_b64(certificate) -> str:
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


def portal_signer(realm: str, creds: str) -> str:
    """The certificate (``x5c[0]``) of a token the portal signs now."""
    query = urllib.parse.urlencode({"service": SERVICE, "scope": f"repository:{REPOSITORY}:pull"})
    request = urllib.request.Request(f"{realm}?{query}")
    request.add_header("Authorization", "Basic " + base64.b64encode(creds.encode()).decode())
    with urllib.request.urlopen(request, timeout=15) as response:
        token = json.loads(response.read())["token"]
    return jwt.get_unverified_header(token)["x5c"][0]


def manifest_status(registry, token: str) -> int:
    """The registry's answer to a manifest GET with ``token``: 401 when it refuses the token."""
    connection = http.client.HTTPConnection("127.0.0.1", registry.port, timeout=10)
    try:
        connection.request(
            "GET",
            f"/v2/{REPOSITORY}/manifests/{TAG}",
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.oci.image.manifest.v1+json",
            },
        )
        return connection.getresponse().status
    finally:
        connection.close()


def signed_by(key) -> str:
    access = [{"type": "repository", "name": REPOSITORY, "actions": ["pull"]}]
    token, _ = issue_registry_token(
        key=key, issuer=ISSUER, service=SERVICE, subject="admin", access=access, ttl_seconds=60
    )
    return token


def registry_trusting(bundle, portal, workdir):
    """A registry (in-memory storage) whose token realm is the live portal and whose
    ``rootcertbundle`` is ``bundle``."""
    return running_registry(
        port=free_port(),
        realm=portal.realm,
        service=SERVICE,
        issuer=ISSUER,
        rootcertbundle=bundle,
        workdir=workdir,
    )


def test_keys_rotate_under_a_running_registry_with_no_refused_pull(
    registry_tools, portal, settings, tmp_path
):
    settings.TOKEN_SIGNING_KEY_CHECK_SECONDS = 0.2
    key_file, cert_file = settings.TOKEN_SIGNING_KEY_FILE, settings.TOKEN_SIGNING_CERT_FILE
    old = load_signing_key(key_file, cert_file)
    creds = f"admin:{access_token_create(user=make_user('admin', is_staff=True), name='ci')[1]}"

    # 1-2. The next pair beside the current one; the registry trusts both certificates.
    token_keys(settings, "--next")
    bundle = tmp_path / "bundle.pem"
    token_keys(settings, "--bundle", str(bundle))
    new = load_signing_key(*next_keypair_paths(key_file, cert_file))
    with registry_trusting(bundle, portal, tmp_path / "registry") as registry:
        client = Skopeo(address=registry.address, workdir=tmp_path / "pulled")
        client.workdir.mkdir()

        def diagnostics() -> str:
            return "\n\n".join(client.calls[-6:]) + "\n--- registry ---\n" + registry.log()[-4000:]

        layout = build_oci_layout(tmp_path / "image", tag=TAG, label="rotation")
        assert client.push(layout, TAG, REPOSITORY, creds).returncode == 0, diagnostics()
        assert portal_signer(portal.realm, creds) == old.x5c[0]

        # 3. skopeo pulls in a loop while the portal is switched to the next pair.
        pulls: list[Pull] = []
        stop = threading.Event()

        def pull_in_a_loop() -> None:
            while not stop.is_set():
                started = time.monotonic()
                result, _ = client.pull(REPOSITORY, TAG, creds)
                pulls.append(Pull(started, result.returncode, result.stderr))

        def wait_for(condition, what: str) -> None:
            deadline = time.monotonic() + DEADLINE
            while not condition():
                assert time.monotonic() < deadline, f"timed out waiting for {what}\n{diagnostics()}"
                time.sleep(0.05)

        puller = threading.Thread(target=pull_in_a_loop, daemon=True)
        puller.start()
        try:
            wait_for(lambda: len(pulls) >= PULLS_EACH_SIDE, "pulls with the old key")
            assert "now hold the new key pair" in token_keys(settings, "--promote")
            wait_for(lambda: portal_signer(portal.realm, creds) == new.x5c[0], "the switch")
            switched = time.monotonic()
            wait_for(
                lambda: sum(pull.started > switched for pull in pulls) >= PULLS_EACH_SIDE,
                "pulls with the new key",
            )
        finally:
            stop.set()
            puller.join(timeout=60)

        refused = [pull for pull in pulls if pull.returncode != 0]
        assert not refused, f"{len(refused)} of {len(pulls)} pulls refused\n{diagnostics()}"

        # The registry refuses a key that is not in its bundle (so a refused pull would show).
        stranger_key, stranger_cert = tmp_path / "stranger.key", tmp_path / "stranger.crt"
        generate_dev_keypair(stranger_key, stranger_cert)
        stranger = load_signing_key(stranger_key, stranger_cert)
        assert manifest_status(registry, signed_by(stranger)) == 401, diagnostics()
        # Until the old certificate leaves the bundle, tokens of both keys are accepted.
        assert manifest_status(registry, signed_by(old)) == 200, diagnostics()
        assert manifest_status(registry, signed_by(new)) == 200, diagnostics()

    # 4. Once the old tokens have expired, the bundle holds the new certificate only: a registry
    # started with it refuses the old key (401) and accepts the new one (404: its storage is new).
    token_keys(settings, "--bundle", str(bundle))
    with registry_trusting(bundle, portal, tmp_path / "registry-after") as registry:
        assert manifest_status(registry, signed_by(old)) == 401, registry.log()[-4000:]
        assert manifest_status(registry, signed_by(new)) == 404, registry.log()[-4000:]
