"""Every page fits a 1400 px window for every role, and the API docs render with the network cut off.

The pages are found by following the links each role sees, from the dashboard, over the demo
data (``seed_demo``); one page per URL pattern, so the run stays short however many rows there are.
"""

import io
import re
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.urls import Resolver404, resolve
from playwright.sync_api import expect

from tests.browser.support import login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("taxonomy"),
]

VIEWPORT = {"width": 1400, "height": 900}
DEMO_PASSWORD = "demo-password"  # fmgov.accounts.demo
ROLES = {"engineer": "erin", "reviewer": "rita", "auditor": "aude", "admin": "ada"}
# Not pages: file downloads, htmx fragments polled by a page, and the log-out form's target.
NOT_PAGES = {"logout", "report-download", "report-progress", "run-progress", "verify", "healthz"}
# Each role must have seen at least these, or the crawl found too little to prove anything.
MUST_SEE = {
    "engineer": {"dashboard", "model-list", "model-detail", "deployment-detail", "review-detail", "run-detail"},
    "reviewer": {"dashboard", "review-list", "review-detail", "deployment-detail", "report-detail"},
    "auditor": {"dashboard", "event-list", "deployment-detail", "report-list", "report-detail"},
    "admin": {"dashboard", "event-list", "model-edit", "deployment-detail", "review-detail"},
}
# Every role reads incidents (issue 19); those who may open one reach the form.
for _role in MUST_SEE:
    MUST_SEE[_role] |= {"incident-list", "incident-detail"} | ({"incident-create"} if _role != "auditor" else set())

# Folded content counts too: every <details> is opened before measuring.
OVERFLOW = """() => {
  document.querySelectorAll("details").forEach(d => { d.open = true; });
  const root = document.documentElement, width = root.clientWidth, wide = [];
  if (root.scrollWidth > width + 1) wide.push(`document scrollWidth ${root.scrollWidth} > ${width}`);
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width > width + 1 || (box.width > 0 && box.right > width + 1)) {
      const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
        (el.classList.length ? "." + [...el.classList].join(".") : "");
      wide.push(`${name} spans ${Math.round(box.left)}..${Math.round(box.right)} of ${width}`);
    }
  }
  return wide.slice(0, 8);
}"""


@pytest.fixture
def demo_site(live_server, celery_worker, make_user):
    call_command("seed_demo", stdout=io.StringIO())
    admin = make_user("ada", "admin", password=DEMO_PASSWORD)
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    _open_an_incident()
    return live_server.url


def _open_an_incident() -> None:
    """The demo has no incident: one, on a demo deployment, so its page is crawled too (issue 19)."""
    from django.contrib.auth import get_user_model

    from fmgov.incidents.tests.factories import open_incident
    from fmgov.registry.models import Deployment

    open_incident(get_user_model().objects.get(username="rita"), deployments=[Deployment.objects.order_by("pk")[0]])


def _page_name(site: str, href: str) -> tuple[str, str] | None:
    """(URL name, path) of a link to one of fmgov's own pages, or None."""
    url = urlsplit(urljoin(site + "/", href))
    if f"{url.scheme}://{url.netloc}" != site or url.path.startswith(("/api/", "/admin/", "/static/", "/media/")):
        return None
    try:
        match = resolve(url.path)
    except Resolver404:
        return None
    if match.url_name in NOT_PAGES:
        return None
    return match.url_name, url.path + (f"?{url.query}" if url.query else "")


def _crawl(page, site: str) -> tuple[set[str], list[str]]:
    """Visit one page per URL pattern reachable from the dashboard; return what was seen and what overflowed."""
    queue, seen, problems = [("dashboard", "/")], set(), []
    while queue:
        name, path = queue.pop(0)
        if name in seen:
            continue
        seen.add(name)
        response = page.goto(path)
        assert response is not None and response.ok, f"{path}: {response and response.status}"
        wide = page.evaluate(OVERFLOW)
        if wide:
            problems.append(f"{path} ({name}): " + "; ".join(wide))
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))"):
            found = _page_name(site, href)
            if found and found[0] not in seen:
                queue.append(found)
    return seen, problems


def test_every_page_fits_1400px_for_every_role(browser, demo_site):
    problems = []
    for role, username in ROLES.items():
        page = login(browser, demo_site, username, DEMO_PASSWORD, viewport=VIEWPORT)
        seen, wide = _crawl(page, demo_site)
        page.context.close()
        assert MUST_SEE[role] <= seen, f"{role} never reached {MUST_SEE[role] - seen}"
        problems += [f"{role}: {line}" for line in wide]
    assert problems == [], "\n".join(problems)


def test_api_docs_render_with_only_the_app_reachable(browser, live_server, make_user):
    site = live_server.url
    make_user("erin", "engineer", password=DEMO_PASSWORD)
    page = login(browser, site, "erin", DEMO_PASSWORD, viewport=VIEWPORT)
    elsewhere, violations = [], []
    page.context.route(
        re.compile(r".*"),
        lambda route: route.continue_() if route.request.url.startswith(site) else _refuse(route, elsewhere),
    )
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto("/api/docs/")
    # The schema is generated on request, which takes seconds on a busy machine.
    expect(page.locator(".opblock-tag").first).to_be_visible(timeout=120_000)
    expect(page.locator(".opblock").first).to_be_visible()
    # Swagger UI draws a long list of operations only as it scrolls into view (virtualised), so scroll
    # until a late operation has been drawn: the whole schema was loaded and rendered from the app alone.
    download = page.locator(".opblock-summary-path", has_text="/api/v1/reports/{id}/download/")
    for _ in range(400):
        if download.count():
            break
        page.mouse.wheel(0, 1500)
        page.wait_for_timeout(50)
    expect(download).to_have_count(1)
    assert elsewhere == [] and violations == []


def _refuse(route, log: list[str]) -> None:
    log.append(route.request.url)
    route.abort()
