"""Thin viewsets for suites, schedules, runs, findings, evidence links and policy requirements."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from fmgov.core.api.filters import IdFilter
from fmgov.core.api.permissions import AdminWrites, ReadAnyWriteEngineer
from fmgov.core.exceptions import InvalidInput
from fmgov.core.uploads import MULTIPART_SLACK_BYTES, ensure_body_size
from fmgov.evaluations import selectors, services
from fmgov.evaluations.api import serializers as s
from fmgov.evaluations.choices import RunState
from fmgov.evaluations.evaluators import REGISTRY
from fmgov.evaluations.evaluators.lm_eval_import import parse_lm_eval_results
from fmgov.evaluations.models import EvidenceLink, SuiteRequirement
from fmgov.findings.api.views import FindingViewSetBase
from fmgov.findings.choices import FindingSource, FindingState, Severity
from fmgov.findings.models import Finding


class EvaluatorDescriptionSerializer(serializers.Serializer):
    """What ``Evaluator.describe()`` returns, for the schema."""

    name = serializers.CharField()
    description = serializers.CharField()
    needs = serializers.CharField(allow_null=True)
    metrics = serializers.DictField(child=serializers.DictField())
    dynamic_metrics = serializers.BooleanField()
    config_schema = serializers.DictField()


class SuiteViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Evaluation suites: an evaluator, its configuration and the board's thresholds."""

    serializer_class = s.EvaluationSuiteSerializer
    permission_classes = [ReadAnyWriteEngineer]
    filterset_fields = ["evaluator"]
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at"]

    def get_queryset(self):
        return selectors.suite_list()

    def perform_create(self, serializer):
        serializer.instance = services.suite_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.suite_update(
            suite=serializer.instance, actor=self.request.user, **serializer.validated_data
        )

    @extend_schema(responses={200: EvaluatorDescriptionSerializer(many=True)})
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def evaluators(self, request):
        """Every registered evaluator with its metrics, higher-is-better and config JSON schema."""
        return Response([evaluator.describe() for evaluator in REGISTRY.values()])

    max_body_bytes: int | None = None  # the JSON parser's cap when an action allows more than the default

    @extend_schema(request=s.ResultsUploadSerializer, responses={201: s.EvaluationRunSerializer})
    @action(
        detail=True,
        methods=["post"],
        url_path="upload-results",
        max_body_bytes=s.MAX_UPLOAD_BYTES + MULTIPART_SLACK_BYTES,
    )
    def upload_results(self, request, pk=None):
        """Upload an lm-evaluation-harness results JSON: it becomes a finished run of this suite."""
        ensure_body_size(request, max_bytes=self.max_body_bytes, field="file")  # before the body is read
        suite = self.get_object()
        serializer = s.ResultsUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            result = parse_lm_eval_results(serializer.validated_data["data"])
        except ValueError as exc:
            raise InvalidInput("The results file is not usable.", field_errors={"file": [str(exc)]})
        run = services.run_import_results(
            suite=suite,
            deployment=serializer.validated_data["deployment"],
            actor=request.user,
            result=result,
            source="lm-evaluation-harness upload",
        )
        run = selectors.run_list().get(pk=run.pk)
        return Response(s.EvaluationRunSerializer(run).data, status=status.HTTP_201_CREATED)


class ScheduleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """A suite on a deployment on a cron; each is mirrored by a django-celery-beat periodic task."""

    serializer_class = s.EvaluationScheduleSerializer
    permission_classes = [ReadAnyWriteEngineer]
    filterset_fields = ["suite", "deployment", "enabled"]

    def get_queryset(self):
        return selectors.schedule_list()

    def perform_create(self, serializer):
        serializer.instance = services.schedule_create(actor=self.request.user, **serializer.validated_data)

    def update(self, request, *args, **kwargs):
        schedule = self.get_object()
        serializer = s.ScheduleUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        schedule = services.schedule_update(schedule=schedule, actor=request.user, **serializer.validated_data)
        return Response(s.EvaluationScheduleSerializer(selectors.schedule_list().get(pk=schedule.pk)).data)

    def perform_destroy(self, instance):
        services.schedule_delete(schedule=instance, actor=self.request.user)


class RunFilter(filters.FilterSet):
    state = filters.MultipleChoiceFilter(choices=RunState.choices)

    class Meta:
        model = selectors.EvaluationRun
        fields = ["suite", "deployment", "schedule", "state", "passed", "evaluator"]


class RunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Runs: ``POST {"suite", "deployment"}`` queues one (202); ``cancel/`` stops it."""

    serializer_class = s.EvaluationRunSerializer
    permission_classes = [ReadAnyWriteEngineer]
    filterset_class = RunFilter
    ordering_fields = ["created_at", "finished_at"]

    def get_queryset(self):
        return selectors.run_list()

    @extend_schema(request=s.RunRequestSerializer, responses={202: s.EvaluationRunSerializer})
    def create(self, request):
        serializer = s.RunRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = services.run_request(actor=request.user, **serializer.validated_data)
        run = selectors.run_list().get(pk=run.pk)
        return Response(s.EvaluationRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: s.EvaluationRunSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        run = services.run_cancel(run=self.get_object(), actor=request.user)
        return Response(s.EvaluationRunSerializer(selectors.run_list().get(pk=run.pk)).data)

    @extend_schema(request=None, responses={200: s.EvaluationRunSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """Admins accept an uploaded results file, so it may satisfy a policy's required suite (audited)."""
        run = services.run_accept_upload(run=self.get_object(), actor=request.user)
        return Response(s.EvaluationRunSerializer(selectors.run_list().get(pk=run.pk)).data)


class FindingFilter(filters.FilterSet):
    """The filters evaluation-finding clients use, over the general model."""

    status = filters.MultipleChoiceFilter(field_name="state", choices=FindingState.choices)
    severity = filters.MultipleChoiceFilter(choices=Severity.choices)
    deployment = IdFilter(field_name="subject_id")
    run = IdFilter(field_name="detail__run")
    metric = filters.CharFilter(field_name="detail__metric")

    class Meta:
        model = Finding
        fields = ["deployment", "run", "metric", "status", "severity"]


class FindingViewSet(FindingViewSetBase):
    """Findings opened by breached thresholds; reviewers acknowledge and resolve them."""

    source = FindingSource.EVALUATION
    serializer_class = s.FindingSerializer
    filterset_class = FindingFilter
    ordering_fields = ["created_at", "opened_at", "severity"]


class EvidenceLinkViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Runs and findings cited as evidence on review items."""

    serializer_class = s.EvidenceLinkSerializer
    permission_classes = [ReadAnyWriteEngineer]
    filterset_fields = ["review_item", "review_item__review", "run", "finding"]

    def get_queryset(self):
        return EvidenceLink.objects.select_related("created_by")

    def perform_create(self, serializer):
        serializer.instance = services.evidence_link_create(actor=self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.evidence_link_delete(actor=self.request.user, link=instance)


class SuiteRequirementViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Suites a review policy requires a recent passing run of before a review may be submitted. Admins write."""

    serializer_class = s.SuiteRequirementSerializer
    permission_classes = [AdminWrites]
    filterset_fields = ["policy", "suite"]

    def get_queryset(self):
        return SuiteRequirement.objects.select_related("policy", "suite").order_by("policy_id", "suite__name", "id")

    def perform_create(self, serializer):
        serializer.instance = services.suite_requirement_create(actor=self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.suite_requirement_delete(actor=self.request.user, requirement=instance)


__all__ = [
    "SuiteViewSet",
    "ScheduleViewSet",
    "RunViewSet",
    "FindingViewSet",
    "EvidenceLinkViewSet",
    "SuiteRequirementViewSet",
]
