from django.conf import settings

from identity.selectors import configured_providers


def single_sign_on(request):
    """The identity providers (a button each on the sign-in page: read only by a template that
    shows them) and whether passwords are turned off (``SSO_ONLY``)."""
    return {"sso_providers": configured_providers, "sso_only": settings.SSO_ONLY}
