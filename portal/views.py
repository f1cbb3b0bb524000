"""Site-wide views: the probes, the home page, the CSRF failure page."""

import logging

from django.core.cache import caches
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from tokens.signing import current_signing_key

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request):
    """Liveness probe: the process answers. Touches nothing else (restart it if this fails)."""
    return HttpResponse("ok\n", content_type="text/plain")


def _database_ready() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache_ready() -> None:
    cache = caches["default"]
    cache.set("readyz", "ok", 10)
    if cache.get("readyz") != "ok":
        raise RuntimeError("a value written to the cache did not come back")


def _signing_key_ready() -> None:
    current_signing_key()


READINESS_CHECKS = {
    "database": _database_ready,
    "cache": _cache_ready,
    "signing_key": _signing_key_ready,
}


@never_cache
@require_safe
def readyz(request):
    """Readiness probe: 200 when this process can serve (database, cache and token-signing key
    usable), else 503; the JSON says which check failed, the log says why."""
    checks = {}
    for name, check in READINESS_CHECKS.items():
        try:
            check()
        except Exception as error:  # noqa: BLE001 - whatever breaks a dependency, we are not ready
            logger.warning("Not ready: %s: %s", name, error)
            checks[name] = "failed"
        else:
            checks[name] = "ok"
    ready = all(state == "ok" for state in checks.values())
    return JsonResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status=200 if ready else 503,
    )


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
