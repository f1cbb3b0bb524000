from django.urls import path

from orgs import views

app_name = "orgs"

urlpatterns = [
    path("", views.OrganizationListView.as_view(), name="list"),
    path("<org:org>/", views.OrganizationDetailView.as_view(), name="detail"),
    path(
        "<org:org>/members/<username:username>/remove/",
        views.MemberRemoveView.as_view(),
        name="member_remove",
    ),
    path("<org:org>/teams/", views.TeamListView.as_view(), name="teams"),
    path("<org:org>/teams/<team:team>/", views.TeamDetailView.as_view(), name="team"),
    path(
        "<org:org>/teams/<team:team>/members/<username:username>/remove/",
        views.TeamMemberRemoveView.as_view(),
        name="team_member_remove",
    ),
    path("<org:org>/settings/", views.SettingsView.as_view(), name="settings"),
]
