"""The organisation's policy-checked Docker Hub cache (docs/docker-hub-cache.md), as its members
and owners use it: the commands, with their own names, and the words a client is shown when the
policy refuses a pull. Pure: the pages that show them (Access tokens, Enforce sign-in), the
token service and the tests share them.

The cache is ``DOCKER_HUB_CACHE_HOST`` (empty: none, and no command is shown). Every command
here was run against a real Docker Engine, containerd and cache by
``tests/e2e/test_docker_hub_cache.py``, apart from the host and names filled in.
"""

import json
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from policies.engine import Decision, OrgPolicy, PullSnapshot, pull_decide
from policies.references import parse_reference

#: Where Docker keeps the credentials it sends to a registry mirror (Docker Hub's).
DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/"
#: The images the commands pull: an official image, and a community one an organisation's
#: policy never allows as a whole (the token service decides on the name, so the check works
#: whether or not the image exists).
OFFICIAL_EXAMPLE = "library/alpine"
COMMUNITY_EXAMPLE = "someone/tool"


def refusal_message(refused: Sequence[tuple[str, Decision]], *, activity_url: str) -> str:
    """What a client is told when the policy refuses its pulls (``(repository, decision)``
    pairs): for each, the repository asked for, its category and the member's own organisation
    that blocks it, never an allowlist entry, a team or another organisation (built from the
    decisions' fields, not their prose); then where to read more."""
    reasons = "; ".join(
        f"pull of {repository} refused: {decision.category.label} are blocked by "
        f"{decision.organization}'s Image Access Management"
        for repository, decision in refused
    )
    return f"{reasons}. Your pull activity says why: {activity_url}"


@dataclass(frozen=True)
class Snippet:
    """A labelled block to copy: commands (``shell`` "sh") or a file's content."""

    label: str
    text: str
    shell: str = "sh"


@dataclass(frozen=True)
class HubCacheHelp:
    """How a member pulls Docker Hub images through the cache, three ways."""

    host: str
    by_host: tuple[Snippet, ...]
    mirror: tuple[Snippet, ...]
    containerd: tuple[Snippet, ...]


def hub_cache_help(*, host: str, username: str) -> HubCacheHelp | None:
    """The commands for ``username`` and the cache at ``host``; None without a cache.

    * By host: ``docker login HOST`` stores the access token for the cache, and images are
      named ``HOST/NAMESPACE/NAME`` (official images under ``library/``).
    * As Docker Engine's registry mirror: ``registry-mirrors`` in ``daemon.json``, and the
      access token stored as Docker Hub's credentials in ``~/.docker/config.json`` (the daemon
      sends those to the mirror; ``docker login`` without a host would ask Docker Hub itself).
    * containerd (Kubernetes nodes): ``hosts.toml`` naming the cache as docker.io's mirror.
    """
    if not host:
        return None
    quoted_host, quoted_user = shlex.quote(host), shlex.quote(username)
    by_host = (
        Snippet(
            "Sign in with your access token as the password, then pull",
            f"docker login {quoted_host} -u {quoted_user}\n"
            f"docker pull {quoted_host}/{OFFICIAL_EXAMPLE}",
        ),
    )
    credentials = (
        "read -rs TOKEN   # paste the access token\n"
        f"auth=$(printf '%s:%s' {quoted_user} \"$TOKEN\" | base64 | tr -d '\\n')\n"
        "mkdir -p ~/.docker && [ -s ~/.docker/config.json ] || echo '{}' > ~/.docker/config.json\n"
        f'jq --arg auth "$auth" \'.auths["{DOCKER_HUB_AUTH_KEY}"] = {{auth: $auth}}\' '
        "~/.docker/config.json > ~/.docker/config.json.new \\\n"
        "  && mv ~/.docker/config.json.new ~/.docker/config.json"
    )
    mirror = (
        Snippet(
            "Docker Engine: /etc/docker/daemon.json (Docker Desktop: Settings, Docker Engine), "
            "then restart the engine",
            json.dumps({"registry-mirrors": [f"https://{host}"]}, indent=2),
            shell="json",
        ),
        Snippet("Store your access token as the credentials for Docker Hub", credentials),
        Snippet("Pull as usual", f"docker pull {OFFICIAL_EXAMPLE.removeprefix('library/')}"),
    )
    containerd = (
        Snippet(
            "containerd (Kubernetes nodes): /etc/containerd/certs.d/docker.io/hosts.toml",
            'server = "https://registry-1.docker.io"\n\n'
            f'[host."https://{host}"]\n'
            '  capabilities = ["pull", "resolve"]',
            shell="toml",
        ),
    )
    return HubCacheHelp(host=host, by_host=by_host, mirror=mirror, containerd=containerd)


@dataclass(frozen=True)
class RestrictionCheck:
    """Commands that show an organisation's restrictions at work through the cache, and what
    the refused pull prints when its Image Access Management is on."""

    commands: Snippet
    expected_output: str


def restriction_check(
    *, host: str, organization: str, activity_url: str
) -> RestrictionCheck | None:
    """For the Enforce sign-in page: a member of ``organization`` (``docker login`` asks who)
    signs in to the cache and
    pulls an official image and a community image; with Image Access Management on, the
    community one is refused with the reason a plain member gets (decided by the engine, told
    as the token service tells Docker Engine). None without a cache."""
    if not host:
        return None
    quoted_host = shlex.quote(host)
    commands = Snippet(
        f"Pull through the cache as a member of {organization} (not an owner: owners bypass "
        "its policy)",
        f"docker login {quoted_host}\n"
        f"docker pull {quoted_host}/{OFFICIAL_EXAMPLE}\n"
        f"docker pull {quoted_host}/{COMMUNITY_EXAMPLE}",
    )
    member = PullSnapshot(
        username="", organizations=(OrgPolicy(name=organization, is_owner=False, enabled=True),)
    )
    decision = pull_decide(member, parse_reference(COMMUNITY_EXAMPLE))
    message = refusal_message([(COMMUNITY_EXAMPLE, decision)], activity_url=activity_url)
    return RestrictionCheck(commands=commands, expected_output=f"denied: {message}")
