"""Evaluation suites: what an evaluator runs, with its config, thresholds and concurrency."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from audits.services import audit_record, created, diff, snapshot
from fmgov.core.actors import Actor
from fmgov.core.exceptions import InvalidInput
from fmgov.evaluations.evaluators import REGISTRY, config_errors, get_evaluator, threshold_errors
from fmgov.evaluations.models import EvaluationSuite
from fmgov.evaluations.services.common import _ensure_engineer, _ensure_owner_or_admin

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
    unknown = set(fields) - set(SUITE_FIELDS)
    if unknown:
        raise InvalidInput("Unknown fields.", field_errors={f: ["This field cannot be changed."] for f in unknown})
    before = snapshot(suite)
    merged = {f: fields.get(f, getattr(suite, f)) for f in SUITE_FIELDS}
    _validate_suite_fields(merged)
    if "name" in fields and EvaluationSuite.objects.filter(name=fields["name"]).exclude(pk=suite.pk).exists():
        raise InvalidInput("The suite is not valid.", field_errors={"name": ["A suite with this name exists."]})
    for field, value in fields.items():
        setattr(suite, field, value)
    suite.save()
    audit_record(action="evaluation_suite.update", actor=actor, obj=suite, changes=diff(before, snapshot(suite)))
    return suite
