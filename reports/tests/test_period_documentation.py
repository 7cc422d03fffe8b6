"""The period summary states the portfolio's documentation completeness (issue 19), in the PDF and its JSON."""

import datetime as dt

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from fmgov.documentation.tests.factories import COMPLETE_PROVIDER_FIELDS, documented_model
from fmgov.registry.tests.factories import FoundationModelFactory
from reports import services as report_services
from reports.tests import pdfcheck

pytestmark = pytest.mark.django_db


def test_the_period_summary_states_documentation_completeness(engineer, auditor, monkeypatch):
    documented_model(engineer, role="provider", systemic_risk=False, fields=COMPLETE_PROVIDER_FIELDS)
    documented_model(engineer, role="provider", systemic_risk=False, fields={})
    FoundationModelFactory(owner=engineer)  # no record
    monkeypatch.setattr(report_services, "enqueue_on_commit", lambda task, *args: None)
    today = timezone.localdate()
    report = report_services.report_request(
        actor=auditor, kind="period_summary", period_start=today - dt.timedelta(days=7), period_end=today
    )
    report_services.report_render(report_id=report.pk)
    report.refresh_from_db()
    assert report.state == "succeeded", report.error
    with default_storage.open(report.file.name, "rb") as fh:
        data = fh.read()
    documentation = pdfcheck.evidence(data)["portfolio"]["documentation"]
    assert documentation["records"] == 2 and documentation["without_record"] == 1
    filled, required = documentation["filled"], documentation["required"]
    assert 0 < filled < required
    text = " ".join(pdfcheck.text(data).split())
    assert "7. Model documentation (EU AI Act)" in text
    percent = round(filled * 100 / required)
    assert f"{filled} of {required} required fields are filled ({percent} %) over 2 documentation records" in text
    assert "Models and adaptations without a record: 1." in text
