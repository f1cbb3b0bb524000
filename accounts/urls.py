from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("settings/profile/", views.ProfileView.as_view(), name="profile"),
]
