"""PAdES signatures on rendered reports: pdfsig and pyHanko's validator accept them; PDF/A-3b and evidence stay."""

import io
import json
import shutil
import subprocess

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from audits.tests.local_tsa import LocalTSA
from reports import services
from reports.rendering.pdf import render_pdf
from reports.rendering.signing import sign_report_pdf
from reports.selectors import dossier_evidence
from reports.tests import pdfcheck
from reports.tests.factories import make_deployment, make_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def rendered(engineer, auditor, monkeypatch) -> tuple[bytes, dict]:
    """A real, small deployment dossier rendered (and signed) the way the worker does it."""
    monkeypatch.setattr(services, "enqueue_on_commit", lambda task, *args: None)
    deployment = make_deployment(engineer, make_model(engineer, name="Signed-LM"), name="signed-bot")
    report = services.report_request(actor=auditor, kind="deployment_dossier", deployment=deployment)
    evidence_json = services.evidence_to_json(dossier_evidence(report))
    output = render_pdf(kind="deployment_dossier", evidence_json=evidence_json, timeout=300, memory_mb=2048)
    return output.pdf, {"log": output.log, "evidence_json": evidence_json}


def _validate(pdf: bytes, cert_file: str):
    """pyHanko's validator, trusting the (self-signed) report-signing certificate."""
    with open(cert_file, "rb") as handle:
        der = x509.load_pem_x509_certificate(handle.read()).public_bytes(Encoding.DER)
    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(der)])
    (signature,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    return signature, validate_pdf_signature(signature, context)


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="pdfsig (poppler-utils) is installed by .ci/run")
def test_a_rendered_report_carries_a_valid_pades_signature_and_stays_pdf_a_with_its_evidence(
    rendered, settings, tmp_path
):
    pdf, details = rendered
    assert details["log"]["signature"]["signed"] is True, details["log"]
    path = tmp_path / "signed-report.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60).stdout
    assert "Signature Validation: Signature is Valid." in out and "Total document signed" in out, out
    assert "ETSI.CAdES.detached" in out  # PAdES
    signature, status = _validate(pdf, settings.REPORT_SIGNING_CERT_FILE)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert signature.coverage.name == "ENTIRE_FILE"
    # Still PDF/A-3b, with the evidence attached: the signature is an incremental update over the rendered bytes.
    xmp = pdfcheck.xmp(pdf)
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert f'pdf:Producer="{pdfcheck.reader(pdf).metadata.producer}"' in xmp  # information and XMP still agree
    assert pdfcheck.evidence(pdf) == json.loads(details["evidence_json"])
    # One changed byte of the rendered content (the catalogue's language) and neither validator accepts it.
    assert pdf.index(b"/Lang (en)") < len(pdf) // 2
    tampered = pdf.replace(b"/Lang (en)", b"/Lang (fn)", 1)
    path.write_bytes(tampered)
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60).stdout
    assert "Signature is Valid." not in out, out
    _, status = _validate(tampered, settings.REPORT_SIGNING_CERT_FILE)
    assert not status.intact
    assert details["log"]["signature"]["signer"].endswith("fmgov development report signing")


def test_a_configured_authority_timestamps_the_signature_and_a_down_one_is_logged(settings, tmp_path):
    from weasyprint import HTML, Attachment

    pdf = HTML(string="<p>report</p>").write_pdf(
        pdf_variant="pdf/a-3b", attachments=[Attachment(string=b"{}", name="evidence.json")]
    )
    with LocalTSA(tmp_path) as tsa:
        settings.AUDIT_TSA_URLS = [tsa.url]
        signed, log = sign_report_pdf(pdf)
        assert log["timestamped_by"] == tsa.url and tsa.requests >= 1
        (signature,) = PdfFileReader(io.BytesIO(signed)).embedded_signatures
        token = signature.signer_info["unsigned_attrs"]
        assert any(attr["type"].native == "signature_time_stamp_token" for attr in token)
        tsa.failing = True
        signed, log = sign_report_pdf(pdf)
    assert log["signed"] and log["timestamped_by"] == "" and "503" in log["timestamp_error"]
    _, status = _validate(signed, settings.REPORT_SIGNING_CERT_FILE)
    assert status.intact and status.valid


def test_without_a_key_the_report_is_not_signed_and_says_so(settings):
    settings.REPORT_SIGNING_KEY_FILE = ""
    assert sign_report_pdf(b"%PDF-1.7 not even parsed") == (b"%PDF-1.7 not even parsed", {"signed": False})
