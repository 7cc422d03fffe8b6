"""The report task: takes an id, calls the service (routed to the ``reports`` queue)."""

from celery import shared_task
from django.conf import settings

from reports import conf

__all__ = ["render_report", "sweep_stuck_reports"]


@shared_task(
    name="reports.tasks.render_report",
    acks_late=True,
    soft_time_limit=conf.task_soft_time_limit() if settings.configured else None,
    time_limit=conf.task_time_limit() if settings.configured else None,
)
def render_report(report_id: int) -> str:
    from reports.services import report_render

    report = report_render(report_id=report_id)
    return "skipped: already claimed or finished" if report is None else report.state


@shared_task(name="reports.tasks.sweep_stuck_reports")
def sweep_stuck_reports() -> dict:
    from reports.services import reports_sweep_stuck

    return reports_sweep_stuck()
