"""Uploaded results (lm-evaluation-harness files) turned into finished runs without a worker."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from audits.services import audit_record
from fmgov.core.exceptions import InvalidInput
from fmgov.evaluations.choices import RunState
from fmgov.evaluations.evaluators import EvaluationResult, get_evaluator
from fmgov.evaluations.models import EvaluationRun, EvaluationSuite
from fmgov.evaluations.services.common import _ensure_engineer
from fmgov.evaluations.services.runs import _new_run, run_complete


@transaction.atomic
def run_import_results(
    *, suite: EvaluationSuite, deployment, actor, result: EvaluationResult, source: str
) -> EvaluationRun:
    """An imported results file becomes a finished run, thresholds and findings included (no worker needed)."""
    _ensure_engineer(actor)
    if get_evaluator(suite.evaluator).needs is not None:
        raise InvalidInput(
            "Wrong suite.", field_errors={"suite": ["Only lm_eval_import suites take uploaded results."]}
        )
    run = _new_run(suite=suite, deployment=deployment, actor=actor, schedule=None)
    audit_record(
        action="evaluation_run.import",
        actor=actor,
        obj=run,
        changes={"suite": suite.pk, "deployment": deployment.pk, "source": source, "metrics": len(result.metrics)},
    )
    now = timezone.now()
    run.state, run.task_id, run.started_at, run.heartbeat_at, run.attempts = RunState.RUNNING, "import", now, now, 1
    run.save(update_fields=["state", "task_id", "started_at", "heartbeat_at", "attempts", "updated_at"])
    return run_complete(run_id=run.pk, task_id="import", result=result)
