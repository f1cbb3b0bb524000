from django.urls import include, path

from policies import views

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
    path(f"{PERMISSIONS}/allowlist/", views.AllowlistView.as_view(), name="allowlist"),
    path(
        f"{PERMISSIONS}/allowlist/<int:pk>/remove/",
        views.AllowlistRemoveView.as_view(),
        name="allowlist_remove",
    ),
    path(f"{PERMISSIONS}/teams/", views.TeamGrantsView.as_view(), name="grants"),
    path(
        f"{PERMISSIONS}/teams/<team:team>/",
        views.TeamGrantRedirectView.as_view(),
        name="team_grant",
    ),
    path(f"{PERMISSIONS}/requests/", views.RequestsView.as_view(), name="requests"),
    path(f"{PERMISSIONS}/history/", views.HistoryView.as_view(), name="history"),
    path("", include("policies.exceptions.urls")),
]
