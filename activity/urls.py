from django.urls import path

from activity import views

app_name = "activity"

urlpatterns = [
    path("orgs/<org:org>/activity/", views.OrganizationActivityView.as_view(), name="activity"),
    path(
        "orgs/<org:org>/activity.csv",
        views.OrganizationActivityCsvView.as_view(),
        name="activity_csv",
    ),
    path("settings/activity/", views.MyActivityView.as_view(), name="my_activity"),
]
