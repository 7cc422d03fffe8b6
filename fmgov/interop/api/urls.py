"""ML-BOM routes, included under /api/v1/ before the registry's router (whose detail pattern would take
``foundation-models/import-ml-bom/`` for a primary key)."""

from django.urls import path

from fmgov.interop.api.views import BomImportView, DeploymentBomView, FoundationModelBomView, PortfolioBomView

urlpatterns = [
    path("deployments/<int:pk>/ml-bom/", DeploymentBomView.as_view(), name="deployment-ml-bom"),
    path("foundation-models/import-ml-bom/", BomImportView.as_view(), name="foundation-model-import-ml-bom"),
    path("foundation-models/<int:pk>/ml-bom/", FoundationModelBomView.as_view(), name="foundation-model-ml-bom"),
    path("portfolio/ml-bom/", PortfolioBomView.as_view(), name="portfolio-ml-bom"),
]
