"""What a risk review governs, declared once: what runs is what was approved.

A review approves a deployment's target version and the way it is reached:
the fields in ``GOVERNED_FIELDS``. While the deployment is approved or live
(``FROZEN_STATUSES``) they cannot change; a change is a revision of the
deployment with its own review (``fmgov.registry.services.revisions``). The
reviews app hashes ``governed_values`` into what a sign-off binds, so the
freeze here and the hash there read the same list.

A registered artifact (a model or adaptation version) is fixed in the same
way once anything built on it is approved or live: its ``ARTIFACT_FIELDS``
(and an adaptation's parents) cannot change; a new version ``supersedes`` it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fmgov.core.exceptions import Conflict
from fmgov.registry.choices import DeploymentStatus
from fmgov.registry.models import Adaptation, Deployment, FoundationModel
from fmgov.registry.selectors import deployments_affected_by

__all__ = [
    "GOVERNED_FIELDS",
    "FROZEN_STATUSES",
    "ARTIFACT_FIELDS",
    "LINEAGE_FIELDS",
    "governed_values",
    "governed_changes",
    "ensure_governed_unchanged",
    "artifact_frozen_by",
    "ensure_artifact_unchanged",
]

#: The deployment fields a review covers: the target (model or adaptation), the endpoint (adapter, base URL,
#: model name, credential reference), the environment and the region. Name and expected load are not governed.
GOVERNED_FIELDS: tuple[str, ...] = (
    "foundation_model",
    "adaptation",
    "endpoint_adapter",
    "endpoint_base_url",
    "endpoint_model",
    "endpoint_credential",
    "environment",
    "region",
)

#: Statuses in which the governed fields are frozen: what the board approved is what runs.
FROZEN_STATUSES = frozenset({DeploymentStatus.APPROVED, DeploymentStatus.LIVE})

#: A registered version's facts that deployments built on it were reviewed under.
ARTIFACT_FIELDS: tuple[str, ...] = ("artifact_digest", "license")
#: An adaptation's parents, as the adaptation services name them.
LINEAGE_FIELDS: tuple[str, ...] = ("derived_from_models", "derived_from_adaptations")

_LABELS = {
    "foundation_model": "target",
    "adaptation": "target",
    "endpoint_adapter": "endpoint adapter",
    "endpoint_base_url": "base URL",
    "endpoint_model": "endpoint model",
    "endpoint_credential": "credential",
    "environment": "environment",
    "region": "region",
    "artifact_digest": "artifact digest",
    "license": "licence",
    "derived_from_models": "parents",
    "derived_from_adaptations": "parents",
}


def governed_values(deployment: Deployment) -> dict[str, Any]:
    """The governed fields as stored (foreign keys as ids): the deployment's part of a review's content."""
    return {name: getattr(deployment, Deployment._meta.get_field(name).attname) for name in GOVERNED_FIELDS}


def governed_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The governed fields whose value differs between two ``governed_values`` (a blank filled in counts)."""
    return [name for name in GOVERNED_FIELDS if before.get(name) != after.get(name)]


def _labels(names: Iterable[str]) -> str:
    return ", ".join(dict.fromkeys(_LABELS[name] for name in names))


def ensure_governed_unchanged(deployment: Deployment, changed: list[str]) -> None:
    """Refuse (409) a change of governed fields on an approved or live deployment, saying how to proceed."""
    if not changed or deployment.status not in FROZEN_STATUSES:
        return
    raise Conflict(
        f"Deployment {deployment} is {deployment.status}: its {_labels(changed)} cannot change, because its "
        f"review approved what runs. Propose a change: POST /api/v1/deployments/{deployment.pk}/revisions/ "
        "(or \u201cPropose a change\u201d on its page) creates a revision that goes through its own review "
        "and replaces this deployment when it goes live.",
        field_errors={name: ["Frozen while the deployment is approved or live."] for name in changed},
    )


def artifact_frozen_by(*, model_id: int | None = None, adaptation_id: int | None = None) -> Deployment | None:
    """An approved or live deployment of the version or of anything built on it (the lineage walk), or None."""
    affected = deployments_affected_by(model_id=model_id, adaptation_id=adaptation_id)
    return affected.filter(status__in=FROZEN_STATUSES).order_by("pk").first()


def ensure_artifact_unchanged(record: FoundationModel | Adaptation, changed: list[str]) -> None:
    """Refuse (409) a change of a registered artifact's digest, licence or parents while it is in use."""
    if not changed or record.pk is None:
        return
    is_model = isinstance(record, FoundationModel)
    user = artifact_frozen_by(model_id=record.pk) if is_model else artifact_frozen_by(adaptation_id=record.pk)
    if user is None:
        return
    endpoint = "foundation-models" if is_model else "adaptations"
    raise Conflict(
        f"{record} is registered and deployment {user} built on it is {user.status}: its {_labels(changed)} "
        f"cannot change. Register a new version that supersedes it (POST /api/v1/{endpoint}/ with "
        f'"supersedes": {record.pk}) and deploy that through its own review.',
        field_errors={name: ["Fixed while anything built on this version is approved or live."] for name in changed},
    )
