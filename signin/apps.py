from django.apps import AppConfig


class SignInConfig(AppConfig):
    name = "signin"
    verbose_name = "Docker Desktop sign-in enforcement"
