"""Site-wide middleware: one log line per request, control characters in a query string
refused, and private caching for signed-in pages."""

import functools
import json
import logging
import time

from csp.middleware import CSPMiddleware
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control

from core.text import has_control_characters
from core.throttle import client_address

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


#: Paths answered in JSON: the API's ``{"detail"}``, and the registry token protocol's
#: ``{"errors": [{"code", "message"}]}``.
API_PATHS = ("/api/", "/v2/")
TOKEN_PROTOCOL_PATHS = ("/auth/",)
CONTROL_IN_QUERY = (
    "The query string contains a control character (such as NUL): no name, search or filter "
    "has one."
)


class QueryControlCharactersMiddleware:
    """Refuses (400) a request whose query string holds a control character
    (:data:`core.text.CONTROL_CHARACTERS`) in a parameter's name or value, before any view
    reads it: NUL in a search or filter would otherwise reach PostgreSQL, which refuses it in
    text. Pages get the 400 page; the API and the token service get JSON in their own error
    format."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.META.get("QUERY_STRING") and any(
            has_control_characters(name) or any(map(has_control_characters, values))
            for name, values in request.GET.lists()
        ):
            return refused_query(request)
        return self.get_response(request)


def refused_query(request):
    """The 400 answer to a query string with a control character, in the path's format."""
    if request.path.startswith(API_PATHS):
        return JsonResponse({"detail": CONTROL_IN_QUERY}, status=400)
    if request.path.startswith(TOKEN_PROTOCOL_PATHS):
        body = {"errors": [{"code": "INVALID_REQUEST", "message": CONTROL_IN_QUERY}]}
        return JsonResponse(body, status=400)
    return render(request, "400.html", {"reason": CONTROL_IN_QUERY}, status=400)


def no_content_security_policy(view):
    """Mark a view's responses as needing no Content-Security-Policy (JSON for machines, never
    rendered by a browser): :class:`ContentSecurityPolicyMiddleware` then does not build one,
    which costs more than some views' own work."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.content_security_policy_needed = False
        return response

    return wrapper


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware (settings' CONTENT_SECURITY_POLICY), except for responses marked
    by :func:`no_content_security_policy`: django-csp builds both policies for every response
    before it looks at its own exemptions."""

    def process_response(self, request, response):
        if getattr(response, "content_security_policy_needed", True) is False:
            return response
        return super().process_response(request, response)
