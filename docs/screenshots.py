"""`make screenshots`: the README's pictures, taken in Chromium from the demo data.

Starts a live server and a real Celery worker, loads ``manage.py seed_demo``,
and writes PNGs to ``docs/screenshots/``: the dashboard, a lineage graph, a
review with its heat map, the first page of a deployment dossier (rendered
by the worker, rasterised with ``pdftoppm``), a serious incident with its
reporting clock and a model's EU AI Act documentation record.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.support import browser, browser_type, login, playwright, sync_orm_beside_playwright

OUT = Path(__file__).resolve().parent / "screenshots"
VIEWPORT = {"width": 1280, "height": 860}
DEMO_PASSWORD = "demo-password"

pytestmark = [
    pytest.mark.screenshots,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("sync_orm_beside_playwright"),
]
# Module-scoped Playwright, Debian's Chromium, and the async guard lifted for this module only.
__all__ = ["browser", "browser_type", "playwright", "sync_orm_beside_playwright"]


@pytest.fixture
def demo(live_server, celery_worker):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    OUT.mkdir(exist_ok=True)
    return live_server.url


def _page(browser, site, username):
    return login(browser, site, username, DEMO_PASSWORD, viewport=VIEWPORT, accept_downloads=True)


def _richest_lineage():
    """The adaptation with the most ancestors plus descendants: the most telling graph."""
    from fmgov.registry.selectors import adaptation_lineage, adaptation_list, descendant_adaptations

    def size(a):
        return len(adaptation_lineage(adaptation_id=a.pk)) + len(descendant_adaptations(adaptation_id=a.pk))

    return max(adaptation_list(), key=lambda a: (size(a), -a.pk))


def _fullest_review():
    from fmgov.reviews.selectors import review_list

    return max(review_list(), key=lambda r: (len(r.items.all()), r.state == "approved", -r.pk))


def _busiest_reviewer() -> str:
    """The demo reviewer with the most reviews waiting for them, so the dashboard shows its main panel."""
    from django.contrib.auth import get_user_model

    from fmgov.reviews.selectors import review_awaiting

    names = ["rita", "ravi", "sam"]
    users = get_user_model().objects.filter(username__in=names)
    return max(users, key=lambda u: (review_awaiting(u).count(), -names.index(u.username))).username


def _reported_incident(deployment):
    """A serious incident on a demo deployment, aware three days ago: the clock has most of its days left."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from fmgov.incidents.services import incident_open

    aware = timezone.now() - timedelta(days=3)
    return incident_open(
        actor=get_user_model().objects.get(username="rita"),
        summary="Assistant gave a customer another customer's account details",
        description="A support conversation returned personal data from a retrieved document of another account.",
        occurred_at=aware - timedelta(hours=6),
        aware_at=aware,
        regime="high_risk_art73",
        harm_category="serious_incident",
        deployments=[deployment],
    )


def _documented_model():
    """The first demo foundation model, its documentation record prefilled from the registry and its card."""
    from fmgov.documentation.services import documentation_create
    from fmgov.registry.models import FoundationModel

    model = FoundationModel.objects.order_by("pk").first()
    documentation_create(target=model, actor=model.owner, role="provider")
    return model


def test_screenshots(browser, demo):
    site = demo
    page = _page(browser, site, _busiest_reviewer())
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.screenshot(path=OUT / "dashboard.png", full_page=True)

    adaptation = _richest_lineage()
    page.goto(f"/adaptations/{adaptation.pk}/")
    graph = page.locator("section", has=page.locator("#lineage-h"))
    expect(graph.locator("svg.lineage")).to_be_visible()
    graph.screenshot(path=OUT / "lineage.png")

    review = _fullest_review()
    page.goto(f"/reviews/{review.pk}/")
    expect(page.locator("table.heatmap").first).to_be_visible()
    page.locator("main").screenshot(path=OUT / "review.png")

    auditor = _page(browser, site, "aude")
    auditor.goto("/reports/")
    auditor.get_by_label("Deployment dossier").check()
    auditor.get_by_label(re.compile(r"^Deployment:?$")).select_option(value=str(review.deployment_id))
    auditor.get_by_role("button", name="Request report").click()
    expect(auditor.get_by_role("link", name="Download PDF")).to_be_visible(timeout=180_000)
    with auditor.expect_download() as info:
        auditor.get_by_role("link", name="Download PDF").click()
    pdf = OUT / "dossier.pdf"
    shutil.copy(info.value.path(), pdf)
    try:
        subprocess.run(
            ["pdftoppm", "-png", "-r", "90", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(OUT / "dossier")],
            check=True,
        )
    finally:
        pdf.unlink()
    incident = _reported_incident(review.deployment)
    page.goto(f"/incidents/{incident.pk}/")
    expect(page.locator("#report-due")).to_be_visible()
    page.locator("main").screenshot(path=OUT / "incident.png")

    model = _documented_model()
    owner = _page(browser, site, model.owner.username)
    owner.goto(f"/models/{model.pk}/documentation/")
    owner.screenshot(path=OUT / "documentation.png")
    for name in ("dashboard", "lineage", "review", "dossier", "incident", "documentation"):
        assert (OUT / f"{name}.png").stat().st_size > 10_000, name
