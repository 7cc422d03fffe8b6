"""What a file is, read from its bytes (never from the name or the type the client claims).

A small allow-list: the kinds of document evidence comes in (PDF, office documents, images, archives of
evaluation exports, JSON and plain text). Anything else, executables and HTML above all (a page served from
fmgov's origin could script it), is refused with what was detected.
"""

from __future__ import annotations

import codecs
import json
import zipfile
from typing import IO

__all__ = ["ACCEPTED", "RefusedType", "detect_type"]

#: Detected type -> what a person calls it (for messages and the API's description).
ACCEPTED: dict[str, str] = {
    "application/pdf": "PDF",
    "image/png": "PNG image",
    "image/jpeg": "JPEG image",
    "image/gif": "GIF image",
    "image/webp": "WebP image",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel workbook",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PowerPoint presentation",
    "application/vnd.oasis.opendocument.text": "OpenDocument text",
    "application/vnd.oasis.opendocument.spreadsheet": "OpenDocument spreadsheet",
    "application/zip": "ZIP archive",
    "application/gzip": "gzip archive",
    "application/json": "JSON",
    "text/plain": "plain text (CSV, Markdown, logs)",
}

_HEAD = 8192
_REFUSED_MAGIC = [
    (b"\x7fELF", "an ELF executable"),
    (b"MZ", "a Windows executable"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O executable"),
    (b"\xca\xfe\xba\xbe", "a Mach-O or Java class file"),
    (b"#!", "a script"),
]
_OOXML = {
    "word/document.xml": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/workbook.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/presentation.xml": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_ODF = {"application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet"}
_MARKUP = (b"<!doctype html", b"<html", b"<svg", b"<?xml", b"<script", b"<head", b"<body", b"<iframe")


class RefusedType(ValueError):
    """The bytes are not one of the accepted kinds; ``str()`` says what they look like."""


def _zip_type(fh: IO[bytes]) -> str:
    """An office document by its parts (the central directory only; nothing is decompressed but ``mimetype``)."""
    fh.seek(0)
    try:
        with zipfile.ZipFile(fh) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" in names:
                for part, kind in _OOXML.items():
                    if part in names:
                        return kind
            if "mimetype" in names and archive.getinfo("mimetype").file_size < 100:
                declared = archive.read("mimetype").decode("ascii", "replace").strip()
                if declared in _ODF:
                    return declared
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, NotImplementedError):
        raise RefusedType("a damaged ZIP archive") from None
    return "application/zip"


def _text_type(fh: IO[bytes], head: bytes, size: int) -> str:
    if b"\x00" in head:
        raise RefusedType("binary data of an unknown kind")
    try:
        # A multi-byte character cut at the end of the head is still text: not final unless the head is all.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=size <= _HEAD)
    except UnicodeDecodeError:
        raise RefusedType("binary data or text that is not UTF-8") from None
    if head.lstrip().lower().startswith(_MARKUP):
        raise RefusedType("HTML, SVG or XML markup")
    if head.lstrip()[:1] in (b"{", b"[") and size <= 32 * 1024 * 1024:
        fh.seek(0)
        try:
            json.loads(fh.read().decode("utf-8"))
            return "application/json"
        except (ValueError, UnicodeDecodeError):
            pass
    return "text/plain"


def detect_type(fh: IO[bytes], size: int) -> str:
    """The accepted type of the open, seekable file ``fh`` (``size`` bytes), or ``RefusedType``."""
    fh.seek(0)
    head = fh.read(_HEAD)
    if not head:
        raise RefusedType("an empty file")
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"\x1f\x8b"):
        return "application/gzip"
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(
            fh,
        )
    for magic, what in _REFUSED_MAGIC:
        if head.startswith(magic):
            raise RefusedType(what)
    return _text_type(fh, head, size)
