"""Writes to the registry. Each service is atomic and records its audit event.

The event is written in the same transaction as the change, with before/after
values, so the change and its record commit together or not at all. Services
check roles and ownership themselves, because API views, UI views, admin
actions and commands all call them.

The services live in one module per concern (``foundation_models``,
``adaptations`` with the lineage DAG, ``deployments`` with the status
workflow, ``revisions`` for changing what an approved one governs, ``cards``
for model-card import, ``credentials`` and ``local_models`` for what admins
allow the workers to use); this package re-exports them so
callers write ``from fmgov.registry import services``. A test that replaces a
name a service uses (``audit_record``, say) patches it on the submodule that
uses it: the package holds only the re-exported services.
"""

from fmgov.registry.services import deployments
from fmgov.registry.services._common import IMPORT_ONLY_FIELDS
from fmgov.registry.services.adaptations import ADAPTATION_FIELDS, PARENT_KEYS, adaptation_create, adaptation_update
from fmgov.registry.services.cards import CardImport, model_card_import
from fmgov.registry.services.credentials import (
    endpoint_credential_create,
    endpoint_credential_deactivate,
    endpoint_credential_update,
)
from fmgov.registry.services.deployments import *  # noqa: F403  (its __all__ is part of ours)
from fmgov.registry.services.foundation_models import (
    FOUNDATION_MODEL_FIELDS,
    foundation_model_create,
    foundation_model_update,
)
from fmgov.registry.services.local_models import local_model_create, local_model_deactivate, local_model_update
from fmgov.registry.services.revisions import deployment_revision_create

__all__ = [
    "FOUNDATION_MODEL_FIELDS",
    "ADAPTATION_FIELDS",
    "IMPORT_ONLY_FIELDS",
    "PARENT_KEYS",
    "endpoint_credential_create",
    "endpoint_credential_update",
    "endpoint_credential_deactivate",
    "local_model_create",
    "local_model_update",
    "local_model_deactivate",
    "foundation_model_create",
    "foundation_model_update",
    "adaptation_create",
    "adaptation_update",
    *deployments.__all__,
    "deployment_revision_create",
    "CardImport",
    "model_card_import",
]
