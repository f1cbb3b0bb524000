from django.urls import path

from identity import views

app_name = "identity"

urlpatterns = [
    path("sso/<slug:provider_id>/login/", views.SsoLoginView.as_view(), name="login"),
    path("sso/<slug:provider_id>/callback/", views.SsoCallbackView.as_view(), name="callback"),
    path("orgs/<org:org>/sso/", views.OrganizationSsoView.as_view(), name="organization"),
    path("orgs/<org:org>/sso/require/", views.RequireSsoView.as_view(), name="require"),
    path(
        "orgs/<org:org>/sso/mappings/add/",
        views.GroupMappingAddView.as_view(),
        name="mapping_add",
    ),
    path(
        "orgs/<org:org>/sso/mappings/<int:pk>/delete/",
        views.GroupMappingDeleteView.as_view(),
        name="mapping_delete",
    ),
]
