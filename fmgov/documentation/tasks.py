"""Celery tasks of model documentation. Thin: call the service."""

from celery import shared_task

__all__ = ["documentation_obligations"]


@shared_task(name="fmgov.documentation.tasks.documentation_obligations")
def documentation_obligations() -> dict[str, int]:
    """Beat, daily: a live model whose owed documentation lacks required fields opens a finding (Art. 111(3))."""
    from fmgov.documentation.obligations import documentation_obligations_check

    return documentation_obligations_check()
