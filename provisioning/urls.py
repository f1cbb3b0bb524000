from django.urls import path

from provisioning import views

app_name = "provisioning"

urlpatterns = [
    path("scim/v2/<path:path>", views.ScimView.as_view(), name="scim"),
    path(
        "orgs/<org:org>/settings/provisioning/",
        views.ProvisioningView.as_view(),
        name="organization",
    ),
    path(
        "orgs/<org:org>/settings/provisioning/tokens/<int:pk>/revoke/",
        views.ScimTokenRevokeView.as_view(),
        name="token_revoke",
    ),
]
