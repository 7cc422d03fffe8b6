"""What a file is, read from its bytes (never from the name or the type the client claims).

A small allow-list: the kinds of document evidence comes in (PDF, office documents, images, archives of
evaluation exports, JSON and plain text). Anything else, executables and HTML above all (a page served from
fmgov's origin could script it), is refused with what was detected.
"""

from __future__ import annotations

import codecs
import json
import re
import zipfile
import zlib
from typing import IO

__all__ = ["ACCEPTED", "JSON_PARSE_MAX", "MAX_ZIP_ENTRIES", "RefusedType", "detect_type"]

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
#: What a browser sniffs as markup (WHATWG MIME Sniffing, 7.1 "identifying an unknown MIME type": after a byte
#: order mark and whitespace, one of these tags followed by a space or ``>``), plus SVG, XML and any doctype.
_MARKUP = re.compile(
    rb"(?:\xef\xbb\xbf|\xfe\xff|\xff\xfe)?[\t\n\x0c\r ]*"
    rb"(?:<!--|<\?xml|<!doctype|"
    rb"<(?:html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|svg)[ \t\n\x0c\r/>])",
    re.IGNORECASE,
)
#: An archive of more entries than this is refused from its directory's count, before it is parsed (a 25 MB ZIP of
#: 290,000 empty entries took 5 s and 166 MB to list).
MAX_ZIP_ENTRIES = 10_000
#: Text starting like JSON is parsed to confirm it up to this size; a larger file is judged by its ends (the type is
#: a label: every download is application/octet-stream), so a JSON upload never costs ten times its size in memory.
JSON_PARSE_MAX = 4 * 1024 * 1024
#: Members named like these are programs, whatever their bytes (Windows runs them by their extension).
_EXECUTABLE_SUFFIXES = (
    ".exe", ".dll", ".com", ".scr", ".msi", ".bat", ".cmd", ".ps1", ".vbs", ".vbe", ".js", ".jse", ".wsf",
    ".hta", ".jar", ".apk", ".app", ".sh", ".lnk", ".cpl", ".pif",
)  # fmt: skip


class RefusedType(ValueError):
    """The bytes are not one of the accepted kinds; ``str()`` says what they look like."""


def _executable(head: bytes) -> str | None:
    for magic, what in _REFUSED_MAGIC:
        if head.startswith(magic):
            return what
    return None


def _zip_entries(fh: IO[bytes]) -> int:
    """The entry count the end-of-central-directory record declares (ZIP64 included), read without listing."""
    fh.seek(0)
    try:
        end = zipfile._EndRecData(fh)  # the stdlib's own reader of that record (private, stable since 2.6)
    except OSError:
        end = None
    if not end:
        raise RefusedType("a damaged ZIP archive")
    return int(end[zipfile._ECD_ENTRIES_TOTAL])


def _zip_members_refused(archive: zipfile.ZipFile) -> None:
    """Refuse an archive carrying a program: by a member's name, or by the first bytes of its content (read through
    the decompressor a few bytes at a time, so a bomb is never expanded). An encrypted member (a password-protected
    DPIA) is judged by its name only: its bytes cannot be read without the password."""
    for info in archive.infolist():
        if info.is_dir():
            continue
        if info.filename.lower().endswith(_EXECUTABLE_SUFFIXES):
            raise RefusedType(f"a ZIP archive carrying a program ({info.filename})")
        if info.flag_bits & 0x1:
            continue
        with archive.open(info) as member:
            what = _executable(member.read(8))
        if what:
            raise RefusedType(f"a ZIP archive carrying {what} ({info.filename})")


def _zip_type(fh: IO[bytes]) -> str:
    """An office document by its parts, read from the central directory; no member is expanded beyond its head."""
    entries = _zip_entries(fh)
    if entries > MAX_ZIP_ENTRIES:
        raise RefusedType(f"a ZIP archive of {entries:,} entries (at most {MAX_ZIP_ENTRIES:,} are accepted)")
    fh.seek(0)
    try:
        with zipfile.ZipFile(fh) as archive:
            _zip_members_refused(archive)
            names = set(archive.namelist())
            if "[Content_Types].xml" in names:
                for part, kind in _OOXML.items():
                    if part in names:
                        return kind
            if "mimetype" in names and archive.getinfo("mimetype").file_size < 100:
                declared = archive.read("mimetype").decode("ascii", "replace").strip()
                if declared in _ODF:
                    return declared
    except RefusedType:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, NotImplementedError, EOFError, RuntimeError, zlib.error):
        raise RefusedType("a damaged or encrypted ZIP archive") from None
    return "application/zip"


def _gzip_type(head: bytes) -> str:
    """gzip, unless what it wraps starts as a program (the first bytes only are expanded)."""
    try:
        inner = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 8)
    except zlib.error:
        raise RefusedType("a damaged gzip archive") from None
    what = _executable(inner)
    if what:
        raise RefusedType(f"a gzip archive of {what}")
    return "application/gzip"


def _text_type(fh: IO[bytes], head: bytes, size: int) -> str:
    if b"\x00" in head:
        raise RefusedType("binary data of an unknown kind")
    try:
        # A multi-byte character cut at the end of the head is still text: not final unless the head is all.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=size <= _HEAD)
    except UnicodeDecodeError:
        raise RefusedType("binary data or text that is not UTF-8") from None
    if _MARKUP.match(head):
        raise RefusedType("HTML, SVG or XML markup")
    opening = head.lstrip()[:1]
    if opening in (b"{", b"[") and size <= JSON_PARSE_MAX:
        fh.seek(0)
        try:
            json.loads(fh.read().decode("utf-8"))
            return "application/json"
        except (ValueError, UnicodeDecodeError, RecursionError):  # nested past the parser's depth: text, not a 500
            pass
    elif opening in (b"{", b"["):
        # Too large to parse here (a 25 MB array of numbers took 270 MB and 2 s): JSON by its two ends.
        fh.seek(max(size - 64, 0))
        if fh.read().rstrip()[-1:] == (b"}" if opening == b"{" else b"]"):
            return "application/json"
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
        return _gzip_type(head)
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(fh)
    what = _executable(head)
    if what:
        raise RefusedType(what)
    return _text_type(fh, head, size)
