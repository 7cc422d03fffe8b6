"""Uploaded results (lm-evaluation-harness files) turned into finished runs without a worker.

What an upload stores is scrubbed of credentials first, and the import's audit
event says which kinds were removed (``context["redacted"]``).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from audits.services import audit_record, created
from fmgov.core.actors import Actor
from fmgov.core.exceptions import Conflict, InvalidInput, NotAllowed
from fmgov.core.redaction import redact_mapping
from fmgov.core.roles import Role, has_role
from fmgov.evaluations.choices import RunState
from fmgov.evaluations.evaluators import EvaluationResult, get_evaluator
from fmgov.evaluations.models import UPLOAD_TASK_ID, EvaluationRun, EvaluationSuite
from fmgov.evaluations.services.common import _ensure_deployment_owner
from fmgov.evaluations.services.runs import _new_run, run_complete


def _redacted(result: EvaluationResult) -> tuple[EvaluationResult, tuple[str, ...]]:
    """The result with credentials scrubbed from everything stored, and the kinds found (the audit note).

    The parser already scrubs what it reads; this is the service's own guarantee for any caller.
    """
    metrics, in_metrics = redact_mapping(result.metrics)
    samples, in_samples = redact_mapping(result.samples)
    details, in_details = redact_mapping(result.details)
    higher, _ = redact_mapping(result.higher_is_better)
    kinds = set(in_metrics) | set(in_samples) | set(in_details) | set(result.details.get("redacted") or ())
    details["redacted"] = sorted(kinds)
    cleaned = EvaluationResult(metrics=metrics, samples=samples, details=details, higher_is_better=higher)
    return cleaned, tuple(sorted(kinds))


@transaction.atomic
def run_import_results(
    *, suite: EvaluationSuite, deployment, actor: Actor, result: EvaluationResult, source: str
) -> EvaluationRun:
    """An imported results file becomes a finished run, thresholds and findings included (no worker needed)."""
    _ensure_deployment_owner(actor, deployment, doing="upload evaluation results for it")
    if get_evaluator(suite.evaluator).needs is not None:
        raise InvalidInput(
            "Wrong suite.", field_errors={"suite": ["Only lm_eval_import suites take uploaded results."]}
        )
    result, redacted = _redacted(result)
    run = _new_run(suite=suite, deployment=deployment, actor=actor, schedule=None)
    audit_record(
        action="evaluation_run.import",
        actor=actor,
        obj=run,
        changes=created({"suite": suite.pk, "deployment": deployment.pk, "source": source}),
        context={"metrics": len(result.metrics), "redacted": list(redacted)},
    )
    now = timezone.now()
    run.state, run.task_id, run.started_at, run.heartbeat_at = RunState.RUNNING, UPLOAD_TASK_ID, now, now
    run.attempts = 1
    run.save(update_fields=["state", "task_id", "started_at", "heartbeat_at", "attempts", "updated_at"])
    return run_complete(run_id=run.pk, task_id=UPLOAD_TASK_ID, result=result)


@transaction.atomic
def run_accept_upload(*, run: EvaluationRun, actor: Actor) -> EvaluationRun:
    """An admin vouches for an uploaded results file, so it may satisfy a policy's required suite.

    Until then an upload is evidence a reviewer reads, not a gate: anyone who may upload could fabricate it.
    """
    if not has_role(actor, Role.ADMIN):
        raise NotAllowed("Only admins may accept uploaded results for a policy's required suites.")
    run = EvaluationRun.objects.select_for_update().get(pk=run.pk)
    if not run.is_upload:
        raise Conflict(f"Run {run.pk} was run by a worker, not uploaded; there is nothing to accept.")
    if run.state != RunState.SUCCEEDED:
        raise Conflict(f"Run {run.pk} is {run.state}; only a completed upload can be accepted.")
    if run.accepted_at is not None:
        raise Conflict(f"Run {run.pk} was accepted on {run.accepted_at:%Y-%m-%d} already.")
    run.accepted_by, run.accepted_at = actor, timezone.now()
    run.save(update_fields=["accepted_by", "accepted_at", "updated_at"])
    audit_record(
        action="evaluation_run.accept_upload",
        actor=actor,
        obj=run,
        changes={"accepted_by": [None, actor.pk], "accepted_at": [None, run.accepted_at]},
        context={"suite": run.suite_id, "deployment": run.deployment_id},
    )
    return run
