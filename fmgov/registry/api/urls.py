"""Registry API routes, included under /api/v1/."""

from rest_framework.routers import DefaultRouter

from fmgov.registry.api.credentials import EndpointCredentialViewSet, LocalModelViewSet
from fmgov.registry.api.views import AdaptationViewSet, DeploymentViewSet, FoundationModelViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("foundation-models", FoundationModelViewSet, basename="foundation-model")
router.register("adaptations", AdaptationViewSet, basename="adaptation")
router.register("deployments", DeploymentViewSet, basename="deployment")
router.register("endpoint-credentials", EndpointCredentialViewSet, basename="endpoint-credential")
router.register("local-models", LocalModelViewSet, basename="local-model")
urlpatterns = router.urls
