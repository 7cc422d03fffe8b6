"""File endpoints and content negotiation: one way for every API view that answers with a file.

A file action declares the one media type it serves with ``file_action(PDFRenderer, ...)``.
DRF's negotiation then does the rest: ``Accept`` naming that type (or ``*/*``, or no
``Accept`` at all) gets the file; any other ``Accept`` gets 406 with a sentence naming the
type to ask for. The view streams the file itself (``FileResponse``); the renderer only
stands for its media type in the negotiation and in the schema. Errors at a file endpoint
are JSON (see ``fmgov.core.api.exceptions``), since no error is a PDF.
"""

from collections.abc import Callable
from typing import Any

from rest_framework.decorators import action
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer

__all__ = [
    "FileNegotiation",
    "FileRenderer",
    "JSONLinesRenderer",
    "MarkdownRenderer",
    "PDFRenderer",
    "file_action",
    "is_file_renderer",
]


class FileRenderer(BaseRenderer):
    """A file's media type in DRF's negotiation; passes through bytes the view already has."""

    charset = None

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: dict | None = None) -> bytes:
        if isinstance(data, bytes):
            return data
        if isinstance(data, str):
            return data.encode(self.charset or "utf-8")
        raise TypeError(f"{type(self).__name__} renders a file's bytes, not {type(data).__name__}.")


class PDFRenderer(FileRenderer):
    media_type = "application/pdf"
    format = "pdf"


class JSONLinesRenderer(FileRenderer):
    """JSON Lines (https://jsonlines.org): one canonical JSON document per line."""

    media_type = "application/jsonl"
    format = "jsonl"
    charset = "utf-8"


class MarkdownRenderer(FileRenderer):
    media_type = "text/markdown"
    format = "md"
    charset = "utf-8"


class FileNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, with a 406 that tells the client which media type to ask for."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable as exc:
            served = ", ".join(renderer.media_type for renderer in renderers)
            asked = request.headers.get("Accept", "")
            raise NotAcceptable(
                f"This endpoint serves {served}; the Accept header ({asked}) does not allow it. "
                f"Send Accept: {renderers[0].media_type} or */*."
            ) from exc


def is_file_renderer(renderer: object) -> bool:
    """Whether a negotiated renderer stands for a file, so an error there must be answered in JSON."""
    return isinstance(renderer, FileRenderer)


def file_action(renderer: type[FileRenderer], **kwargs: Any) -> Callable:
    """``@action(detail=..., methods=["get"], ...)`` for an endpoint that answers with one kind of file."""
    kwargs.setdefault("methods", ["get"])
    return action(renderer_classes=[renderer], content_negotiation_class=FileNegotiation, **kwargs)
