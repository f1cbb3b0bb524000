from django.conf import settings


def single_sign_on(request):
    """The configured identity providers (a button each on the sign-in page) and whether
    passwords are turned off (``SSO_ONLY``)."""
    return {"sso_providers": settings.OIDC_PROVIDERS, "sso_only": settings.SSO_ONLY}
