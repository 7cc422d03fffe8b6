"""Registry rows (and their audit events) for report tests.

Rows are written with the ORM plus ``audit_record`` in one transaction, the
way services do, so that the dossier's audit-trail section has real,
chained events to show; the registry's own services are being written in
parallel and are not relied on here.
"""

import hashlib

from django.db import transaction

from audits.services import audit_record, created, snapshot
from fmgov.registry.lineage import lineage_parents_written
from fmgov.registry.models import Adaptation, AdaptationParent, Deployment, FoundationModel

MODEL_CARD = """# Model card

Atlas is a **decoder-only** language model.

## Evaluation

| Benchmark | Score |
|---|---|
| MMLU | 71.2 |
| HellaSwag | 84.0 |

- Intended for summarisation
- Not for medical advice
"""


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@transaction.atomic
def make_model(owner, name="Atlas-7B", version="1.0", model_card=MODEL_CARD, **extra) -> FoundationModel:
    model = FoundationModel.objects.create(
        name=name,
        version=version,
        provider=extra.pop("provider", "Example Labs"),
        modality="text",
        access="open_weights",
        license="apache-2.0",
        parameter_count=7_000_000_000,
        architecture="decoder-only transformer",
        artifact_digest=digest(f"{name}:{version}"),
        model_card=model_card,
        training_energy_kwh=extra.pop("training_energy_kwh", 120000.0),
        owner=owner,
        **extra,
    )
    audit_record(action="foundation_model.create", actor=owner, obj=model, changes=created(snapshot(model)))
    return model


@transaction.atomic
def make_adaptation(owner, parents, name="Atlas-support", version="1", kind="lora") -> Adaptation:
    adaptation = Adaptation.objects.create(
        name=name,
        version=version,
        kind=kind,
        purpose="Customer-support answers",
        artifact_digest=digest(f"{name}:{version}"),
        owner=owner,
    )
    audit_record(action="adaptation.create", actor=owner, obj=adaptation, changes=created(snapshot(adaptation)))
    for parent in parents:
        field = "parent_model" if isinstance(parent, FoundationModel) else "parent_adaptation"
        edge = AdaptationParent.objects.create(child=adaptation, **{field: parent})
        audit_record(action="adaptation.add_parent", actor=owner, obj=edge, changes={"parent": [None, str(parent)]})
    lineage_parents_written(adaptation.pk)  # the stored roots, as the adaptation services keep them
    return adaptation


@transaction.atomic
def make_deployment(owner, target, name="support-bot", environment="production", status="proposed") -> Deployment:
    field = "foundation_model" if isinstance(target, FoundationModel) else "adaptation"
    deployment = Deployment.objects.create(
        name=name, environment=environment, owner=owner, status=status, region="eu-west-1", **{field: target}
    )
    audit_record(action="deployment.create", actor=owner, obj=deployment, changes=created(snapshot(deployment)))
    return deployment


@transaction.atomic
def set_status(deployment: Deployment, status: str, actor) -> Deployment:
    from django.utils import timezone

    before = deployment.status
    deployment.status = status
    fields = ["status", "updated_at"]
    if status == "live":
        deployment.went_live_at = timezone.now()
        fields.append("went_live_at")
    deployment.save(update_fields=fields)
    audit_record(action=f"deployment.{status}", actor=actor, obj=deployment, changes={"status": [before, status]})
    return deployment


def approved_review_with_void_sign_off(deployment, *, author, reviewers):
    """A review approved on its second submission; the first submission's sign-off is void.

    Goes through the reviews app's services, as every real caller does.
    """
    from fmgov.reviews import services
    from fmgov.reviews.models import ReviewPolicy, RiskCategory

    policy = ReviewPolicy.objects.create(name=f"Report test policy {deployment.pk}", quorum=2, validity_days=90)
    review = services.review_create(deployment=deployment, actor=author, policy=policy, title="Launch review")
    # Transactional tests flush the taxonomy the reviews migration seeds; make sure two categories exist.
    categories = [
        RiskCategory.objects.get_or_create(name=name, defaults={"slug": slug, "position": i})[0]
        for i, (slug, name) in enumerate([("harmful-content", "Generation of harmful content"),
                                          ("bias", "Misrepresentation and bias")])
    ]  # fmt: skip
    services.review_item_create(
        review=review, actor=author, category=categories[0], description="Invents refund policies.",
        likelihood=4, severity=3, residual_likelihood=2, residual_severity=3,
        mitigation="Retrieval over the policy corpus.", evidence=["Red-team session: 3/200 failures"],
    )  # fmt: skip
    review = services.review_submit(review=review, actor=author)
    first = services.sign_off_create(review=review, actor=reviewers[0], decision="approve", comment="Fine.")
    # Editing the submitted review voids that sign-off and returns it to draft.
    services.review_item_create(
        review=review, actor=author, category=categories[1], description="Stereotyped answers for some names.",
        likelihood=3, severity=4, residual_likelihood=2, residual_severity=2, mitigation="Counterfactual tests.",
    )  # fmt: skip
    review.refresh_from_db()
    review = services.review_submit(review=review, actor=author)
    second = services.sign_off_create(
        review=review, actor=reviewers[0], decision="approve", comment="Approved.", conditions="Re-test monthly."
    )
    third = services.sign_off_create(review=review, actor=reviewers[1], decision="approve", comment="Agreed.")
    first.refresh_from_db()
    review.refresh_from_db()
    return review, [first, second, third]


def evaluation_history(deployment, *, actor, values: list[dict[str, float]], thresholds: dict | None = None):
    """One imported evaluation run per entry of ``values``, through the evaluations app's services.

    A value that breaches its threshold opens a finding (and revokes approvals downstream), as in production.
    """
    from fmgov.evaluations import services
    from fmgov.evaluations.evaluators import EvaluationResult

    suite = services.suite_create(
        actor=actor,
        name=f"Benchmarks for {deployment.name}",
        evaluator="lm_eval_import",
        thresholds=thresholds if thresholds is not None else {"mmlu:acc": {"op": ">=", "value": 0.6}},
    )
    runs = [
        services.run_import_results(
            suite=suite,
            deployment=deployment,
            actor=actor,
            result=EvaluationResult(metrics=metrics, higher_is_better=dict.fromkeys(metrics, True)),
            source=f"results-{i}.json",
        )
        for i, metrics in enumerate(values)
    ]
    return suite, runs
