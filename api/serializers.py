"""Building blocks of the API's serializers: nothing is guessed or silently dropped."""

from collections.abc import Mapping

from rest_framework import serializers


def valid_data(serializer_class, data, **context) -> dict:
    """``data`` (a request's body or query) validated by ``serializer_class`` with ``context``;
    invalid input raises the 400 with a message per field."""
    serializer = serializer_class(data=data, context=context)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class StrictSerializer(serializers.Serializer):
    """A serializer that refuses fields it does not know (``"Unknown field."``), together
    with any other errors in the same body."""

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, Mapping) else []
        errors = {str(name)[:100]: ["Unknown field."] for name in unknown[:20]}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if isinstance(error.detail, Mapping):
                errors = {**error.detail, **errors}
            else:
                raise
        if errors:
            raise serializers.ValidationError(errors)
        return value


class StrictCharField(serializers.CharField):
    """A JSON string, nothing else (Django REST framework's also turns numbers into strings).
    NUL and lone surrogates are refused, as by any ``CharField``."""

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean, nothing else (Django REST framework's also takes "yes", 1, "on")."""

    default_error_messages = {"invalid": "Must be true or false (a JSON boolean)."}

    def to_internal_value(self, data):
        if data is True or data is False:
            return data
        self.fail("invalid")


def settings_serializer(name: str, model, fields: tuple[str, ...], doc: str):
    """A serializer of boolean settings: one required :class:`StrictBooleanField` per name of
    ``fields``, described by the model field's verbose name and help text. The API follows the
    model: a new setting appears in it without being named here."""
    attrs = {"__doc__": doc, "__module__": __name__}
    for field in fields:
        model_field = model._meta.get_field(field)
        help_text = str(model_field.verbose_name)
        if model_field.help_text:
            help_text += f": {model_field.help_text}"
        attrs[field] = StrictBooleanField(help_text=help_text)
    return type(name, (StrictSerializer,), attrs)
