from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, register_converter
from django.utils.functional import lazy

from accounts.forms import ThrottledPasswordResetForm
from accounts.views import PasswordResetSentView, SignOutView
from orgs.converters import OrganizationNameConverter, TeamNameConverter, UsernameConverter
from portal import views
from portal.forms import AdminSignInForm, SignInForm

admin.site.login_form = AdminSignInForm
# Errors outside a view's own handling: JSON on the API's paths, the error pages elsewhere.
handler400 = "api.errors.bad_request"
handler500 = "api.errors.server_error"

register_converter(OrganizationNameConverter, "org")
register_converter(TeamNameConverter, "team")
register_converter(UsernameConverter, "username")

urlpatterns = [
    # First: the registry's token endpoint is the busiest URL (every pull asks it).
    path("", include("tokens.urls")),
    path("", include("api.urls")),
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("readyz", views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=SignInForm),
        name="login",
    ),
    # Before Django's auth URLs: the same sign-out, with a "signed out" message.
    path("accounts/logout/", SignOutView.as_view(), name="logout"),
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(
            form_class=ThrottledPasswordResetForm,
            # The mail names the portal by SITE_URL, never by the request's Host header.
            extra_email_context={"site_url": lazy(lambda: settings.SITE_URL, str)()},
        ),
        name="password_reset",
    ),
    path(
        "accounts/password_reset/done/",
        PasswordResetSentView.as_view(),
        name="password_reset_done",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("accounts.urls")),
    path("", include("orgs.invitations.urls")),
    path("", include("policies.urls")),
    path("", include("signin.urls")),
    path("", include("activity.urls")),
    path("", include("identity.urls")),
    path("orgs/", include("orgs.urls")),
]
