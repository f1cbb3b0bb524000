"""core.ratelimit: a fixed-window count in the shared cache, clock-aligned, failing loudly."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from core import ratelimit
from core.ratelimit import RateLimit, RateLimitUnavailable, hit, hit_or_refuse, peek, wait_text

HOURLY = RateLimit("test", limit=3, window=3600)
# 2026-12-04 14:45:00 UTC: 15 minutes before the hourly window ends.
NOW = datetime(2026, 12, 4, 14, 45, tzinfo=UTC).timestamp()


@pytest.fixture
def cache_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing listens
        }
    }


def test_counts_up_to_the_limit_then_refuses(db):
    results = [hit(HOURLY, "acme", now=NOW) for _ in range(4)]
    assert [r.count for r in results] == [1, 2, 3, 4]
    assert [r.allowed for r in results] == [True, True, True, False]
    assert [r.remaining for r in results] == [2, 1, 0, 0]
    assert results[-1].retry_after == 15 * 60
    assert results[-1].resets_at == datetime(2026, 12, 4, 15, 0, tzinfo=UTC)


def test_the_next_window_starts_again(db):
    for _ in range(4):
        hit(HOURLY, "acme", now=NOW)
    later = hit(HOURLY, "acme", now=NOW + 15 * 60)  # 15:00:00, the next window
    assert (later.count, later.allowed, later.retry_after) == (1, True, 3600)


def test_keys_and_limits_are_counted_apart(db):
    hit(HOURLY, "acme", now=NOW)
    hit(HOURLY, "acme", now=NOW)
    assert hit(HOURLY, "globex", now=NOW).count == 1
    assert hit(RateLimit("other", limit=3, window=3600), "acme", now=NOW).count == 1
    assert hit(RateLimit("test", limit=3, window=86400), "acme", now=NOW).count == 1


def test_peek_does_not_count(db):
    assert peek(HOURLY, "acme", now=NOW).count == 0
    hit(HOURLY, "acme", now=NOW)
    assert peek(HOURLY, "acme", now=NOW).remaining == 2
    assert peek(HOURLY, "acme", now=NOW).remaining == 2


def test_keys_are_digests_not_addresses(db, settings):
    hit(HOURLY, "someone@example.com", now=NOW)
    key, _, _ = ratelimit._window(HOURLY, "someone@example.com", NOW)
    assert "someone" not in key and "example" not in key


def test_hit_or_refuse_says_why_and_when(db):
    for _ in range(3):
        hit_or_refuse(HOURLY, "acme", refusal="{limit} {wait}", unavailable="down")
    with pytest.raises(ValidationError) as refused:
        hit_or_refuse(HOURLY, "acme", refusal="no more than {limit}, again {wait}", unavailable="")
    assert refused.value.code == "throttled"
    assert refused.value.messages[0].startswith("no more than 3, again in ")


def test_a_cache_that_is_down_is_an_error_not_an_allowance(db, cache_down):
    with pytest.raises(RateLimitUnavailable):
        hit(HOURLY, "acme")
    with pytest.raises(RateLimitUnavailable):
        peek(HOURLY, "acme")
    with pytest.raises(ValidationError) as refused:
        hit_or_refuse(HOURLY, "acme", refusal="", unavailable="The store is down.")
    assert (refused.value.code, refused.value.messages) == ("unavailable", ["The store is down."])


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (1, "in 1 second (at 15:00 UTC)"),
        (59, "in 59 seconds (at 15:00 UTC)"),
        (61, "in 2 minutes (at 15:00 UTC)"),
        (3600, "in 1 hour (at 15:00 UTC)"),
        (3601, "in 2 hours (at 15:00 UTC)"),
    ],
)
def test_wait_text(seconds, text):
    result = ratelimit.RateLimitResult(
        limit=1, count=2, retry_after=seconds, resets_at=datetime(2026, 12, 4, 15, tzinfo=UTC)
    )
    assert wait_text(result) == text
