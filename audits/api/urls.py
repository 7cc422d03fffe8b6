from rest_framework.routers import DefaultRouter

from audits.api.views import AuditEventViewSet

router = DefaultRouter(trailing_slash=True)
router.register("audit-events", AuditEventViewSet, basename="audit-event")
urlpatterns = router.urls
