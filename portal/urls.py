from django.contrib import admin
from django.urls import include, path

from portal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("orgs.invitations.urls")),
    path("orgs/", include("policies.urls")),
    path("orgs/", include("orgs.urls")),
    path("", include("tokens.urls")),
]
