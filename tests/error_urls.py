"""The portal's URLs plus two that fail on purpose, so that the browser tests can look at the
400 and 500 pages as Django renders them (without a request context)."""

from django.core.exceptions import SuspiciousOperation
from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns


def bad_request(request):
    raise SuspiciousOperation("A request the portal cannot make sense of (test).")


def server_error(request):
    raise RuntimeError("A bug (test).")


urlpatterns = [
    *portal_urlpatterns,
    path("test-errors/400/", bad_request),
    path("test-errors/500/", server_error),
]
