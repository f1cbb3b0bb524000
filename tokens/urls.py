from django.urls import path

from tokens import views

app_name = "tokens"

urlpatterns = [
    path("", views.AccessTokenListView.as_view(), name="list"),
    path("<int:pk>/revoke/", views.AccessTokenRevokeView.as_view(), name="revoke"),
]
