from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, register_converter

from orgs.converters import OrganizationNameConverter, TeamNameConverter, UsernameConverter
from portal import views
from portal.forms import AdminSignInForm, SignInForm

admin.site.login_form = AdminSignInForm

register_converter(OrganizationNameConverter, "org")
register_converter(TeamNameConverter, "team")
register_converter(UsernameConverter, "username")

urlpatterns = [
    # First: the registry's token endpoint is the busiest URL (every pull asks it).
    path("", include("tokens.urls")),
    path("", include("api.urls")),
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=SignInForm),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("orgs.invitations.urls")),
    path("", include("policies.urls")),
    path("orgs/", include("orgs.urls")),
]
