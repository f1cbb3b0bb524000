"""Exception request URLs, included in :mod:`policies.urls` (names ``policies:exception_*`` and
``policies:my_requests``)."""

from django.urls import path

from policies.exceptions import views

PERMISSIONS = "orgs/<org:org>/settings/permissions"

urlpatterns = [
    path(
        f"{PERMISSIONS}/exceptions/",
        views.ExceptionCreateView.as_view(),
        name="exception_create",
    ),
    path(
        f"{PERMISSIONS}/exceptions/<int:pk>/",
        views.ExceptionApproveView.as_view(),
        name="exception_review",
    ),
    path(
        f"{PERMISSIONS}/exceptions/<int:pk>/decline/",
        views.ExceptionDeclineView.as_view(),
        name="exception_decline",
    ),
    path(
        "settings/exception-requests/",
        views.MyExceptionRequestsView.as_view(),
        name="my_requests",
    ),
]
