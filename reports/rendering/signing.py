"""PAdES signatures on rendered reports (pyHanko), with the organisation's report-signing key.

The renderer's PDF/A-3b file (evidence.json attached) is signed last, as an
incremental update: the bytes rendered stay as they were, followed by a
signature over all of them (PAdES baseline, SHA-256, an invisible field so no
font is needed). With a timestamp authority configured (the first of
``AUDIT_TSA_URLS``) the signature carries an RFC 3161 timestamp (PAdES-B-T),
requested through the egress client like every other outbound call.

Key and certificate come from ``REPORT_SIGNING_KEY_FILE`` and
``REPORT_SIGNING_CERT_FILE`` (PEM); development and tests get a self-signed
pair (``fmgov.settings.dev_keys.development_report_signing_pair``). Without
them reports are left unsigned and their render log says so; when the authority
fails, the report is signed without a timestamp and its log says why.
"""

from __future__ import annotations

import asyncio
import io

from asn1crypto import tsp
from django.conf import settings
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from fmgov.core.egress import EgressClient, EgressError

__all__ = ["EgressTimeStamper", "ReportSigningError", "report_signer", "sign_report_pdf"]

FIELD_NAME = "fmgov-report-signature"


class ReportSigningError(RuntimeError):
    """The report could not be signed; the message says why, for a person."""


class EgressTimeStamper(TimeStamper):
    """pyHanko's RFC 3161 client, sending through the egress policy instead of its own HTTP library."""

    def __init__(self, url: str):
        super().__init__()
        self.url = url

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        def post() -> tsp.TimeStampResp:
            try:
                with EgressClient(max_connections=1) as client:
                    response = client.request(
                        "POST",
                        self.url,
                        content=req.dump(),
                        headers={"Content-Type": "application/timestamp-query"},
                        deadline_s=30.0,
                        max_bytes=256 * 1024,
                    )
            except EgressError as exc:
                raise TimestampRequestError(str(exc)) from None
            if response.status_code != 200:
                raise TimestampRequestError(f"{response.origin} answered {response.status_code}, not a timestamp.")
            return tsp.TimeStampResp.load(response.content)

        return await asyncio.to_thread(post)


def report_signer() -> signers.SimpleSigner | None:
    """The organisation's report signer, or None when no key is configured."""
    key_file, cert_file = settings.REPORT_SIGNING_KEY_FILE, settings.REPORT_SIGNING_CERT_FILE
    if not (key_file and cert_file):
        return None
    signer = signers.SimpleSigner.load(key_file, cert_file)
    if signer is None:
        raise ReportSigningError("REPORT_SIGNING_KEY_FILE / REPORT_SIGNING_CERT_FILE could not be loaded (PEM).")
    return signer


def sign_report_pdf(pdf: bytes, *, title: str = "") -> tuple[bytes, dict]:
    """The PDF with a PAdES signature appended, and what the render log records about it."""
    signer = report_signer()
    if signer is None:
        return pdf, {"signed": False}
    tsa_urls = [url for url in settings.AUDIT_TSA_URLS if url.strip()]
    timestamper = EgressTimeStamper(tsa_urls[0]) if tsa_urls else None
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=f"fmgov audit report{': ' + title if title else ''}",
    )
    log = {"signed": True, "signer": signer.signing_cert.subject.human_friendly, "timestamped_by": ""}
    try:
        signed = _sign(pdf, metadata, signer, timestamper)
        log["timestamped_by"] = tsa_urls[0] if tsa_urls else ""
    except TimestampRequestError as exc:
        # The authority is down: the report is still signed, without a timestamp, and its log says why.
        signed = _sign(pdf, metadata, signer, None)
        log["timestamp_error"] = str(exc)[:500]
    return signed, log


class _MetadataKeepingWriter(IncrementalPdfFileWriter):
    """An incremental writer that leaves the document information and XMP exactly as rendered.

    pyHanko otherwise appends itself to the information dictionary's Producer and rewrites the XMP
    with another Producer, and PDF/A requires the two to agree: the signature needs neither.
    """

    def _update_meta(self) -> None:
        return None


def _sign(pdf: bytes, metadata, signer, timestamper) -> bytes:
    writer = _MetadataKeepingWriter(io.BytesIO(pdf))
    return signers.sign_pdf(writer, metadata, signer=signer, timestamper=timestamper).getvalue()
