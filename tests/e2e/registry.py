"""Helpers for tests that drive a real CNCF Distribution registry and skopeo.

The registry runs as a subprocess (``docker-registry serve CONFIG``) with
in-memory storage and token authentication pointing at a token service under
test. Nothing here needs network access beyond 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "RegistryStartError",
    "RunningRegistry",
    "find_registry_binary",
    "find_skopeo",
    "free_port",
    "running_registry",
    "skopeo",
]

_REGISTRY_CANDIDATES = ("docker-registry", "/usr/bin/docker-registry")
_SKOPEO_CANDIDATES = ("skopeo", "/usr/bin/skopeo")
_HOST = "127.0.0.1"


class RegistryStartError(RuntimeError):
    """The registry did not come up (exited, or no 401 on /v2/ in time)."""


def _find(candidates: tuple[str, ...]) -> Path | None:
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return Path(found)
    return None


def find_registry_binary() -> Path | None:
    """Return the path of the Distribution registry binary, or None if absent."""
    return _find(_REGISTRY_CANDIDATES)


def find_skopeo() -> Path | None:
    """Return the path of the skopeo binary, or None if absent."""
    return _find(_SKOPEO_CANDIDATES)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        return sock.getsockname()[1]


@dataclass
class RunningRegistry:
    """A registry started by :func:`running_registry`.

    ``url`` is ``http://127.0.0.1:PORT``; ``address`` is ``127.0.0.1:PORT`` (for
    ``docker://ADDRESS/ns/repo:tag`` references); ``log_path`` is the file that
    receives the registry's stderr/stdout.
    """

    url: str
    address: str
    port: int
    log_path: Path
    config_path: Path
    process: subprocess.Popen

    def log(self) -> str:
        """Return the registry log written so far (empty string if none)."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


def _yaml_str(value: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar.
    return json.dumps(str(value))


def _write_config(
    path: Path,
    *,
    port: int,
    realm: str | None,
    service: str,
    issuer: str,
    rootcertbundle: Path | None,
    proxy_remoteurl: str | None = None,
) -> None:
    config = f"""\
version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
storage:
  inmemory: {{}}
  delete:
    enabled: true
http:
  addr: {_yaml_str(f"{_HOST}:{port}")}
  secret: {_yaml_str(secrets.token_hex(32))}
"""
    if realm is not None:
        config += f"""\
auth:
  token:
    realm: {_yaml_str(realm)}
    service: {_yaml_str(service)}
    issuer: {_yaml_str(issuer)}
    rootcertbundle: {_yaml_str(str(Path(rootcertbundle).resolve()))}
"""
    if proxy_remoteurl is not None:
        config += f"proxy:\n  remoteurl: {_yaml_str(proxy_remoteurl)}\n"
    path.write_text(config)


def _overrides(port, realm, service, issuer, rootcertbundle, proxy_remoteurl) -> dict:
    """``REGISTRY_*`` variables that make a shipped config serve plain HTTP on 127.0.0.1:port
    with these token settings (Distribution reads them over the file's values)."""
    overrides = {
        "REGISTRY_HTTP_ADDR": f"{_HOST}:{port}",
        "REGISTRY_HTTP_HOST": f"http://{_HOST}:{port}",
        "REGISTRY_HTTP_SECRET": secrets.token_hex(32),
        "REGISTRY_HTTP_TLS_CERTIFICATE": "",
        "REGISTRY_HTTP_TLS_KEY": "",
    }
    if realm is not None:
        overrides.update(
            REGISTRY_AUTH_TOKEN_REALM=realm,
            REGISTRY_AUTH_TOKEN_SERVICE=service,
            REGISTRY_AUTH_TOKEN_ISSUER=issuer,
            REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE=str(Path(rootcertbundle).resolve()),
        )
    if proxy_remoteurl is not None:
        overrides["REGISTRY_PROXY_REMOTEURL"] = proxy_remoteurl
    return overrides


def _probe_v2(port: int) -> int | None:
    """Return the HTTP status of GET /v2/, or None if nothing answers yet."""
    connection = http.client.HTTPConnection(_HOST, port, timeout=1)
    try:
        connection.request("GET", "/v2/")
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def running_registry(
    *,
    port: int,
    realm: str | None,
    service: str = "",
    issuer: str = "",
    rootcertbundle: Path | None = None,
    workdir: Path,
    startup_timeout: float = 15.0,
    proxy_remoteurl: str | None = None,
    config: Path | None = None,
) -> Iterator[RunningRegistry]:
    """Run a token-authenticated, in-memory registry on 127.0.0.1:``port``.

    Writes ``workdir/registry.yml`` (``storage: inmemory``, ``http.secret``,
    ``auth.token`` with ``realm``/``service``/``issuer``/``rootcertbundle``),
    starts ``docker-registry serve`` with output to ``workdir/registry.log`` and
    waits until ``GET /v2/`` answers 401. Inherited ``REGISTRY_*`` environment
    variables are removed, since they would override the config. ``realm=None`` runs it without
    authentication (``/v2/`` answers 200: a stand-in for Docker Hub); ``proxy_remoteurl`` makes
    it a pull-through cache of that registry. With ``config`` (a shipped file), that file is
    served instead, with ``REGISTRY_*`` variables overriding its address, secret, storage (a
    directory under ``workdir``), TLS (off), upstream and token settings with the arguments.

    Yields a :class:`RunningRegistry`; terminates the process on exit. Raises
    RegistryStartError (with the log tail) if the binary is missing, the process
    exits, ``/v2/`` answers something other than 401, or nothing answers within
    ``startup_timeout`` seconds.
    """
    binary = find_registry_binary()
    if binary is None:
        raise RegistryStartError("docker-registry binary not found")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "registry.yml"
    log_path = workdir / "registry.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    if config is not None:
        config_path = Path(config)
        env.update(_overrides(port, realm, service, issuer, rootcertbundle, proxy_remoteurl))
        env["REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY"] = str(workdir / "storage")
    else:
        _write_config(
            config_path,
            port=port,
            realm=realm,
            service=service,
            issuer=issuer,
            rootcertbundle=rootcertbundle,
            proxy_remoteurl=proxy_remoteurl,
        )
    ready = 401 if realm is not None else 200

    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            [str(binary), "serve", str(config_path)],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=workdir,
        )
    registry = RunningRegistry(
        url=f"http://{_HOST}:{port}",
        address=f"{_HOST}:{port}",
        port=port,
        log_path=log_path,
        config_path=config_path,
        process=process,
    )
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                raise RegistryStartError(
                    f"registry exited with status {process.returncode} during start-up:\n"
                    f"{_tail(registry.log())}"
                )
            status = _probe_v2(port)
            if status == ready:
                break
            if status is not None:
                raise RegistryStartError(
                    f"GET {registry.url}/v2/ answered {status}, expected {ready} "
                    f"(is something else listening on port {port}?):\n{_tail(registry.log())}"
                )
            if time.monotonic() > deadline:
                raise RegistryStartError(
                    f"registry did not answer on {registry.url}/v2/ within "
                    f"{startup_timeout} s:\n{_tail(registry.log())}"
                )
            time.sleep(0.05)
        yield registry
    finally:
        _stop(process)


def skopeo(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``skopeo ARGS...``; return the CompletedProcess (text output captured).

    Does not raise on a non-zero exit status: assert on ``returncode`` and
    ``stderr``. Raises FileNotFoundError if skopeo is not installed and
    subprocess.TimeoutExpired after ``timeout`` seconds.
    """
    binary = find_skopeo()
    if binary is None:
        raise FileNotFoundError("skopeo binary not found")
    return subprocess.run(
        [str(binary), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
