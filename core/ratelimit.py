"""A fixed-window rate limit kept in the shared cache (``caches["default"]``), for any page or
service that must bound how often something happens: at most ``limit`` events per ``window``
seconds per key (an organisation, an address, a user).

Windows are aligned on the clock (an hourly window runs from hh:00 to hh:59), so that the
page can say when the count starts again. Each window's count is one cache entry, created with
``cache.add`` and counted with ``cache.incr``: atomic on Redis; on the file cache two
concurrent hits may be counted once (the same caveat as the sign-in throttle's). Keys are
SHA-256 digests of what they count, so that e-mail addresses are not stored in clear.

When the cache cannot be reached, :func:`hit` and :func:`peek` raise
:class:`RateLimitUnavailable`: the caller decides whether to refuse (fail closed) or go on.
:func:`hit_or_refuse` is the fail-closed way for a service: a ``ValidationError`` either way.
"""

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.cache import caches
from django.core.exceptions import ValidationError

KEY_PREFIX = "ratelimit"


class RateLimitUnavailable(Exception):
    """The shared cache that holds the counts could not be read or written."""


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` events per ``window`` seconds for each key; ``name`` keeps one kind
    of event's counts apart from another's."""

    name: str
    limit: int
    window: int


@dataclass(frozen=True)
class RateLimitResult:
    """Where a key stands in the current window: ``count`` events so far (this one included
    when it was a :func:`hit`), whether this one is ``allowed``, how many ``remaining``, and
    ``retry_after`` seconds until the window ends and the count starts again (at
    ``resets_at``)."""

    limit: int
    count: int
    retry_after: int
    resets_at: datetime

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    @property
    def remaining(self) -> int:
        return max(self.limit - self.count, 0)


def _window(rate: RateLimit, key: str, now: float) -> tuple[str, int, int]:
    """The cache key of ``key``'s count in the window holding ``now``, the window's end (epoch
    seconds) and the seconds left until then (at least 1)."""
    start = int(now // rate.window) * rate.window
    end = start + rate.window
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{KEY_PREFIX}:{rate.name}:{rate.window}:{start}:{digest}", end, max(int(end - now), 1)


def _result(rate: RateLimit, count: int, end: int, retry_after: int) -> RateLimitResult:
    return RateLimitResult(
        limit=rate.limit,
        count=count,
        retry_after=retry_after,
        resets_at=datetime.fromtimestamp(end, tz=UTC),
    )


def hit(rate: RateLimit, key: str, *, now: float | None = None) -> RateLimitResult:
    """Count one event for ``key`` and say whether it is within the limit (an event over the
    limit is counted too: retrying does not help until the window ends).

    :raises RateLimitUnavailable: when the cache cannot be reached.
    """
    now = time.time() if now is None else now
    cache_key, end, retry_after = _window(rate, key, now)
    cache = caches["default"]
    try:
        cache.add(cache_key, 0, timeout=retry_after + 1)
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add and incr: this event opens the window
            cache.add(cache_key, 0, timeout=retry_after + 1)
            count = cache.incr(cache_key)
    except Exception as exc:  # any backend's error (redis.ConnectionError, OSError, ...)
        raise RateLimitUnavailable(str(exc)) from exc
    return _result(rate, count, end, retry_after)


def peek(rate: RateLimit, key: str, *, now: float | None = None) -> RateLimitResult:
    """Where ``key`` stands without counting an event (to show what remains).

    :raises RateLimitUnavailable: when the cache cannot be reached.
    """
    now = time.time() if now is None else now
    cache_key, end, retry_after = _window(rate, key, now)
    try:
        count = caches["default"].get(cache_key, 0)
    except Exception as exc:
        raise RateLimitUnavailable(str(exc)) from exc
    return _result(rate, count, end, retry_after)


def wait_text(result: RateLimitResult) -> str:
    """When the count starts again, for a message: "in 12 minutes (at 15:00 UTC)"."""
    seconds = result.retry_after
    if seconds < 60:
        amount = f"{seconds} second{'s' if seconds != 1 else ''}"
    elif seconds < 3600:
        minutes = -(-seconds // 60)
        amount = f"{minutes} minute{'s' if minutes != 1 else ''}"
    else:
        hours = -(-seconds // 3600)
        amount = f"{hours} hour{'s' if hours != 1 else ''}"
    return f"in {amount} (at {result.resets_at:%H:%M} UTC)"


def hit_or_refuse(rate: RateLimit, key: str, *, refusal: str, unavailable: str) -> RateLimitResult:
    """Count one event, for a service that fails closed: over the limit, raise
    ``ValidationError(refusal, code="throttled")``, where ``refusal`` may name ``{limit}`` and
    ``{wait}`` (:func:`wait_text`); when the cache is down, ``ValidationError(unavailable,
    code="unavailable")``."""
    try:
        result = hit(rate, key)
    except RateLimitUnavailable as exc:
        raise ValidationError(unavailable, code="unavailable") from exc
    if not result.allowed:
        raise ValidationError(
            refusal.format(limit=result.limit, wait=wait_text(result)), code="throttled"
        )
    return result
