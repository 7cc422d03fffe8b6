"""Thin viewsets: parse, call a service, answer with the shaped review.

Refusals come from the services as domain exceptions: 403 for the wrong role
or self-approval, 409 for a transition the state does not allow, 400 per field.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from audits.cached_reads import CachedReadsMixin
from fmgov.core.api.permissions import AdminWrites, AnyRole
from fmgov.reviews import services
from fmgov.reviews.api.rows import review_list_data
from fmgov.reviews.api.serializers import (
    EnvironmentPolicySerializer,
    RequestChangesSerializer,
    ReviewItemSerializer,
    ReviewPolicySerializer,
    RevokeSerializer,
    RiskCategorySerializer,
    RiskReviewCreateSerializer,
    RiskReviewSerializer,
    RiskReviewUpdateSerializer,
    SignOffInputSerializer,
    SignOffSerializer,
)
from fmgov.reviews.filters import RiskCategoryFilter, RiskReviewFilter
from fmgov.reviews.models import EnvironmentPolicy, ReviewItem, RiskReview, SignOff
from fmgov.reviews.selectors import (
    review_api_list,
    review_api_relations,
    review_api_rows,
    review_item_list,
    review_policy_list,
    risk_category_list,
    sign_off_list,
)


class RiskCategoryViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The risk taxonomy. Admins add and retire (``retired: true``) categories; nothing is deleted."""

    serializer_class = RiskCategorySerializer
    permission_classes = [AdminWrites]
    filterset_class = RiskCategoryFilter
    search_fields = ["name", "slug", "description"]
    ordering_fields = ["position", "name"]

    def get_queryset(self):
        return risk_category_list()

    def perform_create(self, serializer):
        serializer.instance = services.risk_category_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.risk_category_update(
            category=serializer.instance, actor=self.request.user, **serializer.validated_data
        )


class ReviewPolicyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Review policies: quorum, required groups, validity, required categories. Admins write."""

    serializer_class = ReviewPolicySerializer
    permission_classes = [AdminWrites]
    search_fields = ["name"]

    def get_queryset(self):
        return review_policy_list()

    def perform_create(self, serializer):
        serializer.instance = services.review_policy_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.review_policy_update(
            policy=serializer.instance, actor=self.request.user, **serializer.validated_data
        )


class EnvironmentPolicyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Which policy each environment's reviews fall under; an author may only choose a stricter one. Admins write."""

    serializer_class = EnvironmentPolicySerializer
    permission_classes = [AdminWrites]
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        return EnvironmentPolicy.objects.select_related("policy")

    def perform_create(self, serializer):
        serializer.instance = services.environment_policy_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        policy = serializer.validated_data.get("policy", serializer.instance.policy)
        serializer.instance = services.environment_policy_update(
            rule=serializer.instance, actor=self.request.user, policy=policy
        )

    def perform_destroy(self, instance):
        services.environment_policy_delete(rule=instance, actor=self.request.user)


class RiskReviewViewSet(
    CachedReadsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Risk reviews. ``?state=submitted&awaiting=me`` lists what waits for your sign-off."""

    serializer_class = RiskReviewSerializer
    permission_classes = [AnyRole]
    filterset_class = RiskReviewFilter
    search_fields = ["title", "deployment__name"]
    ordering_fields = ["created_at", "submitted_at", "expires_at", "state"]

    def get_queryset(self):
        return review_api_list()

    def list(self, request, *args, **kwargs):
        """Cached under the trail head (``CachedReadsMixin``): a review's every field comes from audited models."""
        return self._cached_answer(request, self._page_from_rows, *args, **kwargs)

    def _page_from_rows(self, request, *args, **kwargs):
        """The page from plain rows (``review_list_data``): the same answer as the serializer's, several times
        cheaper to build."""
        queryset = review_api_rows(self.filter_queryset(self.get_queryset()))
        page = self.paginate_queryset(queryset)
        rows = list(queryset if page is None else page)
        data = review_list_data(rows, review_api_relations(rows))
        return Response(data) if page is None else self.get_paginated_response(data)

    def _answer(self, review: RiskReview, code: int = status.HTTP_200_OK) -> Response:
        review = review_api_list().get(pk=review.pk)
        return Response(RiskReviewSerializer(review, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=RiskReviewCreateSerializer, responses={201: RiskReviewSerializer})
    def create(self, request, *args, **kwargs):
        data = RiskReviewCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = services.review_create(actor=request.user, **data.validated_data)
        return self._answer(review, status.HTTP_201_CREATED)

    @extend_schema(request=RiskReviewUpdateSerializer, responses=RiskReviewSerializer)
    def update(self, request, *args, **kwargs):
        review = self.get_object()
        data = RiskReviewUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        data.is_valid(raise_exception=True)
        return self._answer(services.review_update(review=review, actor=request.user, **data.validated_data))

    @extend_schema(request=None, responses=RiskReviewSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Hash the content and put the review before the board."""
        return self._answer(services.review_submit(review=self.get_object(), actor=request.user))

    @extend_schema(request=RequestChangesSerializer, responses=RiskReviewSerializer)
    @action(detail=True, methods=["post"], url_path="request-changes")
    def request_changes(self, request, pk=None):
        data = RequestChangesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = services.review_request_changes(review=self.get_object(), actor=request.user, **data.validated_data)
        return self._answer(review)

    @extend_schema(request=RevokeSerializer, responses=RiskReviewSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Admins withdraw an approval; the deployment loses it too."""
        data = RevokeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(services.review_revoke(review=self.get_object(), actor=request.user, **data.validated_data))


class _ReviewChildMixin:
    def get_review(self) -> RiskReview:
        if not hasattr(self, "_review"):
            self._review = get_object_or_404(
                RiskReview.objects.select_related("deployment"), pk=self.kwargs["review_pk"]
            )
        return self._review


class ReviewItemViewSet(_ReviewChildMixin, viewsets.ModelViewSet):
    """The review's risk register. Changing a submitted review voids its sign-offs and returns it to draft."""

    serializer_class = ReviewItemSerializer
    permission_classes = [AnyRole]
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no review in the URL
            return ReviewItem.objects.none()
        return review_item_list(self.get_review().pk)

    def perform_create(self, serializer):
        serializer.instance = services.review_item_create(
            review=self.get_review(), actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.review_item_update(
            item=serializer.instance, actor=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.review_item_delete(item=instance, actor=self.request.user)


class SignOffViewSet(_ReviewChildMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sign-offs are recorded once and never changed; an edit of the review marks them void."""

    serializer_class = SignOffSerializer
    permission_classes = [AnyRole]
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SignOff.objects.none()
        return sign_off_list(self.get_review().pk)

    @extend_schema(request=SignOffInputSerializer, responses={201: SignOffSerializer})
    def create(self, request, *args, **kwargs):
        data = SignOffInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sign_off = services.sign_off_create(review=self.get_review(), actor=request.user, **data.validated_data)
        return Response(SignOffSerializer(sign_off).data, status=status.HTTP_201_CREATED)
