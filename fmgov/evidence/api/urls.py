"""Evidence-file API routes, included under /api/v1/."""

from rest_framework.routers import DefaultRouter

from fmgov.evidence.api.views import (
    AttachmentViewSet,
    IncidentAttachmentViewSet,
    ReviewAttachmentViewSet,
    ReviewItemAttachmentViewSet,
)

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register(r"reviews/(?P<review_pk>[0-9]+)/attachments", ReviewAttachmentViewSet, basename="review-attachment")
router.register(
    r"reviews/(?P<review_pk>[0-9]+)/items/(?P<item_pk>[0-9]+)/attachments",
    ReviewItemAttachmentViewSet,
    basename="review-item-attachment",
)
router.register(
    r"incidents/(?P<incident_pk>[0-9]+)/attachments", IncidentAttachmentViewSet, basename="incident-attachment"
)
router.register("attachments", AttachmentViewSet, basename="attachment")
urlpatterns = [*router.urls]
