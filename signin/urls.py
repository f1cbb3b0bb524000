from django.urls import path

from signin import views

app_name = "signin"

SIGN_IN = "orgs/<org:org>/settings/sign-in"

urlpatterns = [
    path(f"{SIGN_IN}/", views.SignInView.as_view(), name="sign_in"),
    path(
        f"{SIGN_IN}/registry.json",
        views.SignInDownloadView.as_view(kind="registry.json"),
        name="sign_in_registry_json",
    ),
    path(
        f"{SIGN_IN}/docker-desktop-allowed-orgs.reg",
        views.SignInDownloadView.as_view(kind="reg"),
        name="sign_in_reg",
    ),
    path(
        f"{SIGN_IN}/docker.mobileconfig",
        views.SignInDownloadView.as_view(kind="mobileconfig"),
        name="sign_in_mobileconfig",
    ),
]
