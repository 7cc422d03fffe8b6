"""Registry pages, one module per entity: inventories with search, filters and sorting; detail pages with lineage."""

from fmgov.registry.views.adaptations import adaptation_create, adaptation_detail, adaptation_edit, adaptation_list_view
from fmgov.registry.views.deployments import (
    deployment_action,
    deployment_create,
    deployment_detail,
    deployment_edit,
    deployment_list_view,
    deployment_revise,
)
from fmgov.registry.views.models import card_import, model_create, model_detail, model_edit, model_list

__all__ = [
    "adaptation_create",
    "adaptation_detail",
    "adaptation_edit",
    "adaptation_list_view",
    "card_import",
    "deployment_action",
    "deployment_create",
    "deployment_detail",
    "deployment_edit",
    "deployment_list_view",
    "deployment_revise",
    "model_create",
    "model_detail",
    "model_edit",
    "model_list",
]
