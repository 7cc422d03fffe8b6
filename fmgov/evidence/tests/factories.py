"""Evidence files made through the service, as every real caller does."""

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile

from fmgov.evidence import services

__all__ = ["PDF_BYTES", "pdf_bytes", "upload", "attach"]


def pdf_bytes(label: str = "red-team report") -> bytes:
    """A small PDF whose bytes differ by label (the sniffer reads the header; the digest covers all)."""
    return (
        b"%PDF-1.7\n% " + label.encode() + b"\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )


PDF_BYTES = pdf_bytes()


def upload(content: bytes = PDF_BYTES, name: str = "red-team.pdf", content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def attach(actor, parent, content: bytes = PDF_BYTES, name: str = "red-team.pdf", **kwargs):
    kwargs.setdefault("effective_date", dt.date(2026, 11, 1))
    return services.attachment_upload(actor=actor, parent=parent, upload=upload(content, name), **kwargs)
