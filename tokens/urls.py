from django.urls import path

from tokens import endpoint, views

app_name = "tokens"

urlpatterns = [
    path("auth/token", endpoint.registry_token, name="registry"),
    path("settings/tokens/", views.AccessTokenListView.as_view(), name="list"),
    path("settings/tokens/<int:pk>/revoke/", views.AccessTokenRevokeView.as_view(), name="revoke"),
    path("settings/tokens/<int:pk>/delete/", views.AccessTokenDeleteView.as_view(), name="delete"),
    path(
        "settings/tokens/delete-inactive/",
        views.InactiveTokensDeleteView.as_view(),
        name="delete_inactive",
    ),
    path(
        "settings/tokens/sessions/<int:pk>/revoke/",
        views.RegistrySessionRevokeView.as_view(),
        name="session_revoke",
    ),
    path(
        "orgs/<org:org>/settings/tokens/",
        views.OrganizationTokensView.as_view(),
        name="organization",
    ),
    path(
        "orgs/<org:org>/settings/tokens/<int:pk>/revoke/",
        views.OrganizationTokenRevokeView.as_view(),
        name="organization_revoke",
    ),
    path(
        "orgs/<org:org>/settings/tokens/rules/",
        views.TokenPolicyView.as_view(),
        name="policy",
    ),
    path(
        "orgs/<org:org>/settings/member-tokens/",
        views.MemberTokensView.as_view(),
        name="member_tokens",
    ),
    path(
        "orgs/<org:org>/settings/member-tokens/<int:pk>/revoke/",
        views.MemberTokenRevokeView.as_view(),
        name="member_revoke",
    ),
]
