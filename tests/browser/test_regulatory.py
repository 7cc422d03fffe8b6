"""Issue 19's journeys in Chromium: an engineer documents a model, a reviewer reads an incident's clock, an
auditor downloads the Annex XII package a downstream provider receives."""

import hashlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from fmgov.documentation.models import DocumentationRecord
from fmgov.incidents.models import Incident
from reports.tests import pdfcheck
from tests.browser.support import login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("taxonomy"),
]


def field(page, label: str):
    """A form field by its label text (Django adds a colon to its labels)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}:?$"))


def _message(page):
    return page.locator(".messages")


def _filled(page) -> tuple[int, int]:
    """(filled, required) as the model page's documentation section states them."""
    text = page.locator("#documentation-h + p").inner_text()
    found = re.search(r"(\d+) of (\d+) required fields filled", text)
    assert found, text
    return int(found[1]), int(found[2])


def test_engineer_fills_a_documentation_record(browser, site, engineer):
    from fmgov.registry.services import foundation_model_create

    model = foundation_model_create(actor=engineer, name="Atlas", provider="Acme AI", modality="text", access="api")
    page = login(browser, site, engineer.username)
    page.goto(f"/models/{model.pk}/")
    expect(page.locator("#documentation-h + p")).to_contain_text("No documentation record yet")
    page.get_by_role("link", name="Start the documentation").click()
    expect(page.get_by_role("heading", name=re.compile("Model documentation"))).to_be_visible()
    field(page, "The organisation's role").select_option("provider")
    field(page, "Provider's legal name").fill("Acme AI B.V.")
    field(page, "Architecture").fill("Decoder-only transformer")
    page.get_by_role("button", name="Save as a new version").click()
    expect(_message(page)).to_contain_text("as version 1")
    first, required = _filled(page)
    assert 2 <= first < required

    # A second sitting: more required fields, a new version, completeness goes up.
    page.get_by_role("link", name="Edit the documentation").click()
    expect(field(page, "Provider's legal name")).to_have_value("Acme AI B.V.")
    field(page, "Intended uses").fill("Summarising support tickets.")
    field(page, "Restricted and prohibited uses").fill("No medical advice.")
    field(page, "Total parameter count").fill("7000000000")
    page.get_by_role("button", name="Save as a new version").click()
    expect(_message(page)).to_contain_text("as version 2")
    second, _ = _filled(page)
    assert second == first + 3
    expect(page.locator("#documentation-h + p")).to_contain_text("version 2")
    record = DocumentationRecord.objects.get(foundation_model=model)
    assert record.current_version.number == 2
    assert record.current_version.fields["parameter_count"] == 7_000_000_000


def test_reviewer_opens_an_incident_and_sees_its_clock(browser, site, engineer, reviewer):
    from fmgov.registry.services import deployment_create, foundation_model_create

    model = foundation_model_create(actor=engineer, name="Atlas", provider="Acme AI", modality="text", access="api")
    deployment = deployment_create(actor=engineer, name="triage-bot", foundation_model=model, environment="production")
    now = timezone.now()

    # The engineer reports it through the form: a death under Art. 73 gives ten days from awareness.
    page = login(browser, site, engineer.username)
    page.get_by_role("link", name="Incidents", exact=True).click()
    page.get_by_role("link", name="Report a serious incident").click()
    field(page, "Summary").fill("Triage bot under-rated a cardiac case")
    field(page, "Occurred at (UTC)").fill(f"{now - timedelta(hours=3):%Y-%m-%dT%H:%M}")
    field(page, "Organisation aware at (UTC)").fill(f"{now - timedelta(hours=1):%Y-%m-%dT%H:%M}")
    field(page, "Regime").select_option("high_risk_art73")
    field(page, "Harm category").select_option(label="death: 10 days (EU AI Act Art. 73(4))")
    field(page, "Deployments involved").select_option(label=f"triage-bot (#{deployment.pk})")
    page.get_by_role("button", name="Open the incident").click()
    expect(_message(page)).to_contain_text("Opened incident")
    incident = Incident.objects.get()
    page.context.close()

    # The reviewer finds it on the dashboard and opens it.
    page = login(browser, site, reviewer.username)
    page.get_by_role("link", name=re.compile(rf"^#{incident.pk} Triage bot")).click()
    expect(page.get_by_role("heading", name=re.compile(f"Incident #{incident.pk}"))).to_be_visible()
    expect(page.locator("#report-due")).to_have_text(f"{incident.report_due_at:%Y-%m-%d %H:%M} UTC")
    expect(page.locator("#deadline-source")).to_have_text("EU AI Act Art. 73(4)")
    expect(page.locator("#time-left")).to_have_text(re.compile(r"^1\s+week, [23]\s+days left$"))
    page.get_by_role("button", name="Mark reported to the authority").click()
    expect(_message(page)).to_contain_text("the clock stopped")
    expect(page.locator("#time-left")).to_have_text("reported in time")
    incident.refresh_from_db()
    assert incident.status == "reported"


def test_auditor_downloads_the_downstream_package(browser, site, engineer, auditor):
    from fmgov.documentation.services import documentation_create
    from fmgov.documentation.tests.factories import COMPLETE_PROVIDER_FIELDS
    from fmgov.registry.services import foundation_model_create

    model = foundation_model_create(actor=engineer, name="Atlas", provider="Acme AI", modality="text", access="api")
    fields = COMPLETE_PROVIDER_FIELDS | {"intended_uses": "Summarising support tickets for helpdesk agents."}
    documentation_create(target=model, actor=engineer, role="provider", systemic_risk=False, fields=fields)

    # The auditor asks for the Annex XII package with the browser's session (the page offers dossiers and
    # period summaries; documentation exports are requested through the API), then follows it on its page.
    page = login(browser, site, auditor.username, accept_downloads=True)
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        "/api/v1/reports/",
        data={"kind": "downstream_information", "foundation_model": model.pk},
        headers={"X-CSRFToken": csrf, "Referer": site + "/"},
    )
    assert response.status == 202, response.text()
    report_id = response.json()["id"]
    page.goto("/reports/")
    page.get_by_role("link", name=re.compile(rf"^#{report_id} ")).click()
    expect(page).to_have_url(re.compile(rf"/reports/{report_id}/$"))
    # htmx polls the progress fragment until the worker has rendered it.
    expect(page.get_by_role("link", name="Download PDF")).to_be_visible(timeout=120_000)
    shown_hash = page.locator("#report-status dd.hash").first.inner_text().strip()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download PDF").click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF-") and hashlib.sha256(data).hexdigest() == shown_hash
    text = " ".join(pdfcheck.text(data).split())
    assert f"Downstream provider information: {model.name} {model.version}" in text
    assert "Summarising support tickets for helpdesk agents." in text
    evidence = pdfcheck.evidence(data)
    assert evidence["report"]["kind"] == "downstream_information"
    assert "training_compute_flop" not in evidence["documentation"]["field_names"]  # the authorities' field only
