"""What the portal adds to a ``docker pull`` through the Docker Hub cache, side by side in one run.

    sudo .venv/bin/python bench/docker_hub_cache.py      # root: it runs its own dockerd

Not run by CI (it takes about a minute). It starts, all on 127.0.0.1:

* the portal under gunicorn as ``make serve`` runs it (bench/server.py), on a SQLite file in a
  temporary directory, with one organisation (acme, Image Access Management on, official
  images allowed) and a member with an access token;
* a stand-in for Docker Hub (Distribution without authentication) seeded with skopeo;
* two caches of it, both the shipped deploy/docker-hub-cache/config.yml in proxy mode: **checked**
  (token auth against the portal, as deployed) and **open** (the same without ``auth``);
* a private dockerd (tests/e2e/docker.py) and the docker CLI, signed in to the checked cache.

Then, for each image size, it pulls ``CACHE/library/alpine-SIZE`` by host from each cache in
alternating order (A B, B A, ...; the image is removed after each pull, the caches are warm),
and reports per pull: the median wall time of ``docker pull`` with each cache, their difference
(what token authentication costs the client: the 401 challenge, the token request, the cache's
check of the JWT), the token requests the pull made and the portal's time answering them (its
request log), and that time's share of the pull. Configuration (environment):

  BENCH_PULLS   pulls per cache and size (15)
  BENCH_SIZES   layer sizes in MiB, comma-separated (0,8; 0 is a few hundred bytes)
"""

import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.server import Gunicorn  # noqa: E402
from tests.e2e.docker import running_dockerd  # noqa: E402
from tests.e2e.oci import build_oci_layout  # noqa: E402
from tests.e2e.registry import free_port, running_registry, skopeo  # noqa: E402

CACHE_CONFIG = BASE_DIR / "deploy" / "docker-hub-cache" / "config.yml"
PYTHON = BASE_DIR / ".venv" / "bin" / "python"
ISSUER, SERVICE = "iam-portal", "iam-registry"
SEED = """
from tests.factories import make_org, make_user, set_policy
from tokens.services import access_token_create
olivia, mike = make_user("olivia"), make_user("mike")
acme = make_org("acme", owner=olivia, members=[mike])
set_policy(acme, actor=olivia, enabled=True, official=True)
print(access_token_create(user=mike, name="bench")[1])
"""
TOKEN_LINE = re.compile(r'"(?:GET|POST) /auth/token" (\d{3}) \d+ ([\d.]+)ms')


def manage(env: dict, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [str(PYTHON), "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def portal_env(tmp: Path) -> dict:
    keys = tmp / "keys"
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REGISTRY_"))},
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": f"sqlite:///{tmp / 'portal.sqlite3'}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "TOKEN_SIGNING_KEY_FILE": str(keys / "token.key"),
        "TOKEN_SIGNING_CERT_FILE": str(keys / "token.crt"),
        "TOKEN_ISSUER": ISSUER,
        "REGISTRY_SERVICE": SERVICE,
        "LOG_FORMAT": "text",
        "LOG_LEVEL": "INFO",
    }


def token_requests(log: Path, offset: int) -> tuple[list[float], int]:
    """The portal's time (ms) for each token request logged after ``offset``; the new offset."""
    text = log.read_bytes()
    found = [float(m.group(2)) for m in TOKEN_LINE.finditer(text[offset:].decode(errors="replace"))]
    return found, len(text)


def main() -> int:
    pulls = int(os.environ.get("BENCH_PULLS", "15"))
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES", "0,8").split(",")]
    with tempfile.TemporaryDirectory(prefix="iam-bench-hub-") as name:
        tmp = Path(name)
        env = portal_env(tmp)
        manage(env, "migrate", "--noinput")
        manage(env, "token_keys", "--key", env["TOKEN_SIGNING_KEY_FILE"], "--cert",
               env["TOKEN_SIGNING_CERT_FILE"])  # fmt: skip
        secret = manage(env, "shell", stdin=SEED).strip().splitlines()[-1]
        with Gunicorn(env=env, log_dir=tmp) as portal:
            return measure(tmp, portal, env, secret, pulls, sizes)


def measure(tmp: Path, portal: Gunicorn, env: dict, secret: str, pulls: int, sizes) -> int:
    with running_registry(port=free_port(), realm=None, workdir=tmp / "hub") as hub:
        images = {}
        for size in sizes:
            image = f"library/alpine-{size}"
            layout = build_oci_layout(
                tmp / image, label=image, padding=os.urandom(size * 1024 * 1024)
            )
            result = skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:latest",
                            f"docker://{hub.address}/{image}:latest")  # fmt: skip
            assert result.returncode == 0, result.stderr
            images[size] = image
        token = {
            "realm": f"{portal.url}/auth/token",
            "service": SERVICE,
            "issuer": ISSUER,
            "rootcertbundle": Path(env["TOKEN_SIGNING_CERT_FILE"]),
        }
        open_config = tmp / "open.yml"
        without_auth = yaml.safe_load(CACHE_CONFIG.read_text())
        del without_auth["auth"]
        open_config.write_text(yaml.safe_dump(without_auth))
        with (
            running_registry(port=free_port(), workdir=tmp / "checked", config=CACHE_CONFIG,
                             proxy_remoteurl=hub.url, **token) as checked,
            running_registry(port=free_port(), workdir=tmp / "open", config=open_config,
                             proxy_remoteurl=hub.url, realm=None) as unchecked,
            running_dockerd(registry_mirror=f"http://127.0.0.1:{free_port()}") as dockerd,
        ):  # fmt: skip
            docker = dockerd.client(tmp / "docker-config")
            login = docker.login(checked.address, "mike", secret)
            assert login.returncode == 0, login.stderr
            caches = {"checked": checked, "open": unchecked}
            print(f"{pulls} pulls per cache and size, alternating; caches warm; image removed "
                  "after each pull; docker pull by host (dockerd 20.10, vfs)\n")  # fmt: skip
            print("| layer | open cache: pull ms (median) | checked cache: pull ms (median) "
                  "| difference | token requests per pull | portal ms per pull (median) "
                  "| portal's share of the checked pull |")  # fmt: skip
            print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
            for size, image in images.items():
                times = {name: [] for name in caches}
                portal_ms, counts = [], []
                offset = portal.error_log.stat().st_size
                for round_ in range(pulls + 1):  # the first round warms the caches up
                    order = list(caches) if round_ % 2 else list(reversed(caches))
                    for name in order:
                        started = time.perf_counter()
                        result = docker.pull(f"{caches[name].address}/{image}:latest")
                        elapsed = (time.perf_counter() - started) * 1000
                        assert result.returncode == 0, result.stderr
                        time.sleep(0.3)  # the request log is written after the answer
                        found, offset = token_requests(portal.error_log, offset)
                        if round_ == 0:
                            continue
                        times[name].append(elapsed)
                        if name == "checked":
                            portal_ms.append(sum(found))
                            counts.append(len(found))
                open_ms, checked_ms = (statistics.median(times[n]) for n in ("open", "checked"))
                share = statistics.median(portal_ms) / checked_ms
                label = f"{size} MiB" if size else "tiny"
                difference = checked_ms - open_ms
                print(
                    f"| {label} | {open_ms:,.0f} | {checked_ms:,.0f} | {difference:+,.0f} "
                    f"| {statistics.median(counts):g} | {statistics.median(portal_ms):.1f} "
                    f"| {share:.1%} |"
                )
            workers = env.get("WEB_CONCURRENCY", "3")
            print(f"\nportal: gunicorn ({workers} workers) on SQLite; every pull decided and "
                  "recorded (DECISION_LOG_FLUSH_SECONDS default)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
