"""The API's errors: always JSON, ``{"detail": "..."}``, and for invalid input also
``"fields"``, one precise message per field (``{"restricted_images.enabled": "This field is
required."}``). The Docker Hub-compatible views add ``"text"`` (Docker's ``ValueError``
schema) with the same sentence as ``detail``.

Services refuse with Django's ``ValidationError``; :func:`refused` turns one into the API's
answer (a field named as the API names it, and the status its code calls for).
"""

from collections.abc import Mapping

from django.core.exceptions import SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from core.middleware import API_PATHS, SCIM_PATHS, scim_error

# What a service's refusal code means over HTTP; any other refusal is invalid input (400).
STATUS_OF_CODE = {
    "missing": status.HTTP_404_NOT_FOUND,
    "decided": status.HTTP_409_CONFLICT,
    "duplicate": status.HTTP_409_CONFLICT,
    "stale": status.HTTP_412_PRECONDITION_FAILED,
}
NON_FIELD = "non_field_errors"


class Refused(exceptions.APIException):
    """A refusal with any status and ``{"detail"}`` or ``{"detail", "fields"}``."""

    def __init__(self, status_code: int, detail: str, fields: dict[str, str] | None = None):
        super().__init__(detail)
        self.status_code = status_code
        self.fields = fields or {}


def flat_fields(detail, prefix: str = "") -> dict[str, str]:
    """Django REST framework's nested error detail as ``{"a.b.0": "messages"}``; non-field
    errors under ``""``."""
    if isinstance(detail, Mapping):
        fields: dict[str, str] = {}
        for key, value in detail.items():
            name = "" if key == NON_FIELD else f"{prefix}{key}"
            fields.update(flat_fields(value, f"{name}." if name else prefix))
        return fields
    if isinstance(detail, list) and all(isinstance(item, str) for item in detail):
        return {prefix.removesuffix("."): " ".join(str(item) for item in detail)}
    if isinstance(detail, list):
        fields = {}
        for index, item in enumerate(detail):
            fields.update(flat_fields(item, f"{prefix}{index}."))
        return fields
    return {prefix.removesuffix("."): str(detail)}


def _invalid(fields: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The summary sentence and the per-field messages of invalid input."""
    general = fields.pop("", None)
    parts = [general] if general else []
    if fields:
        parts = [
            "Invalid input.",
            *parts,
            *(f"{name}: {message}" for name, message in fields.items()),
        ]
    return " ".join(parts), fields


def refused(error: DjangoValidationError, *, rename: Mapping[str, str] | None = None) -> Refused:
    """A service's ``ValidationError`` as the API's refusal: its fields renamed by ``rename``
    (the service's name -> the API's), its status from its code (:data:`STATUS_OF_CODE`)."""
    rename = rename or {}
    if hasattr(error, "error_dict"):
        errors = [e for field_errors in error.error_dict.values() for e in field_errors]
        fields = {
            rename.get(name, name) if name != "__all__" else "": " ".join(messages)
            for name, messages in error.message_dict.items()
        }
    else:
        errors, fields = error.error_list, {"": " ".join(error.messages)}
    statuses = [STATUS_OF_CODE[e.code] for e in errors if e.code in STATUS_OF_CODE]
    detail, fields = _invalid(fields)
    return Refused(statuses[0] if statuses else 400, detail, fields)


def exception_handler(exc, context):
    """Django REST framework's handler, with the portal's error bodies. A request Django
    refuses as suspicious while the view reads it (a body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``) is a JSON 400 too; anything else unexpected goes on to
    Django (which logs it) and :func:`server_error` answers it in JSON."""
    if isinstance(exc, DjangoValidationError):
        exc = refused(exc)
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError(f"The request was refused: {exc}")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail, fields = _invalid(flat_fields(exc.detail))
    elif isinstance(exc, Refused):
        detail, fields = str(exc.detail), exc.fields
    else:
        detail, fields = str(getattr(exc, "detail", exc)), {}
    body = {"detail": detail}
    if fields:
        body["fields"] = fields
    view = context.get("view")
    if response.status_code == 400 and getattr(view, "docker_hub", False):
        body["text"] = detail  # Docker Hub's ValueError: {"text", "fields"}
    response.data = body
    return response


def bad_request(request, exception):
    """``handler400``: a request Django refused outside an API view's handling (a suspicious
    one); JSON on the API's paths, SCIM's error on ``/scim/``, Django's 400 page elsewhere."""
    if request.path.startswith(API_PATHS):
        return JsonResponse({"detail": "Bad request."}, status=400)
    if request.path.startswith(SCIM_PATHS):
        return scim_error(400, "Bad request.")
    return defaults.bad_request(request, exception)


def server_error(request):
    """``handler500``: a server error (logged by Django with its traceback); JSON on the
    API's paths, SCIM's error on ``/scim/``, Django's 500 page elsewhere."""
    if request.path.startswith(API_PATHS):
        return JsonResponse({"detail": "Server error: the portal could not answer."}, status=500)
    if request.path.startswith(SCIM_PATHS):
        return scim_error(500, "Server error: the portal could not answer.")
    return defaults.server_error(request)


@csrf_exempt  # it changes nothing, whatever the method
def not_found(request, *args, **kwargs):
    """Any other URL under ``/api/`` or ``/v2/``: a JSON 404, like the API's own."""
    return JsonResponse({"detail": "Not found: no such API endpoint."}, status=404)
