from rest_framework.routers import DefaultRouter

from reports.api.views import ReportViewSet

router = DefaultRouter(trailing_slash=True)
router.register("reports", ReportViewSet, basename="report")
urlpatterns = router.urls
