"""Read a rendered report back the way a person (or a script) checks it."""

import io
import json
import re

from pypdf import PdfReader


def reader(data: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(data))


def text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in reader(data).pages)


def squeezed(data: bytes) -> str:
    """The text with all whitespace removed, so a hash wrapped across lines still matches."""
    return re.sub(r"\s+", "", text(data))


def evidence(data: bytes) -> dict:
    attachments = reader(data).attachments
    assert list(attachments) == ["evidence.json"], attachments.keys()
    (content,) = attachments["evidence.json"]
    return json.loads(content)


def xmp(data: bytes) -> str:
    r = reader(data)
    metadata = r.trailer["/Root"].get("/Metadata")
    return metadata.get_object().get_data().decode() if metadata else ""
