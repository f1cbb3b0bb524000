from django.urls import path

from orgs import views
from orgs.invitations import views as invitation_views

app_name = "orgs"

urlpatterns = [
    path("", views.OrganizationListView.as_view(), name="list"),
    path("<str:org>/", views.OrganizationDetailView.as_view(), name="detail"),
    path(
        "<str:org>/members/<str:username>/remove/",
        views.MemberRemoveView.as_view(),
        name="member_remove",
    ),
    path("<str:org>/leave/", views.LeaveView.as_view(), name="leave"),
    path(
        "<str:org>/invitations/",
        invitation_views.OrganizationInvitationsView.as_view(),
        name="invitations",
    ),
    path(
        "<str:org>/invitations/<int:pk>/revoke/",
        invitation_views.InvitationRevokeView.as_view(),
        name="invitation_revoke",
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
