"""Turns domain exceptions and Django validation errors into API responses.

400 carries a message per field (``{"field": ["message"]}``) plus ``detail``;
403 and 409 carry ``detail`` with a sentence a person understands.
"""

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from fmgov.core.api.files import is_file_renderer
from fmgov.core.exceptions import DomainError


def exception_handler(exc, context):
    request = context.get("request")
    if request is not None and (
        getattr(request, "accepted_renderer", None) is None or is_file_renderer(request.accepted_renderer)
    ):
        # An error at a file endpoint (or before negotiation, e.g. a 406) is JSON, never a PDF.
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
    if isinstance(exc, DomainError):
        body = {"detail": exc.message}
        body.update(exc.field_errors)
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            exc = ValidationError(exc.message_dict)
        else:
            exc = ValidationError({"detail": exc.messages})
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": "The request body is larger than this server accepts."},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, DataError):  # the database refused a value (e.g. an impossible UTC offset)
        return Response(
            {"detail": "A value in the request is out of range for the database."},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, OverflowError):  # an id or number beyond what the database stores
        return Response({"detail": "A number in the request is out of range."}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
