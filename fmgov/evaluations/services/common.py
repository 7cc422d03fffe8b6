"""What every evaluations service shares: the system actor, attempt and time limits, role checks."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from fmgov.core.actors import Actor
from fmgov.core.exceptions import NotAllowed
from fmgov.core.roles import Role, has_role

SYSTEM = "fmgov.evaluations"
MAX_ATTEMPTS = 3


def stale_after_seconds() -> int:
    """A running run whose heartbeat is older than this has lost its worker (FMGOV_EVALUATION_STALE_SECONDS)."""
    return int(
        getattr(settings, "FMGOV_EVALUATION_STALE_SECONDS", 0) or _env_int("FMGOV_EVALUATION_STALE_SECONDS", 120)
    )


def hard_limit_seconds() -> int:
    """Past this a running run is failed by the beat task: the task's hard limit plus a minute of grace."""
    return int(getattr(settings, "CELERY_TASK_TIME_LIMIT", 1800)) + 60


def _env_int(name: str, default: int) -> int:
    import os

    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


def _ensure_engineer(actor: Actor) -> None:
    if not has_role(actor, Role.ENGINEER, Role.ADMIN):
        raise NotAllowed("Only engineers and admins may do this.")


def _ensure_owner_or_admin(actor: Actor, owner_id: int | None, what: str) -> None:
    if has_role(actor, Role.ADMIN):
        return
    if owner_id != getattr(actor, "pk", None):
        raise NotAllowed(f"Only the owner of the {what} or an admin may do this.")


def _enqueue(task, *args: Any) -> None:
    """``enqueue_on_commit`` looked up on the package, so patching ``services.enqueue_on_commit`` still works."""
    from fmgov.evaluations import services

    services.enqueue_on_commit(task, *args)


def _ensure_deployment_owner(actor: Actor, deployment, *, doing: str) -> None:
    """Only the deployment's owner (an engineer) or an admin acts on its evaluations and evidence."""
    if has_role(actor, Role.ADMIN):
        return
    _ensure_engineer(actor)
    if getattr(actor, "pk", None) != deployment.owner_id:
        raise NotAllowed(f"Only the owner of deployment {deployment} or an admin may {doing}.")
