"""Site-wide middleware: one log line per request, and private caching for signed-in pages."""

import json
import logging
import time

from django.utils.cache import patch_cache_control

from portal.throttle import client_address

request_logger = logging.getLogger("portal.requests")

# URL arguments that carry secrets (invitation and password-reset links): never logged.
SECRET_URL_KWARGS = frozenset({"token", "key", "secret", "uidb64"})
FIELD_LIMIT = 200


def printable(value: str, limit: int = FIELD_LIMIT) -> str:
    """A client-controlled string made safe for a one-line log: quotes, backslashes, control
    and non-ASCII characters escaped as in JSON, cut to ``limit`` characters."""
    return json.dumps(value[:limit])[1:-1]


def logged_path(request) -> str:
    """The request's path with the secret URL arguments replaced."""
    path = request.path
    match = getattr(request, "resolver_match", None)
    if match is not None:
        for name, value in match.kwargs.items():
            if name in SECRET_URL_KWARGS and isinstance(value, str) and value:
                path = path.replace(value, "[secret]")
    return printable(path, 500)


class RequestLogMiddleware:
    """Logs each request as one line on ``portal.requests`` (and, with ``LOG_FORMAT=json``, as
    fields of one JSON object): client address (behind ``TRUSTED_PROXY_COUNT`` proxies, the one
    they saw), method, path, status, size, duration, user and
    user agent. Client-controlled values are escaped, the query string (which may carry
    credentials) is left out, and so are secret URL arguments."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = (time.perf_counter() - started) * 1000
        user = getattr(request, "user", None)
        fields = {
            "remote": printable(client_address(request) or "-", 60),
            "method": printable(request.method or "-", 20),
            "path": logged_path(request),
            "status": response.status_code,
            "bytes": len(response.content) if not response.streaming else None,
            "duration_ms": round(duration_ms, 1),
            "user": user.get_username() if user is not None and user.is_authenticated else None,
            "user_agent": printable(request.META.get("HTTP_USER_AGENT", "")),
        }
        request_logger.info(
            '%s "%s %s" %s %s %.1fms user=%s ua="%s"',
            fields["remote"],
            fields["method"],
            fields["path"],
            fields["status"],
            fields["bytes"] if fields["bytes"] is not None else "-",
            duration_ms,
            fields["user"] or "-",
            fields["user_agent"],
            extra=fields,
        )
        return response


class PrivatePagesMiddleware:
    """Pages shown to a signed-in user are theirs alone: ``Cache-Control: private, no-store``
    unless the view set its own caching."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control") and request.user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response
