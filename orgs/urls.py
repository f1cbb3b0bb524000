from django.urls import path

from orgs import views

app_name = "orgs"

urlpatterns = [
    path("", views.OrganizationListView.as_view(), name="list"),
    path("<str:org>/", views.OrganizationDetailView.as_view(), name="detail"),
    path(
        "<str:org>/members/<str:username>/remove/",
        views.MemberRemoveView.as_view(),
        name="member_remove",
    ),
    path("<str:org>/teams/", views.TeamListView.as_view(), name="teams"),
    path("<str:org>/teams/<str:team>/", views.TeamDetailView.as_view(), name="team"),
    path(
        "<str:org>/teams/<str:team>/members/<str:username>/remove/",
        views.TeamMemberRemoveView.as_view(),
        name="team_member_remove",
    ),
    path("<str:org>/settings/", views.SettingsView.as_view(), name="settings"),
]
