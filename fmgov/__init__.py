"""fmgov: governance and audit logging for foundation models."""

from fmgov.celery import app as celery_app

__all__ = ["celery_app"]
