from django.urls import path

from orgs import views
from orgs.invitations import views as invitation_views

app_name = "orgs"

urlpatterns = [
    path("", views.OrganizationListView.as_view(), name="list"),
    path("<org:org>/", views.OrganizationDetailView.as_view(), name="detail"),
    path(
        "<org:org>/members/<username:username>/remove/",
        views.MemberRemoveView.as_view(),
        name="member_remove",
    ),
    path("<org:org>/leave/", views.LeaveView.as_view(), name="leave"),
    path(
        "<org:org>/next-steps/dismiss/",
        views.NextStepsDismissView.as_view(),
        name="next_steps_dismiss",
    ),
    path(
        "<org:org>/invitations/",
        invitation_views.OrganizationInvitationsView.as_view(),
        name="invitations",
    ),
    path(
        "<org:org>/invitations/<int:pk>/revoke/",
        invitation_views.InvitationRevokeView.as_view(),
        name="invitation_revoke",
    ),
    path("<org:org>/teams/", views.TeamListView.as_view(), name="teams"),
    path("<org:org>/teams/<team:team>/", views.TeamDetailView.as_view(), name="team"),
    path("<org:org>/teams/<team:team>/edit/", views.TeamEditView.as_view(), name="team_edit"),
    path("<org:org>/teams/<team:team>/delete/", views.TeamDeleteView.as_view(), name="team_delete"),
    path(
        "<org:org>/teams/<team:team>/members/<username:username>/remove/",
        views.TeamMemberRemoveView.as_view(),
        name="team_member_remove",
    ),
    path("<org:org>/settings/", views.SettingsView.as_view(), name="settings"),
]
