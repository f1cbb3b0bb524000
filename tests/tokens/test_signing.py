"""Tests of tokens.signing: keys, certificates and tokens (pure: no Django, no database), the
key in use (reloaded when its files change, never used once expired) and the rotation commands.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import logging
import os
import stat
import time
from pathlib import Path

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from django.core.management import CommandError, call_command

from tokens.signing import (
    CertificateExpired,
    SigningKey,
    current_signing_key,
    forget_signing_key,
    generate_dev_keypair,
    issue_registry_token,
    load_signing_key,
    token_response,
)

ISSUER = "iam-portal"
SERVICE = "registry.example.test"


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "keys" / "signing.key", tmp_path / "keys" / "signing.crt"


@pytest.fixture
def signing_key(paths: tuple[Path, Path]) -> SigningKey:
    key_path, cert_path = paths
    generate_dev_keypair(key_path, cert_path)
    return load_signing_key(key_path, cert_path)


def _write_rsa_pair(tmp_path: Path, bits: int = 2048) -> tuple[Path, Path]:
    key_path, cert_path = tmp_path / "rsa.key", tmp_path / "rsa.crt"
    now = dt.datetime.now(dt.UTC)
    write_keypair(
        key_path,
        cert_path,
        not_before=now - dt.timedelta(minutes=1),
        not_after=now + dt.timedelta(days=1),
        private_key=rsa.generate_private_key(public_exponent=65537, key_size=bits),
    )
    return key_path, cert_path


def write_keypair(
    key_path: Path,
    cert_path: Path,
    *,
    not_before: dt.datetime,
    not_after: dt.datetime,
    private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | None = None,
) -> x509.Certificate:
    """A key (a new EC P-256 one unless given) and a self-signed certificate valid from
    ``not_before`` to ``not_after`` (which may be in the past); returns the certificate."""
    private_key = private_key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test signer")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(private_key, hashes.SHA256())
    )
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert


def wait_until(moment: dt.datetime) -> None:
    time.sleep(max(0.0, moment.timestamp() - time.time()) + 0.05)


# --- key pair generation -------------------------------------------------------


def test_generate_dev_keypair_writes_key_0600_and_matching_self_signed_cert(paths):
    key_path, cert_path = paths
    generate_dev_keypair(key_path, cert_path, common_name="unit signer", days=30)

    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert key_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert cert.subject == cert.issuer
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "unit signer"
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert dt.timedelta(days=30) <= lifetime <= dt.timedelta(days=30, minutes=10)
    assert cert.not_valid_before_utc < dt.datetime.now(dt.UTC)
    # The certificate is self-signed: its own public key verifies its signature.
    cert.verify_directly_issued_by(cert)


def test_generate_dev_keypair_refuses_to_overwrite(paths):
    key_path, cert_path = paths
    generate_dev_keypair(key_path, cert_path)
    key_before, cert_before = key_path.read_bytes(), cert_path.read_bytes()

    with pytest.raises(FileExistsError):
        generate_dev_keypair(key_path, cert_path)
    assert key_path.read_bytes() == key_before
    assert cert_path.read_bytes() == cert_before


@pytest.mark.parametrize("existing", ["key", "cert"])
def test_generate_dev_keypair_refuses_if_either_file_exists_and_writes_nothing(paths, existing):
    key_path, cert_path = paths
    key_path.parent.mkdir(parents=True)
    present, absent = (key_path, cert_path) if existing == "key" else (cert_path, key_path)
    present.write_text("keep me")

    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        generate_dev_keypair(key_path, cert_path)
    assert present.read_text() == "keep me"
    assert not absent.exists()


def test_generate_dev_keypair_rejects_non_positive_days(paths):
    with pytest.raises(ValueError, match="days must be positive"):
        generate_dev_keypair(*paths, days=0)


# --- loading -----------------------------------------------------------------------


def test_load_signing_key_ec(signing_key: SigningKey, paths):
    _, cert_path = paths
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert signing_key.algorithm == "ES256"
    assert isinstance(signing_key.private_key, ec.EllipticCurvePrivateKey)
    assert signing_key.certificate == cert
    assert len(signing_key.x5c) == 1
    # Standard base64 (may contain + and /), not URL-safe; decodes to the DER.
    assert base64.b64decode(signing_key.x5c[0], validate=True) == cert.public_bytes(
        serialization.Encoding.DER
    )


def test_load_signing_key_rsa(tmp_path: Path):
    key = load_signing_key(*_write_rsa_pair(tmp_path))
    assert key.algorithm == "RS256"


def test_load_signing_key_rejects_small_rsa(tmp_path: Path):
    with pytest.raises(ValueError, match="too small"):
        load_signing_key(*_write_rsa_pair(tmp_path, bits=1024))


def test_load_signing_key_rejects_mismatched_cert(tmp_path: Path):
    key_a, cert_a = tmp_path / "a.key", tmp_path / "a.crt"
    key_b, cert_b = tmp_path / "b.key", tmp_path / "b.crt"
    generate_dev_keypair(key_a, cert_a)
    generate_dev_keypair(key_b, cert_b)

    with pytest.raises(ValueError, match="does not match private key"):
        load_signing_key(key_a, cert_b)


def test_load_signing_key_rejects_file_without_certificate(tmp_path: Path, paths):
    key_path, _ = paths
    generate_dev_keypair(key_path, tmp_path / "unused.crt")
    bogus = tmp_path / "bogus.crt"
    bogus.write_text("not a certificate\n")
    with pytest.raises(ValueError, match="no PEM certificate"):
        load_signing_key(key_path, bogus)


def test_load_signing_key_puts_whole_chain_in_x5c(tmp_path: Path, paths):
    key_path, cert_path = paths
    generate_dev_keypair(key_path, cert_path)
    other = tmp_path / "other.crt"
    generate_dev_keypair(tmp_path / "other.key", other)
    bundle = tmp_path / "chain.crt"
    bundle.write_bytes(cert_path.read_bytes() + other.read_bytes())

    key = load_signing_key(key_path, bundle)
    assert len(key.x5c) == 2
    assert base64.b64decode(key.x5c[0]) == key.certificate.public_bytes(serialization.Encoding.DER)


def test_load_signing_key_refuses_an_expired_certificate(paths):
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    expired = now - dt.timedelta(days=1)
    write_keypair(*paths, not_before=now - dt.timedelta(days=2), not_after=expired)
    with pytest.raises(CertificateExpired, match="expired at") as refused:
        load_signing_key(*paths)
    assert refused.value.expired_at == expired


# --- tokens ------------------------------------------------------------------------


def _access():
    return [{"type": "repository", "name": "library/alpine", "actions": ["pull", "push"]}]


def test_issued_token_verifies_with_certificate_public_key(signing_key: SigningKey):
    token, claims = issue_registry_token(
        key=signing_key,
        issuer=ISSUER,
        service=SERVICE,
        subject="alice",
        access=_access(),
        ttl_seconds=300,
    )
    decoded = jwt.decode(
        token,
        signing_key.certificate.public_key(),
        algorithms=[signing_key.algorithm],
        audience=SERVICE,
        issuer=ISSUER,
        options={"require": ["exp", "nbf", "iat", "iss", "aud", "sub", "jti"]},
    )
    assert decoded == claims
    assert decoded["sub"] == "alice"
    assert decoded["access"] == [
        {"type": "repository", "name": "library/alpine", "actions": ["pull", "push"]}
    ]


def test_issued_token_is_rejected_for_other_audience_or_issuer(signing_key: SigningKey):
    token, _ = issue_registry_token(
        key=signing_key, issuer=ISSUER, service=SERVICE, subject="a", access=[], ttl_seconds=60
    )
    public_key = signing_key.certificate.public_key()
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, public_key, algorithms=["ES256"], audience="other", issuer=ISSUER)
    with pytest.raises(jwt.InvalidIssuerError):
        jwt.decode(token, public_key, algorithms=["ES256"], audience=SERVICE, issuer="other")


def test_issued_token_is_rejected_with_another_key(signing_key: SigningKey, tmp_path: Path):
    generate_dev_keypair(tmp_path / "o.key", tmp_path / "o.crt")
    other = load_signing_key(tmp_path / "o.key", tmp_path / "o.crt")
    token, _ = issue_registry_token(
        key=signing_key, issuer=ISSUER, service=SERVICE, subject="a", access=[], ttl_seconds=60
    )
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            token,
            other.certificate.public_key(),
            algorithms=["ES256"],
            audience=SERVICE,
            issuer=ISSUER,
        )


def test_issued_token_with_rsa_key_uses_rs256(tmp_path: Path):
    key = load_signing_key(*_write_rsa_pair(tmp_path))
    token, _ = issue_registry_token(
        key=key, issuer=ISSUER, service=SERVICE, subject="a", access=[], ttl_seconds=60
    )
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    jwt.decode(
        token,
        key.certificate.public_key(),
        algorithms=["RS256"],
        audience=SERVICE,
        issuer=ISSUER,
    )


def test_claim_types_and_values(signing_key: SigningKey):
    token, claims = issue_registry_token(
        key=signing_key,
        issuer=ISSUER,
        service=SERVICE,
        subject="bob",
        access=[],
        ttl_seconds=300,
        now=1_800_000_000,
    )
    payload = jwt.decode(token, options={"verify_signature": False})
    assert payload == claims
    assert isinstance(payload["aud"], str) and payload["aud"] == SERVICE
    for name in ("exp", "nbf", "iat"):
        assert type(payload[name]) is int
    assert payload["iat"] == payload["nbf"] == 1_800_000_000
    assert payload["exp"] == 1_800_000_300
    assert payload["iss"] == ISSUER
    assert payload["access"] == []
    assert isinstance(payload["jti"], str) and len(payload["jti"]) >= 16


def test_jti_is_unique(signing_key: SigningKey):
    jtis = {
        issue_registry_token(
            key=signing_key, issuer=ISSUER, service=SERVICE, subject="a", access=[], ttl_seconds=60
        )[1]["jti"]
        for _ in range(20)
    }
    assert len(jtis) == 20


def test_header_has_x5c_typ_and_alg(signing_key: SigningKey):
    token, _ = issue_registry_token(
        key=signing_key, issuer=ISSUER, service=SERVICE, subject="a", access=[], ttl_seconds=60
    )
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"
    assert header["typ"] == "JWT"
    assert header["x5c"] == signing_key.x5c
    der = base64.b64decode(header["x5c"][0], validate=True)
    assert der == signing_key.certificate.public_bytes(serialization.Encoding.DER)
    assert x509.load_der_x509_certificate(der).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) == signing_key.private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_token_response_body(signing_key: SigningKey):
    token, claims = issue_registry_token(
        key=signing_key,
        issuer=ISSUER,
        service=SERVICE,
        subject="a",
        access=[],
        ttl_seconds=300,
        now=1_795_722_410,
    )
    assert token_response(token, claims) == {
        "token": token,
        "access_token": token,
        "expires_in": 300,
        "issued_at": "2026-11-26T19:46:50Z",
    }


# --- the key in use ----------------------------------------------------------------


@pytest.fixture
def key_in_use(settings, paths):
    """The settings name a fresh pair at ``paths``, and its files are looked at on every call."""
    generate_dev_keypair(*paths)
    settings.TOKEN_SIGNING_KEY_FILE, settings.TOKEN_SIGNING_CERT_FILE = paths
    settings.TOKEN_SIGNING_KEY_CHECK_SECONDS = 0
    yield paths
    forget_signing_key()


def replace_file(path: Path, source: Path) -> None:
    """Rename ``source`` over ``path``, as a rotation (or a Kubernetes secret update) does."""
    os.replace(source, path)


def new_pair(tmp_path: Path, name: str = "new") -> tuple[Path, Path, x509.Certificate]:
    key, cert = tmp_path / f"{name}.key", tmp_path / f"{name}.crt"
    generate_dev_keypair(key, cert)
    return key, cert, x509.load_pem_x509_certificate(cert.read_bytes())


def test_replaced_files_are_used_without_a_restart(key_in_use, tmp_path):
    key_path, cert_path = key_in_use
    before = current_signing_key()
    new_key, new_cert, certificate = new_pair(tmp_path)
    replace_file(key_path, new_key)
    replace_file(cert_path, new_cert)

    after = current_signing_key()
    assert after.certificate == certificate != before.certificate


def test_files_are_looked_at_only_every_check_interval(key_in_use, settings, tmp_path):
    key_path, cert_path = key_in_use
    settings.TOKEN_SIGNING_KEY_CHECK_SECONDS = 3600
    before = current_signing_key()
    new_key, new_cert, _ = new_pair(tmp_path)
    replace_file(key_path, new_key)
    replace_file(cert_path, new_cert)

    assert current_signing_key() is before  # neither read nor even looked at again


def test_a_half_replaced_pair_keeps_the_loaded_key_until_the_other_file_follows(
    key_in_use, tmp_path, caplog
):
    key_path, cert_path = key_in_use
    before = current_signing_key()
    new_key, new_cert, certificate = new_pair(tmp_path)

    replace_file(key_path, new_key)  # the certificate no longer matches the key on disk
    with caplog.at_level(logging.WARNING, logger="tokens.signing"):
        assert current_signing_key() is before
        assert current_signing_key() is before
    [warning] = [r for r in caplog.records if "Still signing with the key" in r.getMessage()]
    assert "does not match" in warning.getMessage()

    replace_file(cert_path, new_cert)
    assert current_signing_key().certificate == certificate


def test_a_missing_key_is_refused_until_it_appears(key_in_use, settings, tmp_path):
    settings.TOKEN_SIGNING_KEY_FILE = tmp_path / "later.key"
    settings.TOKEN_SIGNING_CERT_FILE = tmp_path / "later.crt"
    for _ in range(2):
        with pytest.raises(FileNotFoundError):
            current_signing_key()
    generate_dev_keypair(tmp_path / "later.key", tmp_path / "later.crt")
    assert current_signing_key().algorithm == "ES256"


def test_a_key_is_never_used_once_its_certificate_has_expired(settings, paths):
    # Loaded while valid; the files don't change: the key in memory expires by itself.
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    until = now + dt.timedelta(seconds=2)
    write_keypair(*paths, not_before=now - dt.timedelta(minutes=1), not_after=until)
    settings.TOKEN_SIGNING_KEY_FILE, settings.TOKEN_SIGNING_CERT_FILE = paths
    settings.TOKEN_SIGNING_KEY_CHECK_SECONDS = 3600
    try:
        assert current_signing_key().certificate.not_valid_after_utc == until
        wait_until(until)
        with pytest.raises(CertificateExpired, match="expired at") as refused:
            current_signing_key()
        assert refused.value.expired_at == until
    finally:
        forget_signing_key()


def test_the_token_endpoint_answers_503_with_an_expired_key(acme, ask, token_of, paths, settings):
    now = dt.datetime.now(dt.UTC)
    write_keypair(*paths, not_before=now - dt.timedelta(days=2), not_after=now - dt.timedelta(1))
    settings.TOKEN_SIGNING_KEY_FILE, settings.TOKEN_SIGNING_CERT_FILE = paths
    response = ask("repository:library/alpine:pull", auth=token_of(acme.member))
    assert response.status_code == 503
    assert response.json() == {
        "errors": [{"code": "UNAVAILABLE", "message": "The token service is not configured."}]
    }


# --- rotation: token_keys ------------------------------------------------------------------


def token_keys(*args: str, directory: Path) -> str:
    out = io.StringIO()
    call_command(
        "token_keys",
        "--key",
        str(directory / "token.key"),
        "--cert",
        str(directory / "token.crt"),
        *args,
        stdout=out,
    )
    return out.getvalue()


def certificates_in(path: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(path.read_bytes())


def test_rotation_with_two_keys_at_once(tmp_path):
    keys = tmp_path / "keys"
    token_keys(directory=keys)
    old = load_signing_key(keys / "token.key", keys / "token.crt")

    # The next pair waits beside the current one, which stays as it was.
    token_keys("--next", "--days", "90", directory=keys)
    upcoming = load_signing_key(keys / "token.next.key", keys / "token.next.crt")
    assert load_signing_key(keys / "token.key", keys / "token.crt").certificate == old.certificate
    assert upcoming.certificate != old.certificate
    assert stat.S_IMODE((keys / "token.next.key").stat().st_mode) == 0o600

    # The registry's bundle holds both certificates (file or stdout).
    bundle = tmp_path / "bundle.pem"
    token_keys("--bundle", str(bundle), directory=keys)
    assert certificates_in(bundle) == [old.certificate, upcoming.certificate]
    assert token_keys("--bundle", "-", directory=keys) == bundle.read_text()

    # Promoted: the current files hold the next pair, and the next files are gone.
    assert "now hold the new key pair" in token_keys("--promote", directory=keys)
    promoted = load_signing_key(keys / "token.key", keys / "token.crt")
    assert promoted.certificate == upcoming.certificate
    assert not (keys / "token.next.key").exists() and not (keys / "token.next.crt").exists()

    # After the old tokens have expired, the bundle drops the old certificate.
    token_keys("--bundle", str(bundle), directory=keys)
    assert certificates_in(bundle) == [upcoming.certificate]


def test_promote_refuses_a_next_pair_that_does_not_match_and_changes_nothing(tmp_path):
    keys = tmp_path / "keys"
    token_keys(directory=keys)
    token_keys("--next", directory=keys)
    new_pair(keys, "other")
    replace_file(keys / "token.next.crt", keys / "other.crt")
    before = {path.name: path.read_bytes() for path in keys.iterdir()}

    with pytest.raises(CommandError, match="does not match"):
        token_keys("--promote", directory=keys)
    assert {path.name: path.read_bytes() for path in keys.iterdir()} == before


def test_promote_without_a_next_pair_is_an_error(tmp_path):
    token_keys(directory=tmp_path)
    with pytest.raises(CommandError, match="No such file"):
        token_keys("--promote", directory=tmp_path)


def test_next_never_overwrites_a_waiting_pair(tmp_path):
    token_keys(directory=tmp_path)
    token_keys("--next", directory=tmp_path)
    waiting = (tmp_path / "token.next.key").read_bytes()
    with pytest.raises(CommandError, match="Not overwriting"):
        token_keys("--next", directory=tmp_path)
    assert (tmp_path / "token.next.key").read_bytes() == waiting
