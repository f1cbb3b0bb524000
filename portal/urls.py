from django.contrib import admin
from django.urls import include, path

from portal import views

urlpatterns = [
    # First: the registry's token endpoint is the busiest URL (every pull asks it).
    path("", include("tokens.urls")),
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("policies.urls")),
    path("orgs/", include("orgs.urls")),
]
