from django.urls import path

from policies import signin_views, views

app_name = "policies"

urlpatterns = [
    path("<org:org>/settings/permissions/", views.PermissionsView.as_view(), name="permissions"),
    path("<org:org>/settings/sign-in/", signin_views.SignInView.as_view(), name="sign_in"),
    path(
        "<org:org>/settings/sign-in/registry.json",
        signin_views.SignInDownloadView.as_view(kind="registry.json"),
        name="sign_in_registry_json",
    ),
    path(
        "<org:org>/settings/sign-in/docker-desktop-allowed-orgs.reg",
        signin_views.SignInDownloadView.as_view(kind="reg"),
        name="sign_in_reg",
    ),
    path(
        "<org:org>/settings/sign-in/docker.mobileconfig",
        signin_views.SignInDownloadView.as_view(kind="mobileconfig"),
        name="sign_in_mobileconfig",
    ),
]
