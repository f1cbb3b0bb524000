from django.contrib import admin
from django.urls import include, path

from portal import views
from tokens import token_service

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("auth/token", token_service.token, name="registry_token"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("orgs/", include("policies.urls")),
    path("orgs/", include("orgs.urls")),
    path("settings/tokens/", include("tokens.urls")),
]
