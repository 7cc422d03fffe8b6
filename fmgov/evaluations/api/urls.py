from rest_framework.routers import DefaultRouter

from fmgov.evaluations.api.views import (
    EvidenceLinkViewSet,
    FindingViewSet,
    RunViewSet,
    ScheduleViewSet,
    SuiteRequirementViewSet,
    SuiteViewSet,
)

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("evaluation-suites", SuiteViewSet, basename="evaluation-suite")
router.register("evaluation-schedules", ScheduleViewSet, basename="evaluation-schedule")
router.register("evaluation-runs", RunViewSet, basename="evaluation-run")
router.register("findings", FindingViewSet, basename="finding")
router.register("evaluation-evidence", EvidenceLinkViewSet, basename="evaluation-evidence")
router.register("evaluation-suite-requirements", SuiteRequirementViewSet, basename="evaluation-suite-requirement")
urlpatterns = router.urls
