"""Retention API routes, included under /api/v1/."""

from rest_framework.routers import DefaultRouter

from fmgov.retention.api.views import RetentionViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("retention", RetentionViewSet, basename="retention")
urlpatterns = [*router.urls]
