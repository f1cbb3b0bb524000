"""Throttled sign-in: failed password checks are counted per (account, client address).

django-axes does the counting: its authentication backend refuses a locked-out pair before
Django's backend hashes the password, and its ``user_login_failed`` receiver counts each failure
in the shared cache (``settings.CACHES["default"]``, so every worker process and node sees the
same counts). Only password checks count: an access token or refresh token is 256 random bits
that cannot be guessed, and refusing one costs no hash. Once a pair is locked, every sign-in of
that account from that address is refused, whatever the credentials, until the window passes.

This module is what the portal's own code asks: :func:`lockout` (one cache read), the client
address, and the reset after a sign-in that did not go through ``django.contrib.auth.login``.
"""

import logging
import math
import time
from dataclasses import dataclass

from axes.backends import AxesStandaloneBackend
from axes.handlers.cache import AxesCacheHandler
from axes.helpers import get_cache_timeout, get_client_cache_keys, make_cache_key_list
from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class ThrottleUnavailable(Exception):
    """The shared cache that holds the counters cannot be reached: fail closed."""


@dataclass(frozen=True)
class Lockout:
    """A locked (account, address) pair and how long it stays locked."""

    username: str
    address: str
    retry_after: int  # seconds, at least 1

    @property
    def message(self) -> str:
        minutes = math.ceil(self.retry_after / 60)
        return (
            "Too many failed sign-ins for this account from your address. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        )


def client_address(request) -> str:
    """The client's address: ``REMOTE_ADDR``, or behind ``TRUSTED_PROXY_COUNT`` proxies that
    append to ``X-Forwarded-For``, the entry the outermost trusted proxy added (entries further
    left come from the client and could be forged)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        if len(forwarded) >= proxies and forwarded[-proxies]:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


class SignInThrottleBackend(AxesStandaloneBackend):
    """axes' backend (first in ``AUTHENTICATION_BACKENDS``): refuses a locked-out pair before
    the next backend hashes the password. A check without a request (a management command,
    the test client's ``login``) has no client address to throttle and passes through."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def _until_key(counter_key: str) -> str:
    return f"{counter_key}:until"


class SignInFailureHandler(AxesCacheHandler):
    """axes' cache handler, plus the time the count expires (for ``Retry-After``), and the
    cache looked up on each use so that a settings change (tests) takes effect."""

    def __init__(self):  # axes' own keeps the cache object it found at start-up
        pass

    @property
    def cache(self):
        return caches[settings.AXES_CACHE]

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or getattr(request, "axes_failures_since_start", None) is None:
            return  # not counted (refused during a lockout, or no request)
        timeout = get_cache_timeout(request)
        for key in get_client_cache_keys(request, credentials):
            self.cache.set(_until_key(key), time.time() + timeout, timeout)
        username = credentials.get("username")
        count = request.axes_failures_since_start
        if count >= settings.AXES_FAILURE_LIMIT:
            logger.warning(
                "Sign-in locked for %r from %s after %d failures",
                username,
                request.axes_ip_address,
                count,
            )


def account_key(request, credentials) -> str | None:
    """The account part of a counter's key (``AXES_USERNAME_CALLABLE``): the username with its
    length in front. axes joins the account and the address without a separator, and
    ``"mike1" + "27.0.0.1"`` is ``"mike" + "127.0.0.1"``: without the length, failures from one
    address could lock another account out at another address."""
    if credentials is not None:
        username = credentials.get("username")
    else:
        username = request.POST.get("username") if request is not None else None
    return None if username is None else f"{len(username)}:{username}"


def _counter_key(username: str, address: str) -> str:
    """The cache key under which axes counts this pair's failures (``AXES_LOCKOUT_PARAMETERS``
    is ``[["username", "ip_address"]]``), built by axes' own function."""
    account = account_key(None, {"username": username})
    return make_cache_key_list([{"username": account, "ip_address": address}])[0]


def lockout(request, username: str) -> Lockout | None:
    """The lockout of ``username`` from this request's address, or None: one cache read
    (a second one, for the time left, only when locked). The token service asks on every
    request, so this reads the counter directly rather than through axes' request handling.

    :raises ThrottleUnavailable: if the cache cannot be read.
    """
    address = client_address(request)
    key = _counter_key(username, address)
    cache = caches[settings.AXES_CACHE]
    try:
        failures = cache.get(key, 0)
        if failures < settings.AXES_FAILURE_LIMIT:
            request.sign_in_failures = failures
            return None
        until = cache.get(_until_key(key), 0)
    except (OSError, RedisError, DatabaseError) as error:  # Redis down, unwritable directory
        raise ThrottleUnavailable(str(error)) from error
    retry_after = until - time.time() if until else settings.AXES_COOLOFF_TIME.total_seconds()
    return Lockout(username=username, address=address, retry_after=max(1, math.ceil(retry_after)))


def clear_failures(request, username: str) -> None:
    """Forget this pair's failures after a successful sign-in that did not go through
    ``django.contrib.auth.login`` (the token service); nothing to do when :func:`lockout`
    found none, so the usual request costs no write."""
    if getattr(request, "sign_in_failures", 0):
        key = _counter_key(username, client_address(request))
        caches[settings.AXES_CACHE].delete_many([key, _until_key(key)])
        request.sign_in_failures = 0
