from rest_framework.routers import DefaultRouter

from fmgov.reviews.api.views import (
    EnvironmentPolicyViewSet,
    ReviewItemViewSet,
    ReviewPolicyViewSet,
    RiskCategoryViewSet,
    RiskReviewViewSet,
    SignOffViewSet,
)

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("risk-categories", RiskCategoryViewSet, basename="risk-category")
router.register("review-policies", ReviewPolicyViewSet, basename="review-policy")
router.register("environment-policies", EnvironmentPolicyViewSet, basename="environment-policy")
router.register("reviews", RiskReviewViewSet, basename="review")
router.register(r"reviews/(?P<review_pk>[0-9]+)/items", ReviewItemViewSet, basename="review-item")
router.register(r"reviews/(?P<review_pk>[0-9]+)/sign-offs", SignOffViewSet, basename="review-sign-off")
urlpatterns = router.urls
