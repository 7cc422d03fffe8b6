"""Evidence-file API routes, included under /api/v1/."""

from rest_framework.routers import DefaultRouter

from fmgov.evidence.api.views import (
    AdaptationDocumentationAttachmentViewSet,
    AttachmentViewSet,
    FoundationModelDocumentationAttachmentViewSet,
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
router.register(
    r"foundation-models/(?P<target_pk>[0-9]+)/documentation/attachments",
    FoundationModelDocumentationAttachmentViewSet,
    basename="foundation-model-documentation-attachment",
)
router.register(
    r"adaptations/(?P<target_pk>[0-9]+)/documentation/attachments",
    AdaptationDocumentationAttachmentViewSet,
    basename="adaptation-documentation-attachment",
)
router.register("attachments", AttachmentViewSet, basename="attachment")
urlpatterns = [*router.urls]
