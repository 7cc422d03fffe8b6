"""JSON parsing that turns pathological input into a 400 (or a 413), never a 500.

Depth is capped by ``fmgov.core.jsonlimits`` (the one helper for all user JSON);
the body's size is checked from ``Content-Length`` before a byte is read.
"""

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

from fmgov.core.jsonlimits import MAX_JSON_DEPTH, JSONTooDeep, check_json_depth
from fmgov.core.uploads import ensure_body_size

__all__ = ["MAX_JSON_DEPTH", "SafeFormParser", "SafeJSONParser", "SafeMultiPartParser"]


def _check_size(parser_context: dict | None) -> None:
    """413 when the declared body is over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` or the view's ``max_body_bytes``."""
    context = parser_context or {}
    request, view = context.get("request"), context.get("view")
    if request is not None:
        limit = max(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0, getattr(view, "max_body_bytes", None) or 0)
        ensure_body_size(request, max_bytes=limit or None, field="non_field_errors")


class SafeMultiPartParser(MultiPartParser):
    """DRF's multipart parser, refusing by size first: Django does not count files and would spool them to disk."""

    def parse(self, stream, media_type=None, parser_context=None):
        _check_size(parser_context)
        return super().parse(stream, media_type, parser_context)


class SafeFormParser(FormParser):
    """DRF's form parser with the same size cap."""

    def parse(self, stream, media_type=None, parser_context=None):
        _check_size(parser_context)
        return super().parse(stream, media_type, parser_context)


class SafeJSONParser(JSONParser):
    """DRF's JSON parser with a body-size cap and a depth cap.

    The size cap is ``DATA_UPLOAD_MAX_MEMORY_SIZE`` unless the view allows more
    (``max_body_bytes`` on the view, e.g. an upload action).
    """

    def parse(self, stream, media_type=None, parser_context=None):
        _check_size(parser_context)
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.") from None
        try:
            return check_json_depth(data)
        except JSONTooDeep:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.") from None
