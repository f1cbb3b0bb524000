"""Writes for a person's own account: their name and e-mail address."""

from django.contrib.auth.base_user import BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

NAME_MAX_LENGTH = 150


@transaction.atomic
def user_profile_update(*, user, first_name: str, last_name: str, email: str):
    """Set ``user``'s name and e-mail address (empty clears it); returns the user.

    The address is where password-reset links and invitation e-mails go, so a view must have
    the person confirm their password before changing it (see ``accounts.forms.ProfileForm``).
    """
    first_name, last_name, email = (value.strip() for value in (first_name, last_name, email))
    errors = {}
    for field, value in (("first_name", first_name), ("last_name", last_name)):
        if len(value) > NAME_MAX_LENGTH:
            errors[field] = f"At most {NAME_MAX_LENGTH} characters."
    if email:
        email = BaseUserManager.normalize_email(email)
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = "Enter a valid e-mail address, e.g. mike@example.com."
    if errors:
        raise ValidationError(errors)
    user.first_name, user.last_name, user.email = first_name, last_name, email
    user.save(update_fields=["first_name", "last_name", "email"])
    return user
