"""Throttled password sign-in: every password check in the portal is counted and bounded here.

A password is the only credential that can be guessed, so only password checks are throttled:
an access token or refresh token is 256 random bits, and checking one costs a digest, not a
slow hash. Three bounds, all in :class:`ThrottledModelBackend`, the one authentication backend
(the sign-in forms, the token service and the API all go through ``authenticate``):

* **per account and address**: after ``LOGIN_FAILURE_LIMIT`` failures of one account from one
  client address, that account's passwords are refused from that address until
  ``LOGIN_FAILURE_WINDOW`` seconds have passed since the last failure. Someone behind the
  same NAT can lock the *password* of a named account from there, never its access tokens.
* **per address, across accounts**: after ``LOGIN_ADDRESS_FAILURE_LIMIT`` failures from one
  address, whatever the usernames (existing or not), every password sign-in from that address
  is refused for the same window, so a flood of rotating usernames costs one cache read each.
* **per process**: at most ``PASSWORD_HASH_CONCURRENCY`` password hashes at once; a request
  that cannot get a slot within ``PASSWORD_HASH_WAIT`` seconds is refused as :class:`Busy`.

The counters live in the shared cache (``CACHES["default"]``), so every worker and node sees
them. When that cache cannot be reached, the counters fall back to this process's memory (a
bounded table): passwords stay throttled per process, and nothing else depends on the cache.
"""

import hashlib
import logging
import math
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import caches
from django.db import DatabaseError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

#: What the shared cache raises when it cannot be reached (Redis down, an unwritable directory).
CACHE_ERRORS = (OSError, RedisError, DatabaseError)
#: Keys the per-process fallback keeps at most (oldest dropped first).
LOCAL_KEYS_KEPT = 10_000


@dataclass(frozen=True)
class Lockout:
    """Password sign-ins refused: for one account from an address (``username`` set), or for
    every account from the address (``username`` None), and for how long."""

    username: str | None
    address: str
    retry_after: int  # seconds, at least 1

    @property
    def message(self) -> str:
        minutes = math.ceil(self.retry_after / 60)
        what = "this account" if self.username is not None else "any account"
        return (
            f"Too many failed sign-ins for {what} from your address. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        )


class PasswordRefused(Exception):
    """The password was right, but this account may not use it (a subclass's
    :meth:`ThrottledModelBackend.refusal_after_password`: single sign-on required);
    ``message`` says what to use instead."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Busy(Exception):
    """Every password-hashing slot of this process is taken: retry in a moment."""

    retry_after = 1
    message = "Too many sign-ins are being checked right now. Try again in a moment."


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


# --- the counters ----------------------------------------------------------------------------


class _LocalCounters:
    """The per-process stand-in for the shared cache while it is down: counters with an expiry
    time, at most :data:`LOCAL_KEYS_KEPT` of them."""

    def __init__(self):
        self._lock = threading.Lock()
        self._values: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key: (value, until)

    def get_many(self, keys) -> dict:
        now = time.time()
        with self._lock:
            return {
                key: self._values[key][0]
                for key in keys
                if key in self._values and self._values[key][1] > now
            }

    def incr(self, key: str, timeout: int) -> None:
        now = time.time()
        with self._lock:
            value, until = self._values.pop(key, (0, 0))
            self._values[key] = ((value if until > now else 0) + 1, now + timeout)
            while len(self._values) > LOCAL_KEYS_KEPT:
                self._values.popitem(last=False)

    def set(self, key: str, value: float, timeout: int) -> None:
        with self._lock:
            self._values.pop(key, None)
            self._values[key] = (value, time.time() + timeout)

    def delete_many(self, keys) -> None:
        with self._lock:
            for key in keys:
                self._values.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


local_counters = _LocalCounters()
_cache_down_logged_at = 0.0


def _cache_failed(error: Exception) -> None:
    global _cache_down_logged_at
    if time.time() - _cache_down_logged_at > 60:  # once a minute, not once a request
        _cache_down_logged_at = time.time()
        logger.error(
            "Sign-in failure counters: the shared cache is unavailable (%s); counting in this "
            "process until it is back",
            error,
        )


def _account_key(username: str, address: str) -> str:
    digest = hashlib.sha256(f"{len(username)}:{username}|{address}".encode()).hexdigest()
    return f"signin:fail:{digest[:40]}"


def _address_key(address: str) -> str:
    return f"signin:addr:{hashlib.sha256(address.encode()).hexdigest()[:40]}"


def _until(key: str) -> str:
    return f"{key}:until"


def _read(keys: list[str]) -> dict:
    try:
        return caches["default"].get_many(keys)
    except CACHE_ERRORS as error:
        _cache_failed(error)
        return local_counters.get_many(keys)


def _count(keys: list[str]) -> None:
    """Add one to each counter, and push its expiry (and the time it ends) a window ahead."""
    window = settings.LOGIN_FAILURE_WINDOW
    until = time.time() + window
    try:
        cache = caches["default"]
        for key in keys:
            cache.add(key, 0, window)
            cache.incr(key)
            cache.touch(key, window)
        cache.set_many({_until(key): until for key in keys}, window)
    except (*CACHE_ERRORS, ValueError) as error:  # ValueError: the key expired in between
        _cache_failed(error)
        for key in keys:
            local_counters.incr(key, window)
            local_counters.set(_until(key), until, window)


def password_lockout(request, username: str) -> Lockout | None:
    """Whether a password sign-in of ``username`` from this request's address is refused now:
    one cache read of both counters (another for the time left, only when refused)."""
    address = client_address(request)
    account, per_address = _account_key(username, address), _address_key(address)
    counts = _read([account, per_address])
    request.sign_in_failures = counts.get(account, 0)
    if counts.get(account, 0) >= settings.LOGIN_FAILURE_LIMIT:
        key, who = account, username
    elif counts.get(per_address, 0) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
        key, who = per_address, None
    else:
        return None
    until = _read([_until(key)]).get(_until(key), 0)
    retry_after = until - time.time() if until else settings.LOGIN_FAILURE_WINDOW
    return Lockout(username=who, address=address, retry_after=max(1, math.ceil(retry_after)))


def password_failed(request, username: str) -> None:
    """Count a wrong password of ``username`` from this request's address (both counters)."""
    address = client_address(request)
    _count([_account_key(username, address), _address_key(address)])
    request.sign_in_failures = getattr(request, "sign_in_failures", 0) + 1
    if request.sign_in_failures >= settings.LOGIN_FAILURE_LIMIT:
        logger.warning(
            "Sign-in locked for %r from %s after %d failures",
            username,
            address,
            request.sign_in_failures,
        )


def password_succeeded(request, username: str) -> None:
    """Forget this account's failures from this address (the address's budget stays spent);
    no write when :func:`password_lockout` found none."""
    if getattr(request, "sign_in_failures", 0):
        key = _account_key(username, client_address(request))
        try:
            caches["default"].delete_many([key, _until(key)])
        except CACHE_ERRORS as error:
            _cache_failed(error)
        local_counters.delete_many([key, _until(key)])
        request.sign_in_failures = 0


# --- the hashing slots -----------------------------------------------------------------------

_slots: threading.BoundedSemaphore | None = None
_slots_size = 0
_slots_lock = threading.Lock()


def _hashing_slots() -> threading.BoundedSemaphore:
    global _slots, _slots_size
    size = settings.PASSWORD_HASH_CONCURRENCY
    with _slots_lock:
        if _slots is None or _slots_size != size:
            _slots, _slots_size = threading.BoundedSemaphore(size), size
        return _slots


@contextmanager
def hashing_slot():
    """Hold one of this process's password-hashing slots.

    :raises Busy: none was free within ``PASSWORD_HASH_WAIT`` seconds.
    """
    slots = _hashing_slots()
    if not slots.acquire(timeout=settings.PASSWORD_HASH_WAIT):
        logger.warning("Password sign-in refused: all %d hashing slots busy", _slots_size)
        raise Busy()
    try:
        yield
    finally:
        slots.release()


# --- the backend -----------------------------------------------------------------------------


class ThrottledModelBackend(ModelBackend):
    """Django's ``ModelBackend`` with the bounds above, for every password check made with a
    request. A refused check returns None (``authenticate`` then reports a failed sign-in);
    callers that want to say *why* ask :func:`password_lockout` first. A check without a
    request (a management command, the test client's ``login``) has no address and is not
    throttled.

    :raises Busy: no hashing slot was free (it reaches ``authenticate``'s caller).
    :raises PasswordRefused: the password was right, but the account must use single sign-on.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None or username is None or password is None:
            return super().authenticate(request, username=username, password=password, **kwargs)
        if password_lockout(request, username) is not None:
            return None
        with hashing_slot():
            user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            password_failed(request, username)
            return None
        password_succeeded(request, username)
        refusal = self.refusal_after_password(user)
        if refusal is not None:
            logger.info("Password sign-in of %r refused: %s", username, refusal)
            raise PasswordRefused(refusal)
        return user

    def refusal_after_password(self, user) -> str | None:
        """Why ``user``, whose password was right, may still not sign in with it; None here
        (the portal's backend, :class:`orgs.backends.SignInBackend`, asks the organisations)."""
        return None
