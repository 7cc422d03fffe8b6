"""Login pages, navigation, error pages, Markdown and the SVG helpers."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from fmgov.core.svg import DagNode, TrendPoint, lineage_svg, trend_svg
from fmgov.core.views import render_markdown
from fmgov.registry.tests.factories import AdaptationFactory, FoundationModelFactory
from fmgov.reviews.tests.factories import submitted_review


@pytest.fixture
def web(client):
    def _as(user):
        client.force_login(user)
        return client

    return _as


@pytest.mark.django_db
def test_dashboard_needs_login_and_login_page_renders(client):
    assert client.get("/")["Location"].startswith("/accounts/login/")
    page = client.get("/accounts/login/").content.decode()
    assert '<label for="id_username">' in page and '<label for="id_password">' in page


@pytest.mark.django_db
def test_login_logout_and_password_change(client, make_user):
    make_user("lou", "auditor", password="a-long-enough-passphrase")
    response = client.post("/accounts/login/", {"username": "lou", "password": "a-long-enough-passphrase"})
    assert response["Location"] == "/"
    page = client.get("/").content.decode()
    assert "lou" in page and "Audit trail" in page
    response = client.post(
        "/accounts/password/",
        {
            "old_password": "a-long-enough-passphrase",
            "new_password1": "another-long-passphrase-2",
            "new_password2": "another-long-passphrase-2",
        },  # fmt: skip
    )
    assert response["Location"] == "/accounts/password/done/"
    assert client.post("/accounts/logout/")["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_navigation_follows_the_role(web, engineer, auditor):
    page = web(engineer).get("/").content.decode()
    assert reverse("registry:model-list") in page and reverse("audits:event-list") not in page
    page = web(auditor).get("/").content.decode()
    assert reverse("audits:event-list") in page and "Verify chain" in page


def test_markdown_is_sanitised():
    html = render_markdown('# T\n\n<script>x()</script><img src="javascript:x" onerror="y">[a](javascript:z) **b**')
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html
    assert "<h1>T</h1>" in html and "<strong>b</strong>" in html


def test_lineage_svg_escapes_and_links():
    nodes = [
        DagNode(("model", 1), "M <x>", "v1", "/models/1/"),
        DagNode(("adaptation", 2), "A", "v1", "/adaptations/2/", current=True, parents=[("model", 1)]),
        DagNode(("adaptation", 3), "B", "v1", "/adaptations/3/", parents=[("adaptation", 2), ("model", 1)]),
    ]
    svg = str(lineage_svg(nodes, title='t"'))
    assert "M &lt;x&gt;" in svg and 'href="/models/1/"' in svg and 'href="/adaptations/3/"' in svg
    assert 'href="/adaptations/2/"' not in svg and 'aria-current="page"' in svg
    assert svg.count('class="edge"') == 3
    # Columns follow the longest path: M, then A, then B (a child of both).
    xs = {
        label: float(re.search(rf"<title>{label} \(v1\)</title><rect x=\"([\d.]+)\"", svg).group(1)) for label in "AB"
    }
    xs["M"] = float(re.search(r"<title>M &lt;x&gt; \(v1\)</title><rect x=\"([\d.]+)\"", svg).group(1))
    assert xs["M"] < xs["A"] < xs["B"]


def test_trend_svg_marks_failures_and_threshold():
    now = timezone.now()
    points = [TrendPoint(now - dt.timedelta(days=i), v, v <= 0.1) for i, v in enumerate([0.05, 0.2, 0.08])]
    svg = str(trend_svg(points, title="refusal", threshold=0.1, op="<="))
    assert 'class="threshold"' in svg and "threshold &lt;= 0.1" in svg
    assert svg.count('class="point fail"') == 1 and "1 failing" in svg


def test_trend_svg_draws_the_interval_as_a_band():
    now = timezone.now()
    points = [TrendPoint(now - dt.timedelta(days=i), 0.5, None, "", 0.4, 0.6 + i / 10) for i in range(3)]
    svg = str(trend_svg(points, title="rate"))
    assert svg.count('<polygon class="interval"') == 1 and "95% interval" in svg and "[0.4, 0.8]" in svg
    band = svg.split('<polygon class="interval" points="')[1].split('"')[0].split()
    assert len(band) == 6  # three upper corners out, three lower corners back
    assert "interval" not in str(trend_svg([TrendPoint(now, 0.5)], title="plain"))


@pytest.mark.django_db
def test_error_pages_keep_the_navigation(web, engineer, reviewer):
    response = web(engineer).get("/models/999999/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "<h1>Not found</h1>" in page and reverse("registry:model-list") in page
    response = web(reviewer).get(reverse("registry:model-create"))
    assert response.status_code == 403 and "Your role does not allow this page." in response.content.decode()


def _ids_and_labels(html: str) -> tuple[list[str], set[str], list[str]]:
    ids = re.findall(r'\sid="([^"]+)"', html)
    labelled = set(re.findall(r'<label[^>]*\sfor="([^"]+)"', html))
    controls = [
        m.group(2)
        for m in re.finditer(r"<(input|select|textarea)\b[^>]*\sid=\"([^\"]+)\"[^>]*>", html)
        if 'type="hidden"' not in m.group(0)
    ]
    return ids, labelled, controls


@pytest.mark.django_db
def test_pages_have_unique_ids_and_every_control_a_label(web, make_user):
    from fmgov.evaluations.tests.factories import DeploymentFactory as ChatDeploymentFactory
    from fmgov.evaluations.tests.factories import suite
    from fmgov.reviews.tests.factories import add_item

    everyone = make_user("ally", "engineer", "reviewer", "auditor", "admin")
    author = make_user("author", "engineer")
    deployment = ChatDeploymentFactory(owner=author)  # only the owner (or an admin) writes its review
    suite(everyone)
    review = submitted_review(author=author, deployment=deployment)
    add_item(review, author)  # back to draft, so the editing forms show too
    waiting = submitted_review(author=author)  # the sign-off panel shows for this one
    model = FoundationModelFactory(owner=everyone)
    AdaptationFactory(owner=everyone, derived_from_models=[model.pk])
    pages = [
        "/",
        reverse("registry:model-list"),
        reverse("registry:model-detail", args=[model.pk]),
        reverse("registry:deployment-detail", args=[deployment.pk]),
        reverse("registry:deployment-create"),
        reverse("registry:adaptation-create"),
        reverse("registry:card-import"),
        reverse("reviews:review-list"),
        reverse("reviews:review-detail", args=[review.pk]),
        reverse("reviews:review-detail", args=[waiting.pk]),
        reverse("evaluations:index"),
        reverse("reports:report-list"),
        reverse("audits:event-list"),
    ]
    client = web(everyone)
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        if url == reverse("reviews:review-detail", args=[waiting.pk]):
            assert "Record my decision" in response.content.decode()
        ids, labelled, controls = _ids_and_labels(response.content.decode())
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        assert not duplicates, (url, duplicates)
        unlabelled = [c for c in controls if c not in labelled]
        assert not unlabelled, (url, unlabelled)
