"""Reads cached under the audit chain's head: a governance read answered again without recomputing it.

Every governance write appends an audit event in the same transaction as the write, so the chain's head
(sequence number and hash) moves with every change a governance read can show. An answer computed while
the head reads (seq, hash) stays true until the head moves; a rolled-back event's sequence number comes
back with another hash. The head is read before the answer is computed, so a write committed in between
only makes the cached answer newer than its key, never older.

Only what is computed from audited models alone may be cached this way: a row written without a service
(fixtures, a bulk load, an insider's UPDATE) does not move the head. Nothing is cached on an empty trail
(sequence 0), which such rows could share.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.utils import timezone, translation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from audits.selectors import chain_head

__all__ = ["by_trail_head", "CachedReadsMixin"]

# Bounds how long an entry nobody reads stays in the cache; a cached answer is only ever read back under the
# head it was computed at.
VALUE_CACHE_SECONDS = 24 * 3600
_PROJECT_ROOT = Path(__file__).resolve().parent.parent
_PROJECT_PACKAGES = ("fmgov", "audits", "reports")


@functools.cache
def code_digest() -> str:
    """A digest of the project's Python source: a shared cache never answers with what older code rendered."""
    digest = hashlib.sha256()
    for package in _PROJECT_PACKAGES:
        for path in sorted((_PROJECT_ROOT / package).rglob("*.py")):
            if "tests" not in path.parts:
                digest.update(str(path.relative_to(_PROJECT_ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _key(kind: str, head: tuple[int, str], parts: tuple[object, ...]) -> str:
    text = "\0".join(str(part) for part in (connection.settings_dict["NAME"], code_digest(), *head, *parts))
    return f"trail-head:{kind}:{hashlib.sha256(text.encode()).hexdigest()}"


def by_trail_head(name: str, head: tuple[int, str], compute: Callable[[], Any], *extra: object) -> Any:
    """``compute()``, cached under ``head`` (read by the caller before anything ``compute`` reads) and ``extra``."""
    if not head[0]:
        return compute()
    key = _key("value", head, (name, *extra))
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, VALUE_CACHE_SECONDS)
    return value


class CachedReadsMixin:
    """A viewset's JSON list and detail answers cached per user under the trail head (issue 18's load goal).

    For viewsets whose answers are computed from audited models alone. The key holds everything else the
    answer depends on: the user (their roles, ``?awaiting=me``), the whole path with its query, the host and
    scheme (pagination links are absolute), the media type, the language and the time zone. Authentication,
    permissions and throttles run before (DRF's ``initial``), so a revoked token or a lost role is refused as
    before. ``API_READ_CACHE_SECONDS = 0`` turns it off.
    """

    def list(self, request, *args, **kwargs):
        return self._cached_answer(request, super().list, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        return self._cached_answer(request, super().retrieve, *args, **kwargs)

    def _cached_answer(self, request, compute: Callable[..., Any], *args, **kwargs):
        seconds = settings.API_READ_CACHE_SECONDS
        if (
            not seconds
            or request.method != "GET"
            or not request.user.is_authenticated
            or not isinstance(request.accepted_renderer, JSONRenderer)
        ):
            return compute(request, *args, **kwargs)
        head = chain_head()  # before anything the answer reads
        if not head[0]:
            return compute(request, *args, **kwargs)
        parts = (
            type(self).__module__,
            type(self).__qualname__,
            self.action,
            request.user.pk,
            request.build_absolute_uri(),
            request.accepted_media_type,
            translation.get_language(),
            timezone.get_current_timezone_name(),
        )
        key = _key("answer", head, parts)
        hit = cache.get(key)
        if hit is not None:
            content, content_type = hit
            return HttpResponse(content, content_type=content_type)
        response = compute(request, *args, **kwargs)
        if isinstance(response, Response) and response.status_code == 200:
            response.accepted_renderer = request.accepted_renderer
            response.accepted_media_type = request.accepted_media_type
            response.renderer_context = self.get_renderer_context()
            response.render()
            cache.set(key, (response.content, response["Content-Type"]), seconds)
        return response
