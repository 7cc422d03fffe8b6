"""Enqueue Celery tasks only once the surrounding transaction commits."""

from functools import partial

from django.db import transaction

__all__ = ["enqueue_on_commit"]


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """A rolled-back transaction sends nothing; a committed one sends exactly once."""
    transaction.on_commit(partial(task.delay, *args, **kwargs))
