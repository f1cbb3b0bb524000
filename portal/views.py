"""Site-wide views: the liveness probe and the home page."""

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def healthz(request):
    """Liveness probe: answers without touching the database."""
    return HttpResponse("ok\n", content_type="text/plain")


def home(request):
    if request.user.is_authenticated:
        return redirect("orgs:list")
    return redirect("login")


def csrf_failure(request, reason=""):
    """A CSRF failure in the portal's own layout (nothing was changed)."""
    return render(request, "403_csrf.html", {"reason": reason}, status=403)
