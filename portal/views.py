"""Site-wide views: the probes, the home page, the CSRF failure page."""

import datetime as dt
import logging
from typing import NamedTuple

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from tokens.signing import signing_key_status

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request):
    """Liveness probe: the process answers. Touches nothing else (restart it if this fails)."""
    return HttpResponse("ok\n", content_type="text/plain")


class Check(NamedTuple):
    """A readiness check's outcome: its state in the JSON, whether the process can serve with
    it, and fields added to the JSON."""

    state: str = "ok"
    ready: bool = True
    details: dict | None = None


def _database_ready() -> Check:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return Check()


def _cache_ready() -> Check:
    """The shared cache holds only the password throttle's counters, which fall back to each
    process's memory while it is down (:mod:`core.throttle`): a dead cache degrades this
    node, it does not take it out of rotation (that would take every node out at once)."""
    cache = caches["default"]
    try:
        cache.set("readyz", "ok", 10)
        if cache.get("readyz") != "ok":
            raise RuntimeError("a value written to the cache did not come back")
    except Exception as error:  # noqa: BLE001 - whatever the cache raises, we are degraded
        logger.warning("Degraded: cache: %s (password sign-ins counted per process)", error)
        return Check("failed", ready=True)
    return Check()


def _signing_key_ready() -> Check:
    """Not ready once the certificate has expired (the registry refuses what it signs); a
    warning, still ready, ``TOKEN_SIGNING_CERT_WARN_DAYS`` before."""
    status = signing_key_status(
        warn_before=dt.timedelta(days=settings.TOKEN_SIGNING_CERT_WARN_DAYS)
    )
    expires_at = status.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ") if status.expires_at else None
    details = {"signing_key_expires_at": expires_at}
    if status.state == "expired":
        logger.warning("Not ready: signing_key: the certificate expired at %s", expires_at)
        return Check("expired", ready=False, details=details)
    if status.state == "expires_soon":
        logger.warning(
            "The token-signing certificate expires at %s: rotate the key before then", expires_at
        )
    return Check(status.state, details=details)


READINESS_CHECKS = {
    "database": _database_ready,
    "cache": _cache_ready,
    "signing_key": _signing_key_ready,
}


@never_cache
@require_safe
def readyz(request):
    """Readiness probe: 200 when this process can serve (database and token-signing key
    usable), else 503; the JSON says each check's state (``failed``, or the signing key's
    ``expired``; ``expires_soon`` is a warning, still 200) and when the certificate expires;
    the log says why. A failed cache is ``"status": "degraded"``, still 200: registry clients
    with access tokens don't need it, and passwords stay throttled per process."""
    checks, details, ready = {}, {}, True
    for name, check in READINESS_CHECKS.items():
        try:
            result = check()
        except Exception as error:  # noqa: BLE001 - whatever breaks a dependency, we are not ready
            logger.warning("Not ready: %s: %s", name, error)
            result = Check("failed", ready=False)
        checks[name] = result.state
        details.update(result.details or {})
        ready = ready and result.ready
    degraded = ready and checks.get("cache") == "failed"
    return JsonResponse(
        {
            "status": "degraded" if degraded else "ready" if ready else "not ready",
            "checks": checks,
            **details,
        },
        status=200 if ready else 503,
    )


@require_safe
def favicon(request):
    """``/favicon.ico``, which browsers ask for on their own: the portal's icon (pages name it
    with ``<link rel="icon">`` too), so no page leaves a 404 in the log."""
    return redirect(static("portal/favicon.svg"), permanent=True)


def home(request):
    if request.user.is_authenticated:
        return redirect("orgs:list")
    return redirect("login")


def csrf_failure(request, reason=""):
    """A CSRF failure in the portal's own layout (nothing was changed), with a link back to the
    page the form was on when that page is one of ours."""
    referer = request.META.get("HTTP_REFERER", "")
    back_url = (
        referer
        if referer
        and url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        else None
    )
    return render(request, "403_csrf.html", {"reason": reason, "back_url": back_url}, status=403)
