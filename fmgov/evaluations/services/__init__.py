"""Writes for suites, schedules, runs and evidence: atomic, audited, one function per action.

Acknowledging and resolving findings is ``fmgov.findings.services`` (one workflow for every source).

Run lifecycle (``run_execute`` drives a claimed run in the worker):

    run_request → queued ─ run_claim → running ─ run_complete → succeeded
                     │                     ├──── run_fail → failed
                     └─ run_cancel ────────┴──── run_cancel → cancelled

``run_claim`` and ``run_complete`` are where exactly-once lives: a run is
claimed by one Celery message at a time (the same message redelivered after
its worker died may take it over; another message only once the heartbeat is
stale), and only the current claim holder may write its results, once, under
the ``(run, name)`` unique constraint on metrics.

The writers live in one module per concern; import them from here
(``from fmgov.evaluations import services``), which is also where tests patch
``enqueue_on_commit``:

    common     system actor, attempt and time limits, role checks
    suites     suite_create, suite_update
    schedules  schedule_create, schedule_update, schedule_delete (and their beat rows)
    runs       run_request, run_cancel, run_claim, run_progress, run_fail, run_complete
    execution  run_execute: claim, evaluate with a heartbeat, record once (what the worker task calls)
    findings   the findings.Finding a breach opens, and the lineage revocation it triggers
    imports    run_import_results, run_accept_upload (an admin lets an upload satisfy required suites)
    sweeps     runs_requeue_orphaned, runs_fail_stuck
    evidence   evidence links and the suites a review policy requires
"""

from fmgov.core.tasks_util import enqueue_on_commit as enqueue_on_commit
from fmgov.evaluations.services.common import MAX_ATTEMPTS as MAX_ATTEMPTS
from fmgov.evaluations.services.common import SYSTEM as SYSTEM
from fmgov.evaluations.services.common import hard_limit_seconds, stale_after_seconds
from fmgov.evaluations.services.evidence import (
    evidence_link_create,
    evidence_link_delete,
    suite_requirement_create,
    suite_requirement_delete,
)
from fmgov.evaluations.services.execution import run_execute
from fmgov.evaluations.services.imports import run_accept_upload, run_import_results
from fmgov.evaluations.services.runs import _new_run as _new_run
from fmgov.evaluations.services.runs import logger as logger
from fmgov.evaluations.services.runs import (
    run_cancel,
    run_claim,
    run_complete,
    run_fail,
    run_progress,
    run_request,
)
from fmgov.evaluations.services.schedules import RUN_SCHEDULED_TASK as RUN_SCHEDULED_TASK
from fmgov.evaluations.services.schedules import SCHEDULE_FIELDS as SCHEDULE_FIELDS
from fmgov.evaluations.services.schedules import SCHEDULE_UPDATE_FIELDS as SCHEDULE_UPDATE_FIELDS
from fmgov.evaluations.services.schedules import schedule_create, schedule_delete, schedule_update
from fmgov.evaluations.services.suites import SUITE_FIELDS as SUITE_FIELDS
from fmgov.evaluations.services.suites import suite_create, suite_update
from fmgov.evaluations.services.sweeps import runs_fail_stuck, runs_requeue_orphaned

__all__ = [
    "suite_create",
    "suite_update",
    "schedule_create",
    "schedule_update",
    "schedule_delete",
    "run_request",
    "run_cancel",
    "run_claim",
    "run_progress",
    "run_complete",
    "run_fail",
    "run_execute",
    "run_import_results",
    "run_accept_upload",
    "runs_requeue_orphaned",
    "runs_fail_stuck",
    "evidence_link_create",
    "evidence_link_delete",
    "suite_requirement_create",
    "suite_requirement_delete",
    "stale_after_seconds",
    "hard_limit_seconds",
]
