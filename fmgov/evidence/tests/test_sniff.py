"""The type is read from the bytes: office documents by their parts, text by its encoding, the rest refused."""

import io
import zipfile

import pytest

from fmgov.evidence.sniff import RefusedType, detect_type


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _detect(data: bytes) -> str:
    return detect_type(io.BytesIO(data), len(data))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}), "wordprocessingml.document"),
        (_zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<x/>"}), "spreadsheetml.sheet"),
        (_zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<o/>"}), "opendocument.text"),
        (_zip({"results/run-1.json": b"{}"}), "application/zip"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 20, "image/png"),
        (b"RIFF\x10\0\0\0WEBPVP8 ", "image/webp"),
        (b"metric,value\naccuracy,0.91\n", "text/plain"),
        ("Résumé: «risque faible»".encode() * 4000, "text/plain"),  # a multi-byte character cut by the 8 KiB head
        (b'[{"score": 0.1}]', "application/json"),
        (b"{not json", "text/plain"),
    ],
)
def test_accepted_kinds(data, expected):
    assert _detect(data).endswith(expected)


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"\x7fELF" + b"\0" * 60, "ELF executable"),
        (b"#!/bin/sh\nrm -rf /\n", "script"),
        (b"  <svg onload=alert(1)>", "markup"),
        (b"\x00\x01\x02binary", "binary data"),
        ("latin-1 caf\xe9".encode("latin-1"), "not UTF-8"),
        (b"PK\x03\x04 not really a zip", "damaged ZIP"),
        (b"", "empty"),
    ],
)
def test_refused_kinds_say_what_they_look_like(data, named):
    with pytest.raises(RefusedType, match=named):
        _detect(data)
