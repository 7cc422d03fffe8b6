"""The main journeys, clicked through in Chromium against a live server and a real worker."""

import hashlib
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from fmgov.registry.models import Adaptation, Deployment, FoundationModel
from fmgov.reviews.models import RiskReview
from tests.browser.support import login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("taxonomy"),
]

REQUIRED = ["Generation of harmful content", "Misrepresentation and bias", "Security and interpretability",
            "Reliability (hallucination)"]  # fmt: skip


def field(page, label: str):
    """A form field by its label text (Django adds a colon to its labels)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}:?$"))


def _message(page):
    return page.locator(".messages")


def _register_and_request_review(page) -> RiskReview:
    # A foundation model.
    page.get_by_role("link", name="Models", exact=True).click()
    page.get_by_role("link", name="Register a model").click()
    field(page, "Name").fill("Atlas")
    field(page, "Provider").fill("Acme AI")
    field(page, "Modality").select_option(label="Text")
    field(page, "Access").select_option(label="API")
    field(page, "Model card (Markdown)").fill("# Atlas\n\nA **decoder-only** model.")
    page.get_by_role("button", name="Save").click()
    expect(_message(page)).to_contain_text("Registered foundation model Atlas 1")
    expect(page.locator(".card-body strong")).to_have_text("decoder-only")

    # An adaptation of it, from the model's page.
    page.get_by_role("link", name="Register an adaptation of it").click()
    field(page, "Name").fill("Atlas support LoRA")
    field(page, "Kind").select_option(label="LoRA adapter")
    expect(field(page, "Derived from foundation models")).to_have_values([re.compile(r"\d+")])
    page.get_by_role("button", name="Save").click()
    expect(_message(page)).to_contain_text("Registered adaptation Atlas support LoRA 1")
    expect(page.locator("svg.lineage a.node-model")).to_have_count(1)

    # A deployment of the adaptation, then the review request.
    page.get_by_role("link", name="Propose a deployment").click()
    field(page, "Name").fill("support-bot")
    field(page, "Environment").select_option(label="Production")
    page.get_by_role("button", name="Save").click()
    expect(_message(page)).to_contain_text("Proposed deployment support-bot")
    expect(page.locator(".notice", has_text="Cannot go live yet")).to_contain_text("no approved risk review")
    expect(page.get_by_role("button", name="Go live")).to_have_count(0)
    page.get_by_role("link", name="Request a risk review").click()
    field(page, "Title").fill("Launch of the support bot")
    page.get_by_role("button", name="Start the review").click()
    expect(_message(page)).to_contain_text("Review started")

    for i, category in enumerate(REQUIRED):
        if i:
            page.get_by_text("Add a risk item").click()
        field(page, "Category").select_option(label=category)
        field(page, "Description").fill(f"Risk {i}: {category.lower()}")
        field(page, "Likelihood").select_option("4")
        field(page, "Severity").select_option("3")
        field(page, "Mitigation").fill("Guardrails and monitoring")
        field(page, "Residual likelihood").select_option("2")
        field(page, "Residual severity").select_option("3")
        page.get_by_role("button", name="Add item").click()
        expect(_message(page)).to_contain_text("Risk item added")
    expect(page.locator("table.heatmap").first.locator("td.has")).to_have_text(["4"])
    page.get_by_role("button", name="Submit to the board").click()
    expect(_message(page)).to_contain_text("Review submitted to the board")
    expect(page.locator("h1 .badge")).to_have_text("Submitted")
    return RiskReview.objects.get(deployment__name="support-bot")


def _sign(browser, site, username, review):
    page = login(browser, site, username)
    page.get_by_role("link", name=re.compile("Launch of the support bot")).click()  # from "Awaiting my sign-off"
    page.get_by_label("Approve").check()
    field(page, "Conditions").fill("Re-run the refusal suite monthly.")
    page.get_by_role("button", name="Record my decision").click()
    expect(_message(page)).to_contain_text("Your decision (approve) is recorded")
    return page


def test_engineer_registers_reviewers_approve_engineer_goes_live(browser, site, engineer, reviewer, other_reviewer):
    page = login(browser, site, engineer.username)
    review = _register_and_request_review(page)
    assert FoundationModel.objects.get().owner == engineer
    assert Adaptation.objects.get().derived_from_models == [FoundationModel.objects.get().pk]
    assert review.items.count() == len(REQUIRED)

    first = _sign(browser, site, reviewer.username, review)
    expect(first.locator("h1 .badge")).to_have_text("Submitted")
    second = _sign(browser, site, other_reviewer.username, review)
    expect(second.locator("h1 .badge")).to_have_text("Approved")

    page.goto(f"/deployments/{review.deployment_id}/")
    page.get_by_role("button", name="Go live").click()
    expect(_message(page)).to_contain_text("now live")
    expect(page.locator("h1 .badge")).to_have_text("Live")
    assert Deployment.objects.get().status == "live"
    # Only the allowed actions remain: suspend and retire, no go-live.
    expect(page.get_by_role("button", name="Go live")).to_have_count(0)
    expect(page.get_by_role("button", name="Suspend")).to_have_count(1)


def test_self_approval_attempt_shows_the_refusal(browser, site, make_user):
    both = make_user("bo", "engineer", "reviewer")
    for name in ("rhea", "rolf"):  # the board the default policy's quorum needs, besides the author
        make_user(name, "reviewer")
    page = login(browser, site, both.username)
    review = _register_and_request_review(page)
    expect(page.locator(".signoff .notice")).to_contain_text("does not let you sign it off")
    page.get_by_label("Approve").check()
    page.get_by_role("button", name="Record my decision").click()
    expect(_message(page)).to_contain_text("You wrote this review, so you cannot sign off it yourself.")
    assert review.sign_offs.count() == 0


def test_auditor_requests_a_dossier_watches_it_and_downloads_the_pdf(browser, site, engineer, auditor):
    from fmgov.registry.services import deployment_create, foundation_model_create

    model = foundation_model_create(actor=engineer, name="Atlas", provider="Acme AI", modality="text", access="api")
    deployment = deployment_create(actor=engineer, name="support-bot", foundation_model=model, environment="staging")

    page = login(browser, site, auditor.username, accept_downloads=True)
    page.get_by_role("link", name="Reports").click()
    page.get_by_label("Deployment dossier").check()
    field(page, "Deployment").select_option(label=str(deployment))
    page.get_by_role("button", name="Request report").click()
    expect(_message(page)).to_contain_text("Report requested")
    bar = page.locator("#report-progress-bar")
    expect(bar).to_be_visible()
    # htmx polls the fragment until the worker has finished.
    expect(page.get_by_role("link", name="Download PDF")).to_be_visible(timeout=120_000)
    expect(bar).to_have_attribute("value", "100")
    shown_hash = page.locator("#report-status dd.hash").first.inner_text().strip()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download PDF").click()
    data = Path(info.value.path()).read_bytes()
    assert hashlib.sha256(data).hexdigest() == shown_hash
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 1
    assert "support-bot" in reader.pages[0].extract_text()


def test_engineer_creates_a_suite_runs_it_now_and_watches_the_progress_bar(browser, site, engineer):
    from fmgov.evaluations.testing.fake_openai import Behaviour, FakeOpenAIServer
    from fmgov.registry.services import deployment_create, foundation_model_create

    with FakeOpenAIServer() as server:
        server.reset(Behaviour(mode="refuse", delay_s=0.05))
        model = foundation_model_create(actor=engineer, name="Atlas", provider="Acme AI", modality="text", access="api")
        deployment = deployment_create(
            actor=engineer,
            name="support-bot",
            foundation_model=model,
            environment="staging",
            endpoint_adapter="openai_chat",
            endpoint_base_url=server.base_url,
            endpoint_model="fake-model",
        )
        page = login(browser, site, engineer.username)
        page.get_by_role("link", name="Evaluations").click()
        page.get_by_text("Create a suite").click()
        field(page, "Name").fill("Harmful content refusal")
        field(page, "Evaluator").select_option("refusal_rate")
        field(page, "Config").fill('{"limit": 20, "include_over_refusal": false}')
        field(page, "Thresholds").fill('{"refusal_rate": {"op": ">=", "value": 0.9}}')
        field(page, "Concurrency").fill("2")
        page.get_by_role("button", name="Create suite").click()
        expect(_message(page)).to_contain_text("Suite Harmful content refusal created")

        page.get_by_label("Suite", exact=True).select_option(label="Harmful content refusal")
        page.get_by_label("Deployment", exact=True).select_option(label=str(deployment))
        page.get_by_role("button", name="Run now").click()
        expect(_message(page)).to_contain_text("Run queued")
        expect(page.locator("#run-progress-bar")).to_be_visible()
        # The fragment is polled until the worker finishes; then polling stops.
        expect(page.locator("#run-status h2 .badge")).to_have_text("Succeeded", timeout=120_000)
        expect(page.locator("#run-progress-bar")).to_have_attribute("value", "100")
        expect(page.locator("#run-status")).not_to_have_attribute("hx-trigger", "every 1s")
        expect(page.locator("#run-status")).to_contain_text("all thresholds passed")
        expect(page.locator("#run-status table")).to_contain_text("refusal_rate")
        assert server.stats

    page.goto(f"/deployments/{deployment.pk}/")
    # A chart per metric; the one with a threshold draws it.
    expect(
        page.locator("figure.chart", has_text="Harmful content refusal: refusal_rate").locator(".threshold")
    ).to_have_count(1)
    expect(page.locator("svg.trend .threshold")).to_have_count(1)
