"""Pure building blocks of the registry token service (no Django).

The portal acts as the token service of a CNCF Distribution registry (the
"Docker Registry v2 token authentication" protocol):

* :func:`generate_dev_keypair` writes a signing key and a self-signed
  certificate; the certificate goes into the registry's ``rootcertbundle``.
* :func:`load_signing_key` loads them once (at start-up) into a
  :class:`SigningKey`.
* :func:`issue_registry_token` signs a JWT the registry accepts and
  :func:`token_response` builds the JSON body clients expect.

Key choice: new keys are EC P-256 (ES256). Generation is instant (RSA 2048 takes
noticeably longer, which matters for tests creating keys per test), and the
certificate carried in every token's ``x5c`` header is about half the size of an
RSA one, which keeps the ``Authorization: Bearer`` header short. RSA keys
(RS256, at least 2048 bits) are accepted by :func:`load_signing_key` too, for
operators who bring their own key.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import functools
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import get_default_algorithms
from jwt.utils import base64url_encode

_MIN_RSA_BITS = 2048
# PyJWT's signers (they turn ECDSA's DER signature into the JWS form, r || s).
_JWS_ALGORITHMS = get_default_algorithms()
# Back-date new certificates so that a registry whose clock is slightly behind
# does not reject the certificate as "not yet valid".
_CERT_BACKDATE = dt.timedelta(minutes=5)


# --------------------------------------------------------------------------
# Keys and certificates
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    """A loaded token-signing key.

    ``certificate`` is the leaf certificate (its public key matches
    ``private_key``); ``x5c`` is the certificate chain from the PEM file as
    standard (not URL-safe) base64 DER strings, leaf first, ready for the JWT
    header; ``algorithm`` is the JWS algorithm (``"ES256"`` or ``"RS256"``).
    """

    private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    certificate: x509.Certificate
    x5c: list[str]
    algorithm: str

    @functools.cached_property
    def header_segment(self) -> bytes:
        """The token's encoded JOSE header: the same for every token this key signs, so it is
        encoded once (with the certificate chain it is most of the token)."""
        header = {"alg": self.algorithm, "typ": "JWT", "x5c": self.x5c}
        return base64url_encode(json.dumps(header, separators=(",", ":")).encode())


def _write_new_file(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` exclusively (FileExistsError if present) with ``mode``."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)  # independent of the umask
        with os.fdopen(fd, "wb") as fh:
            fd = -1
            fh.write(data)
    finally:
        if fd != -1:
            os.close(fd)


def generate_dev_keypair(
    key_path: Path,
    cert_path: Path,
    *,
    common_name: str = "iam-portal token signer",
    days: int = 3650,
) -> None:
    """Create an EC P-256 private key and a self-signed certificate for it.

    The key is written as unencrypted PKCS#8 PEM with mode 0600, the certificate
    as PEM (mode 0644). The certificate is valid from five minutes ago (clock
    skew) for ``days`` days; it is what the registry's ``auth.token.rootcertbundle``
    must contain. Missing parent directories are created.

    Raises FileExistsError, without writing anything, if either file exists.
    Raises ValueError if ``days`` is not positive.
    """
    key_path = Path(key_path)
    cert_path = Path(cert_path)
    if days <= 0:
        raise ValueError(f"days must be positive, got {days}")
    for path in (key_path, cert_path):
        if path.exists() or path.is_symlink():
            raise FileExistsError(f"refusing to overwrite existing file: {path}")

    private_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    public_key = private_key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CERT_BACKDATE)
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(private_key, hashes.SHA256())
    )

    key_pem = private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)

    key_path.parent.mkdir(parents=True, exist_ok=True)
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    _write_new_file(key_path, key_pem, 0o600)
    try:
        _write_new_file(cert_path, cert_pem, 0o644)
    except BaseException:
        with contextlib.suppress(OSError):
            key_path.unlink()
        raise


def _algorithm_for(private_key: Any) -> str:
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        if not isinstance(private_key.curve, ec.SECP256R1):
            raise ValueError(
                f"unsupported EC curve {private_key.curve.name}: only P-256 (ES256) is supported"
            )
        return "ES256"
    if isinstance(private_key, rsa.RSAPrivateKey):
        if private_key.key_size < _MIN_RSA_BITS:
            raise ValueError(
                f"RSA key of {private_key.key_size} bits is too small: "
                f"at least {_MIN_RSA_BITS} bits are required"
            )
        return "RS256"
    raise ValueError(
        f"unsupported private key type {type(private_key).__name__}: "
        "use an EC P-256 (ES256) or RSA (RS256) key"
    )


def _spki(public_key: Any) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_signing_key(
    key_path: Path, cert_path: Path, *, password: bytes | None = None
) -> SigningKey:
    """Load a PEM private key and its PEM certificate (chain) into a SigningKey.

    ``cert_path`` may hold several certificates: the first is the signing
    (leaf) certificate, the others intermediates; all of them go into ``x5c`` in
    file order. ``password`` decrypts an encrypted private key.

    Raises ValueError when the key type is unsupported (EC P-256 and RSA >= 2048
    bits are), when the file holds no certificate, when the leaf certificate's
    public key does not match the private key, or when the leaf certificate is
    expired or not yet valid (the registry would then reject every token with a
    bare 401). Missing files raise FileNotFoundError.
    """
    key_pem = Path(key_path).read_bytes()
    cert_pem = Path(cert_path).read_bytes()

    private_key = serialization.load_pem_private_key(key_pem, password=password)
    algorithm = _algorithm_for(private_key)
    try:
        chain = x509.load_pem_x509_certificates(cert_pem)
    except ValueError as exc:
        raise ValueError(f"no PEM certificate could be read from {cert_path}: {exc}") from exc
    certificate = chain[0]

    if _spki(certificate.public_key()) != _spki(private_key.public_key()):
        raise ValueError(
            f"certificate {cert_path} (subject {certificate.subject.rfc4514_string()}) "
            f"does not match private key {key_path}: its public key differs"
        )

    now = dt.datetime.now(dt.UTC)
    if certificate.not_valid_after_utc <= now:
        raise ValueError(
            f"certificate {cert_path} expired at {certificate.not_valid_after_utc.isoformat()}"
        )
    if certificate.not_valid_before_utc > now:
        raise ValueError(
            f"certificate {cert_path} is not valid before "
            f"{certificate.not_valid_before_utc.isoformat()}"
        )

    x5c = [
        base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")
        for cert in chain
    ]
    return SigningKey(
        private_key=private_key, certificate=certificate, x5c=x5c, algorithm=algorithm
    )


# --------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------


def issue_registry_token(
    *,
    key: SigningKey,
    issuer: str,
    service: str,
    subject: str,
    access: list[dict],
    ttl_seconds: int,
    now: int | None = None,
) -> tuple[str, dict]:
    """Sign a registry bearer token; return ``(compact_jwt, claims)``.

    Claims: ``iss`` = ``issuer`` (must equal the registry's ``auth.token.issuer``), ``sub`` =
    ``subject``, ``aud`` = ``service`` as a single string (Distribution 2.8 rejects a list),
    integer ``iat`` = ``nbf`` = ``now`` and ``exp`` = ``now + ttl_seconds``, a random ``jti``
    and ``access``, a list of ``{"type", "name", "actions"}`` dicts. An empty ``access`` is a
    valid token granting nothing: that is how a denied scope is expressed. The JOSE header
    carries ``alg`` (ES256/RS256), ``typ: JWT`` and ``x5c``. ``now`` defaults to the current
    Unix time.
    """
    issued_at = int(time.time()) if now is None else now
    claims = {
        "iss": issuer,
        "sub": subject,
        "aud": service,
        "exp": issued_at + ttl_seconds,
        "nbf": issued_at,
        "iat": issued_at,
        "jti": secrets.token_urlsafe(16),
        "access": access,
    }
    payload = base64url_encode(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = key.header_segment + b"." + payload
    signature = _JWS_ALGORITHMS[key.algorithm].sign(signing_input, key.private_key)
    return (signing_input + b"." + base64url_encode(signature)).decode("ascii"), claims


def token_response(token: str, claims: dict) -> dict:
    """Build the JSON body of a successful token-endpoint response.

    Returns ``{"token", "access_token", "expires_in", "issued_at"}`` where
    ``expires_in`` is ``exp - iat`` in seconds and ``issued_at`` is RFC 3339 UTC
    (``YYYY-MM-DDTHH:MM:SSZ``); a numeric ``issued_at`` breaks skopeo.
    """
    issued = dt.datetime.fromtimestamp(claims["iat"], dt.UTC)
    return {
        "token": token,
        "access_token": token,
        "expires_in": int(claims["exp"]) - int(claims["iat"]),
        "issued_at": issued.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


@functools.cache
def _signing_key(key_file: str, cert_file: str) -> SigningKey:
    return load_signing_key(key_file, cert_file)


def current_signing_key() -> SigningKey:
    """The token-signing key the settings name, loaded once per process (per pair of paths).

    :raises OSError, ValueError: as :func:`load_signing_key`.
    """
    from django.conf import settings

    return _signing_key(str(settings.TOKEN_SIGNING_KEY_FILE), str(settings.TOKEN_SIGNING_CERT_FILE))


def forget_signing_key() -> None:
    """Drop the loaded key, so that the next :func:`current_signing_key` reads the files."""
    _signing_key.cache_clear()
