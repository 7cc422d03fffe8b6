"""The Celery app as the tests' worker subprocesses run it (``celery -A fmgov.core.testing.celery_app``).

Between a session's transactional tests the database is flushed and the content types are created
again, with new ids. A worker process outlives those tests, so before each task it forgets the
content types it cached: otherwise a finding written by the worker would point at a content type
that no longer exists (a foreign-key error at commit) and lookups by type would find nothing.
"""

from celery.signals import task_prerun

from fmgov.celery import app

__all__ = ["app"]


@task_prerun.connect(weak=False)
def forget_cached_content_types(**kwargs) -> None:
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
