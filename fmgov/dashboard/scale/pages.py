"""The pages the benchmark times and the query-count test checks."""

import datetime as dt

from django.db.models import Count

from audits.models import AuditEvent
from fmgov.registry.lineage import LineageRoot
from fmgov.registry.models import Adaptation
from fmgov.reviews.models import RiskReview


def measured_pages() -> list[tuple[str, str]]:
    """(name, path) of every page the pages benchmark times and the query-count test checks, on seeded data.

    The dashboard, each list page, a model page with its lineage (the seeded model with most below it), an
    adaptation page, a review page, the audit trail with each filter, and each list endpoint of the API.
    """
    from django.urls import reverse

    model = LineageRoot.objects.values("foundation_model_id").annotate(n=Count("id")).order_by("-n").first()
    adaptation = Adaptation.objects.filter(lineage_roots__depth=1).order_by("id").first()
    review = RiskReview.objects.order_by("id").first()
    event = AuditEvent.objects.order_by("-seq").first()
    pages = [("dashboard", reverse("dashboard"))]
    pages += [
        (f"list {name}", reverse(name))
        for name in (
            "registry:model-list",
            "registry:adaptation-list",
            "registry:deployment-list",
            "reviews:review-list",
            "evaluations:index",
            "reports:report-list",
        )
    ]
    if model:
        pages.append(("model page with lineage", reverse("registry:model-detail", args=[model["foundation_model_id"]])))
    if adaptation:
        pages.append(("adaptation page with lineage", reverse("registry:adaptation-detail", args=[adaptation.pk])))
    if review:
        pages.append(("review page", reverse("reviews:review-detail", args=[review.pk])))
    audit = reverse("audits:event-list")
    pages.append(("audit trail", audit))
    if event:
        since = (event.timestamp - dt.timedelta(hours=1)).isoformat()
        filters = {
            "object_type": f"object_type={event.object_type}",
            "object_id": f"object_type={event.object_type}&object_id={event.object_id}",
            "actor": f"actor={event.actor_username}",
            "action": f"action={event.action}",
            "action_prefix": "action_prefix=deployment.",
            "since/until": f"since={since}&until={event.timestamp.isoformat()}".replace("+", "%2B"),
        }
        pages += [(f"audit trail by {name}", f"{audit}?{query}") for name, query in filters.items()]
    api = (
        "foundation-model-list",
        "adaptation-list",
        "deployment-list",
        "review-list",
        "evaluation-run-list",
        "evaluation-suite-list",
        "finding-list",
        "audit-event-list",
        "report-list",
        "portfolio-finding-list",
    )
    pages += [(f"api {name}", reverse(name)) for name in api]
    pages.append(("api portfolio concentration", reverse("portfolio-concentration")))
    return pages
