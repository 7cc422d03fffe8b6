"""Demo data for reports: queue one dossier and one period summary; the worker renders them.

Nothing is rendered here, so ``make run`` stays fast; idempotent (does nothing
once any report exists).
"""

import datetime as dt

from django.contrib.auth import get_user_model
from django.utils import timezone

from fmgov.core.seeding import register_demo
from fmgov.registry.models import Deployment
from reports.choices import ReportKind
from reports.models import Report
from reports.services import report_request

DEMO_DEPLOYMENT = "support-bot-prod"


def seed(stdout) -> None:
    if Report.objects.exists():
        stdout.write("demo reports: already present")
        return
    auditor = get_user_model().objects.filter(username="aude").first()
    deployment = Deployment.objects.filter(name=DEMO_DEPLOYMENT).first()
    if auditor is None or deployment is None:
        stdout.write("demo reports: skipped (the demo auditor or deployment is missing)")
        return
    report_request(actor=auditor, kind=ReportKind.DEPLOYMENT_DOSSIER, deployment=deployment)
    today = timezone.localdate()
    report_request(
        actor=auditor, kind=ReportKind.PERIOD_SUMMARY, period_start=today - dt.timedelta(days=30), period_end=today
    )
    stdout.write("demo reports: a dossier and a 30-day period summary queued for the worker")


register_demo(seed)
