from celery import shared_task
from django.contrib.auth import get_user_model

from fmgov.core.roles import Role
from fmgov.notifications.services import email_send_once


@shared_task(name="fmgov.portfolio.tasks.check_portfolio")
def check_portfolio() -> int:
    """Daily beat task: open findings for concentration and single points of failure."""
    from fmgov.portfolio.services import portfolio_check

    return len(portfolio_check())


@shared_task(bind=True, name="fmgov.portfolio.tasks.notify_portfolio_findings")
def notify_portfolio_findings(self, finding_ids: list[int]) -> int:
    """Email reviewers and admins about new portfolio findings, one message each."""
    from fmgov.findings.choices import FindingSource
    from fmgov.findings.models import Finding

    findings = list(Finding.objects.filter(pk__in=finding_ids, source=FindingSource.PORTFOLIO).order_by("pk"))
    recipients = sorted(
        set(
            get_user_model()
            .objects.filter(groups__name__in=[Role.REVIEWER, Role.ADMIN], is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )
    if not findings or not recipients:
        return 0
    lines = [f"- {f.title} (value {f.detail['value']:g}, threshold {f.detail['threshold']:g})" for f in findings]
    return email_send_once(
        key=self.request.id,
        task_name=self.name,
        subject=f"[fmgov] {len(findings)} new portfolio finding(s)",
        body="The portfolio check opened:\n" + "\n".join(lines),
        recipients=recipients,
    )
