"""End to end: a policy-checked pull-through cache of Docker Hub (docs/docker-hub-cache.md).

A stand-in for Docker Hub (a registry without authentication, seeded with skopeo under Docker
Hub's names) sits behind the cache (Distribution in proxy mode, token authentication against
the live portal). Real clients pull through it as a member of acme: Docker Engine with the cache
as its registry mirror (the member's portal credentials stored for Docker Hub in
``config.json``), Docker Engine addressing the cache by its host after ``docker login``,
containerd with a ``hosts.toml`` naming the cache as docker.io's mirror, and skopeo; with
Image Access Management off, on (with an allowlist entry as the exception), and audit-only, and
anonymously. One dockerd and one containerd serve every test of the module.
"""

import json
import re
import time

import pytest

from activity.models import PullDecision
from policies.hub_cache import hub_cache_help
from tests.conftest import require_tool
from tests.e2e.conftest import ISSUER, SERVICE
from tests.e2e.containerd import find_containerd, running_containerd
from tests.e2e.deployment import REPO
from tests.e2e.docker import find_docker, running_dockerd
from tests.e2e.oci import build_oci_layout
from tests.e2e.registry import free_port, running_registry, skopeo
from tests.factories import add_entry, make_org, make_publisher, make_user, set_policy
from tokens.services import access_token_create

pytestmark = pytest.mark.registry

TAG = "latest"
#: Docker Hub repositories in the stand-in upstream, and how a member names them.
HUB = {
    "library/alpine": "alpine",
    "bitnami/redis": "bitnami/redis",
    "someone/tool": "someone/tool",
    "acme/app": "acme/app",
}
DENIED = "denied: requested access to the resource is denied"
MIRROR_FALLBACK = "registry-1.docker.io"  # the daemon's fallback after the mirror refuses


@pytest.fixture(scope="module")
def cache_port():
    """The cache's port, chosen before dockerd starts: the daemon names it as its mirror, and
    each test starts its own cache there."""
    return free_port()


@pytest.fixture(scope="module")
def dockerd(cache_port):
    require_tool(find_docker() is not None, "dockerd and docker (Debian docker.io), as root")
    with running_dockerd(registry_mirror=f"http://127.0.0.1:{cache_port}") as running:
        yield running


@pytest.fixture(scope="module")
def node():
    """containerd as on a Kubernetes node (``ctr`` stands in for the kubelet)."""
    require_tool(find_containerd() is not None, "containerd and ctr")
    with running_containerd() as running:
        yield running


@pytest.fixture
def upstream(registry_tools, tmp_path):
    """The stand-in for Docker Hub, seeded with a distinct image under each name of HUB."""
    with running_registry(port=free_port(), realm=None, workdir=tmp_path / "upstream") as hub:
        for repository in HUB:
            layout = build_oci_layout(tmp_path / "images" / repository, tag=TAG, label=repository)
            result = skopeo(
                "copy",
                "--dest-tls-verify=false",
                f"oci:{layout}:{TAG}",
                f"docker://{hub.address}/{repository}:{TAG}",
            )
            assert result.returncode == 0, result.stderr
        yield hub


CACHE_CONFIG = REPO / "deploy" / "docker-hub-cache" / "config.yml"


@pytest.fixture
def cache(upstream, portal, cache_port, tmp_path):
    """The cache: the shipped configuration (Distribution in proxy mode, token auth), in front
    of ``upstream`` instead of Docker Hub, with the live portal as its token service."""
    with running_registry(
        config=CACHE_CONFIG,
        port=cache_port,
        realm=portal.realm,
        service=SERVICE,
        issuer=ISSUER,
        rootcertbundle=portal.certificate,
        workdir=tmp_path / "cache",
        proxy_remoteurl=upstream.url,
    ) as running:
        yield running


@pytest.fixture
def hosts_dir(cache, tmp_path):
    """containerd's registry configuration: docker.io's ``hosts.toml`` as the tokens page
    gives it, naming the cache (plain HTTP here)."""
    directory = tmp_path / "certs.d"
    (directory / "docker.io").mkdir(parents=True)
    hosts_toml = hub_cache_help(host=cache.address, username="mike").containerd[0].text
    (directory / "docker.io" / "hosts.toml").write_text(
        hosts_toml.replace(f"https://{cache.address}", cache.url)
    )
    return directory


@pytest.fixture
def member(db):
    """acme (owner olivia), its member mike and his access token; bitnami a verified
    publisher."""
    olivia, mike = make_user("olivia"), make_user("mike")
    organization = make_org("acme", owner=olivia, members=[mike])
    make_publisher("bitnami")
    secret = access_token_create(user=mike, name="laptop")[1]
    return organization, olivia, mike, secret


class Outputs:
    """What each client printed, for the failure message (and the docs)."""

    def __init__(self, *sources):
        self.sources = sources

    def __str__(self):
        parts = []
        for source in self.sources:
            if hasattr(source, "calls"):
                parts.append("\n".join(source.calls[-6:]))
            elif hasattr(source, "log"):
                parts.append(f"--- {type(source).__name__} log ---\n{source.log()[-2500:]}")
        return "\n".join(parts)


MODES = {
    # mode: (policy settings, the outcome of each repository for mike)
    "off": (
        None,
        {r: "allowed" for r in HUB},
    ),
    "on": (
        {"enabled": True, "official": True},
        {
            "library/alpine": "allowed",
            "bitnami/redis": "allowed",  # acme's allowlist entry: the exception
            "someone/tool": "blocked",
            "acme/app": "allowed",
        },
    ),
    "audit_only": (
        {"enabled": True, "official": True, "audit_only": True},
        {
            "library/alpine": "allowed",
            "bitnami/redis": "would_block",
            "someone/tool": "would_block",
            "acme/app": "allowed",
        },
    ),
}


@pytest.mark.parametrize("mode", list(MODES))
def test_docker_hub_pulls_through_the_cache_follow_the_policy(
    mode, member, cache, dockerd, node, hosts_dir, portal, tmp_path
):
    organization, olivia, mike, secret = member
    policy, expected = MODES[mode]
    if policy is not None:
        set_policy(organization, actor=olivia, **policy)
    if mode == "on":
        add_entry(organization, "bitnami/redis", actor=olivia, reason="cache for CI")

    mirror = dockerd.client(tmp_path / "docker-mirror")
    mirror.store_docker_hub_credentials("mike", secret)
    by_host = dockerd.client(tmp_path / "docker-host")
    login = by_host.login(cache.address, "mike", secret)
    assert login.returncode == 0, Outputs(by_host, cache)
    activity = f"{portal.url}/settings/activity/"

    for repository, outcome in expected.items():
        pulled = outcome != "blocked"
        # Docker Engine, the cache as its registry mirror: `docker pull alpine`.
        result = mirror.pull(f"{HUB[repository]}:{TAG}")
        assert (result.returncode == 0) == pulled, Outputs(mirror, cache, dockerd)
        if not pulled:  # the mirror refused; the daemon's fallback to Docker Hub failed
            assert MIRROR_FALLBACK in result.stderr, Outputs(mirror)
        # Docker Engine, the cache by its host name: the refusal shows the portal's reason.
        result = by_host.pull(f"{cache.address}/{repository}:{TAG}")
        assert (result.returncode == 0) == pulled, Outputs(by_host, cache, dockerd)
        if not pulled:
            reason = (
                f"denied: pull of {repository} refused: Community images are blocked by acme's "
                f"Image Access Management. Your pull activity says why: {activity}"
            )
            assert reason in result.stderr, Outputs(by_host)
        # containerd, the cache as docker.io's mirror in hosts.toml (a Kubernetes node).
        result = node.fetch(f"docker.io/{repository}:{TAG}", f"mike:{secret}", hosts_dir)
        assert (result.returncode == 0) == pulled, f"{result.stderr}\n{Outputs(cache, node)}"

    # Every pull was decided on the Docker Hub name and recorded, for each client alike.
    recorded = {}
    for decision in PullDecision.objects.filter(username="mike"):
        client = re.match(r"[a-z]+", decision.user_agent).group()
        recorded.setdefault(client, {})[decision.repository] = decision.outcome
    assert recorded == {"docker": expected, "containerd": expected}, recorded


def test_refusals_as_each_client_shows_them(member, cache, dockerd, node, hosts_dir, tmp_path):
    """One refused pull with each client: what the member sees (docs/docker-hub-cache.md)."""
    organization, olivia, mike, secret = member
    set_policy(organization, actor=olivia, enabled=True, official=True)
    seen = {}
    mirror = dockerd.client(tmp_path / "docker-mirror")
    # `docker login` without a host asks Docker Hub itself: it cannot store the portal's token
    # for the mirror (offline, it fails; online, Docker Hub refuses the token).
    seen["docker login, no host"] = mirror.run(
        "login", "-u", "mike", "--password-stdin", stdin=secret
    )
    mirror.store_docker_hub_credentials("mike", secret)
    seen["docker, mirror"] = mirror.pull(f"someone/tool:{TAG}")
    by_host = dockerd.client(tmp_path / "docker-host")
    assert by_host.login(cache.address, "mike", secret).returncode == 0
    seen["docker, by host"] = by_host.pull(f"{cache.address}/someone/tool:{TAG}")
    seen["skopeo"] = skopeo(
        "copy",
        "--src-creds",
        f"mike:{secret}",
        "--src-tls-verify=false",
        f"docker://{cache.address}/someone/tool:{TAG}",
        f"dir:{tmp_path / 'skopeo'}",
    )
    seen["ctr, mirror"] = node.fetch(f"docker.io/someone/tool:{TAG}", f"mike:{secret}", hosts_dir)
    shown = {client: result.stderr.strip().splitlines()[-1] for client, result in seen.items()}
    print(json.dumps(shown, indent=2))  # -s shows them
    assert all(result.returncode != 0 for result in seen.values()), shown
    assert MIRROR_FALLBACK in shown["docker, mirror"]
    assert "docker.io" in shown["docker login, no host"]
    assert (
        "denied: pull of someone/tool refused: Community images are blocked"
        in shown["docker, by host"]
    )
    assert DENIED in shown["skopeo"]
    assert PullDecision.objects.filter(username="mike", outcome="blocked").count() >= 4


@pytest.mark.parametrize("anonymous_pulls", [False, True])
def test_anonymous_pulls_through_the_cache_follow_the_setting(
    anonymous_pulls, member, cache, dockerd, node, hosts_dir, settings, tmp_path
):
    organization, olivia, _, _ = member
    set_policy(organization, actor=olivia, enabled=True, official=True)
    settings.ANONYMOUS_PULLS = anonymous_pulls
    nobody = dockerd.client(tmp_path / "docker-anonymous")
    started = time.monotonic()
    for repository in ("library/alpine", "someone/tool"):
        result = nobody.pull(f"{HUB[repository]}:{TAG}")
        assert (result.returncode == 0) == anonymous_pulls, Outputs(nobody, cache)
        result = node.fetch(f"docker.io/{repository}:{TAG}", None, hosts_dir)
        assert (result.returncode == 0) == anonymous_pulls, f"{result.stderr}\n{Outputs(cache)}"
    assert time.monotonic() - started < 60
    # An anonymous user is in no organisation: nothing restricts them once they may pull.
    recorded = set(
        PullDecision.objects.filter(signed_in_with="anonymous").values_list("repository", "outcome")
    )
    expected = {("library/alpine", "allowed"), ("someone/tool", "allowed")}
    assert recorded == (expected if anonymous_pulls else set())
