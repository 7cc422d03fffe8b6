"""Put the Celery task id and name in the audit context while a task runs."""

from celery.signals import task_postrun, task_prerun

from audits import context

_tokens: dict[str, object] = {}


@task_prerun.connect
def _bind_task_context(task_id=None, task=None, **kwargs) -> None:
    manager = context.bind_context(celery_task_id=task_id, celery_task=getattr(task, "name", None))
    manager.__enter__()
    _tokens[task_id] = manager


@task_postrun.connect
def _unbind_task_context(task_id=None, **kwargs) -> None:
    manager = _tokens.pop(task_id, None)
    if manager is not None:
        manager.__exit__(None, None, None)
