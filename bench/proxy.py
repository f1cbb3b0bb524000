"""The shipped nginx configuration (deploy/nginx/iam-portal.conf) run for real, in front of
local gunicorn pools: by the deployment tests (tests/e2e/deployment.py) and by the bench's flood
phase. Only the addresses, ports and certificate paths are replaced (each must be found).
"""

import contextlib
import datetime as dt
import ipaddress
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

REPO = Path(__file__).resolve().parents[1]
NGINX_CONF = REPO / "deploy" / "nginx" / "iam-portal.conf"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for ``localhost`` and ``127.0.0.1`` (the proxy's), and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "proxy.crt", directory / "proxy.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def find_nginx() -> str | None:
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None
    )


@contextlib.contextmanager
def nginx_proxy(
    nodes: list[str],
    token_pools: list[str],
    workdir: Path,
    changes: dict[str, str] | None = None,
    *,
    ipv6: bool = False,
    worker_connections: int = 64,
):
    """nginx with the shipped site configuration in front of two nodes: their web pools
    ``nodes`` and their token pools ``token_pools`` (``http://host:port``); ``changes`` replaces
    more of the shipped text (each must be found).

    With ``ipv6`` it also listens on ``[::1]`` (the same port): clients there are another
    address to nginx's per-address limits. Yields ``(https url, certificate path)``."""
    cert, key = self_signed_certificate(workdir)
    https_port, http_port = free_port(), free_port()
    site = NGINX_CONF.read_text()
    upstreams = [f"server 10.0.0.{host}:{port}" for port in (8000, 8001) for host in (11, 12)]
    assert all(line in site for line in upstreams), "the shipped upstream blocks changed"
    for placeholder, node in zip(upstreams, [*nodes, *token_pools], strict=True):
        site = site.replace(placeholder, "server " + node.removeprefix("http://"))
    replacements = {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;"
        + (f" listen [::1]:{https_port} ssl http2;" if ipv6 else ""),
        "/etc/ssl/certs/portal.example.com.pem": str(cert),
        "/etc/ssl/private/portal.example.com.key": str(key),
        **(changes or {}),
    }
    for old, new in replacements.items():
        assert old in site, f"the shipped nginx configuration no longer has {old!r}"
        site = site.replace(old, new)
    (workdir / "site.conf").write_text(site)
    temp = workdir / "nginx-temp"
    temp.mkdir()
    main = f"""
daemon off;
pid {workdir / "nginx.pid"};
error_log {workdir / "nginx-error.log"} info;
events {{ worker_connections {worker_connections}; }}
http {{
    access_log {workdir / "nginx-access.log"};
    client_body_temp_path {temp}/body; proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi; uwsgi_temp_path {temp}/uwsgi; scgi_temp_path {temp}/scgi;
    include {workdir / "site.conf"};
}}
"""
    (workdir / "nginx.conf").write_text(main)
    process = subprocess.Popen(
        [find_nginx(), "-c", str(workdir / "nginx.conf"), "-p", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / "nginx-stderr.log", "wb"),  # noqa: SIM115 - closed with the process
    )
    url = f"https://localhost:{https_port}"
    try:
        deadline = time.monotonic() + 10
        while not accepts(https_port):
            if process.poll() is not None or time.monotonic() > deadline:
                errors = (workdir / "nginx-stderr.log").read_text()
                raise RuntimeError(f"nginx did not start: {errors}")
            time.sleep(0.1)
        yield url, cert
    finally:
        process.terminate()
        process.wait(timeout=10)


def accepts(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
