"""Incident API routes, included under /api/v1/."""

from rest_framework.routers import DefaultRouter

from fmgov.incidents.api.views import IncidentViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("incidents", IncidentViewSet, basename="incident")
urlpatterns = [*router.urls]
