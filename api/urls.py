"""The API: Docker Hub-compatible endpoints under ``/v2/``, the portal's own under
``/api/v1/``, the OpenAPI schema and its docs. Any other URL under ``/api/`` or ``/v2/`` is a
JSON 404."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api import errors, hub
from api.v1 import activity, allowlist, check, exceptions, orgs, settings, tokens

app_name = "api"

ORG = "api/v1/orgs/<org:org>"
REQUEST = f"{ORG}/exception-requests/<int:pk>"

urlpatterns = [
    path("v2/auth/token", hub.AuthTokenView.as_view(), name="hub_auth_token"),
    path("v2/orgs/<org:name>/settings", hub.OrgSettingsView.as_view(), name="hub_org_settings"),
    path("v2/access-tokens", hub.AccessTokensView.as_view(), name="hub_access_tokens"),
    path("v2/access-tokens/<uuid:uuid>", hub.AccessTokenView.as_view(), name="hub_access_token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("api/v1/user", orgs.UserView.as_view(), name="user"),
    path("api/v1/user/activity", activity.MyActivityView.as_view(), name="my_activity"),
    path("api/v1/check", check.CheckView.as_view(), name="check"),
    path("api/v1/orgs", orgs.OrganizationListView.as_view(), name="orgs"),
    path(ORG, orgs.OrganizationDetailView.as_view(), name="org"),
    path(f"{ORG}/members", orgs.MemberListView.as_view(), name="members"),
    path(f"{ORG}/teams", orgs.TeamListView.as_view(), name="teams"),
    path(f"{ORG}/teams/<team:team>/grant", settings.TeamGrantView.as_view(), name="team_grant"),
    path(f"{ORG}/settings", settings.SettingsView.as_view(), name="settings"),
    path(f"{ORG}/settings/history", settings.HistoryView.as_view(), name="history"),
    path(f"{ORG}/activity", activity.OrganizationActivityView.as_view(), name="activity"),
    path(f"{ORG}/allowlist", allowlist.AllowlistView.as_view(), name="allowlist"),
    path(f"{ORG}/allowlist/<int:pk>", allowlist.AllowlistEntryView.as_view(), name="entry"),
    path(
        f"{ORG}/exception-requests",
        exceptions.OrganizationRequestsView.as_view(),
        name="org_exception_requests",
    ),
    path(REQUEST, exceptions.RequestView.as_view(), name="exception_request"),
    path(f"{REQUEST}/approve", exceptions.ApproveView.as_view(), name="exception_approve"),
    path(f"{REQUEST}/decline", exceptions.DeclineView.as_view(), name="exception_decline"),
    path("api/v1/exception-requests", exceptions.MyRequestsView.as_view(), name="my_requests"),
    path(f"{ORG}/tokens", tokens.OrganizationTokensView.as_view(), name="org_tokens"),
    path(f"{ORG}/tokens/<uuid:uuid>", tokens.OrganizationTokenView.as_view(), name="org_token"),
    path(f"{ORG}/member-tokens", tokens.MemberTokensView.as_view(), name="member_tokens"),
    path(
        f"{ORG}/member-tokens/<uuid:uuid>",
        tokens.MemberTokenView.as_view(),
        name="member_token",
    ),
    re_path(r"^(?:api|v2)/", errors.not_found),
]
