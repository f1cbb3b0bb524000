"""The invitee's invitation pages and sign-up (owners' invitation pages are in orgs.urls)."""

from django.urls import path

from orgs.invitations import views

app_name = "invitations"

urlpatterns = [
    path("invitations/", views.MyInvitationsView.as_view(), name="list"),
    path(
        "invitations/<int:pk>/accept/",
        views.InvitationAnswerView.as_view(answer="accept"),
        name="accept",
    ),
    path(
        "invitations/<int:pk>/decline/",
        views.InvitationAnswerView.as_view(answer="decline"),
        name="decline",
    ),
    path("invite/<str:token>/", views.InvitationLinkView.as_view(), name="open"),
    path("accounts/signup/", views.SignUpView.as_view(), name="signup"),
]
