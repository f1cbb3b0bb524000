"""WSGI entry point, used by gunicorn (``make serve``).

Every pull asks the registry's token endpoint (``/auth/token``) for a token, so that one path
is served by a Django handler with only the middleware it needs: the request log, the security
headers and redirect, and the host check. Its clients (registries' clients: skopeo, containerd,
Docker) carry no session cookie and render no HTML, so sessions, authentication by cookie,
CSRF (the POST flow is exempt anyway), messages, the Content-Security-Policy and the framing
header would only cost time there. Every other path goes through the full stack.
"""

import os

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

TOKEN_PATH = "/auth/token"
TOKEN_MIDDLEWARE = [
    "core.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",  # validates the Host header (ALLOWED_HOSTS)
]


class TokenServiceHandler(WSGIHandler):
    """Django's WSGI handler with :data:`TOKEN_MIDDLEWARE` instead of ``settings.MIDDLEWARE``."""

    def load_middleware(self, is_async=False):
        # BaseHandler.load_middleware reads settings.MIDDLEWARE; this runs once, at start-up.
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = TOKEN_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


portal_application = get_wsgi_application()
token_application = TokenServiceHandler()


def application(environ, start_response):
    """Send the token endpoint to its lean handler, everything else to the full one."""
    if environ.get("PATH_INFO") == TOKEN_PATH:
        return token_application(environ, start_response)
    return portal_application(environ, start_response)
