from django.urls import path, re_path

from provisioning import views

app_name = "provisioning"

urlpatterns = [
    re_path(r"^scim/v2/?(?P<path>.*)$", views.ScimView.as_view(), name="scim"),
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
