"""Evaluation suites: what an evaluator runs, with its config, thresholds and concurrency."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from audits.services import audit_record, created, diff, snapshot
from fmgov.core.actors import Actor
from fmgov.core.exceptions import InvalidInput
from fmgov.core.roles import Role, has_role
from fmgov.evaluations.evaluators import REGISTRY, config_errors, get_evaluator, threshold_errors
from fmgov.evaluations.models import EvaluationSuite
from fmgov.evaluations.services.common import _ensure_engineer, _ensure_owner_or_admin
from fmgov.evaluations.services.evidence import ensure_may_change_suite
from fmgov.registry.choices import adapters_with
from fmgov.registry.models import Deployment

# The one list of a suite's writable fields, in display order: the API serializer and the page form derive theirs.
SUITE_FIELDS = ("name", "evaluator", "description", "config", "thresholds", "concurrency")


def _validate_suite_fields(fields: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    name = fields.get("evaluator")
    if name not in REGISTRY:
        errors["evaluator"] = [f"Unknown evaluator {name!r}; choose one of {', '.join(sorted(REGISTRY))}."]
        raise InvalidInput("The suite is not valid.", field_errors=errors)
    evaluator = get_evaluator(name)
    if problems := config_errors(evaluator, fields.get("config", {})):
        errors["config"] = problems
    if problems := threshold_errors(evaluator, fields.get("thresholds", {})):
        errors["thresholds"] = problems
    concurrency = fields.get("concurrency", 4)
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 1 <= concurrency <= 64:
        errors["concurrency"] = ["Give a whole number of concurrent requests from 1 to 64."]
    if not str(fields.get("name", "")).strip():
        errors["name"] = ["Give the suite a name."]
    if errors:
        raise InvalidInput("The suite is not valid.", field_errors=errors)


def _check_judge(actor: Actor, config: dict[str, Any]) -> None:
    """A judge model is a chat deployment the suite's author owns (or any, for an admin): naming one sends
    every reply of every run to its endpoint, with its credential, so nobody borrows another owner's."""
    judge_id = config.get("judge_deployment")
    if judge_id is None:
        return
    judge = Deployment.objects.filter(pk=judge_id).first()
    problem = None
    if judge is None:
        problem = f"judge_deployment: there is no deployment {judge_id}."
    elif judge.endpoint_adapter not in adapters_with("chat"):
        problem = f"judge_deployment: deployment {judge} has no chat endpoint ({judge.endpoint_adapter!r})."
    elif not has_role(actor, Role.ADMIN) and judge.owner_id != getattr(actor, "pk", None):
        problem = f"judge_deployment: only the owner of deployment {judge} or an admin may use it as a judge."
    if problem:
        raise InvalidInput("The suite is not valid.", field_errors={"config": [problem]})


@transaction.atomic
def suite_create(
    *,
    actor: Actor,
    name: str,
    evaluator: str,
    config: dict | None = None,
    thresholds: dict | None = None,
    concurrency: int = 4,
    description: str = "",
) -> EvaluationSuite:
    _ensure_engineer(actor)
    fields = {
        "name": name,
        "evaluator": evaluator,
        "config": {} if config is None else config,
        "thresholds": {} if thresholds is None else thresholds,
        "concurrency": concurrency,
        "description": description,
    }
    _validate_suite_fields(fields)
    _check_judge(actor, fields["config"])
    if EvaluationSuite.objects.filter(name=name).exists():
        raise InvalidInput("The suite is not valid.", field_errors={"name": ["A suite with this name exists."]})
    suite = EvaluationSuite.objects.create(owner=actor, **fields)
    audit_record(action="evaluation_suite.create", actor=actor, obj=suite, changes=created(snapshot(suite)))
    return suite


@transaction.atomic
def suite_update(*, suite: EvaluationSuite, actor: Actor, **fields: Any) -> EvaluationSuite:
    _ensure_engineer(actor)
    suite = EvaluationSuite.objects.select_for_update().get(pk=suite.pk)
    _ensure_owner_or_admin(actor, suite.owner_id, "suite")
    ensure_may_change_suite(actor, suite)
    unknown = set(fields) - set(SUITE_FIELDS)
    if unknown:
        raise InvalidInput("Unknown fields.", field_errors={f: ["This field cannot be changed."] for f in unknown})
    before = snapshot(suite)
    merged = {f: fields.get(f, getattr(suite, f)) for f in SUITE_FIELDS}
    _validate_suite_fields(merged)
    if "config" in fields:
        _check_judge(actor, merged["config"])
    if "name" in fields and EvaluationSuite.objects.filter(name=fields["name"]).exclude(pk=suite.pk).exists():
        raise InvalidInput("The suite is not valid.", field_errors={"name": ["A suite with this name exists."]})
    for field, value in fields.items():
        setattr(suite, field, value)
    suite.save()
    audit_record(action="evaluation_suite.update", actor=actor, obj=suite, changes=diff(before, snapshot(suite)))
    return suite
