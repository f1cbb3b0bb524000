from django.urls import path

from policies import signin_views, views

app_name = "policies"

ORG = "orgs/<org:org>/settings"
PERMISSIONS = f"{ORG}/permissions"

urlpatterns = [
    path(f"{PERMISSIONS}/", views.PermissionsView.as_view(), name="permissions"),
    path(
        f"{PERMISSIONS}/preview/",
        views.PermissionsPreviewView.as_view(),
        name="permissions_preview",
    ),
    path(f"{PERMISSIONS}/allowlist/", views.AllowlistAddView.as_view(), name="allowlist_add"),
    path(
        f"{PERMISSIONS}/allowlist/<int:pk>/remove/",
        views.AllowlistRemoveView.as_view(),
        name="allowlist_remove",
    ),
    path(f"{PERMISSIONS}/teams/<team:team>/", views.TeamGrantView.as_view(), name="team_grant"),
    path(
        f"{PERMISSIONS}/exceptions/",
        views.ExceptionCreateView.as_view(),
        name="exception_create",
    ),
    path(
        f"{PERMISSIONS}/exceptions/<int:pk>/",
        views.ExceptionApproveView.as_view(),
        name="exception_review",
    ),
    path(
        f"{PERMISSIONS}/exceptions/<int:pk>/decline/",
        views.ExceptionDeclineView.as_view(),
        name="exception_decline",
    ),
    path(
        "settings/exception-requests/",
        views.MyExceptionRequestsView.as_view(),
        name="my_requests",
    ),
    path(f"{ORG}/sign-in/", signin_views.SignInView.as_view(), name="sign_in"),
    path(
        f"{ORG}/sign-in/registry.json",
        signin_views.SignInDownloadView.as_view(kind="registry.json"),
        name="sign_in_registry_json",
    ),
    path(
        f"{ORG}/sign-in/docker-desktop-allowed-orgs.reg",
        signin_views.SignInDownloadView.as_view(kind="reg"),
        name="sign_in_reg",
    ),
    path(
        f"{ORG}/sign-in/docker.mobileconfig",
        signin_views.SignInDownloadView.as_view(kind="mobileconfig"),
        name="sign_in_mobileconfig",
    ),
]
