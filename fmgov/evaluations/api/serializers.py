"""Serializers: input ones check types per field; business rules are the services' (400 per field too)."""

from rest_framework import serializers

from fmgov.core.exceptions import InvalidInput
from fmgov.core.jsonlimits import JSONTooDeep, loads_bounded
from fmgov.core.uploads import read_upload
from fmgov.evaluations.evaluators import REGISTRY
from fmgov.evaluations.models import (
    EvaluationRun,
    EvaluationSchedule,
    EvaluationSuite,
    EvidenceLink,
    RunMetric,
    SuiteRequirement,
)
from fmgov.evaluations.services import SCHEDULE_FIELDS, SUITE_FIELDS
from fmgov.findings.api.serializers import FindingSerializer as FindingBaseSerializer
from fmgov.registry.models import Deployment

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class EvaluationSuiteSerializer(serializers.ModelSerializer):
    evaluator = serializers.ChoiceField(choices=sorted(REGISTRY))
    config = serializers.JSONField(required=False)
    thresholds = serializers.JSONField(required=False)
    concurrency = serializers.IntegerField(required=False, min_value=1, max_value=64)
    owner = serializers.CharField(source="owner.username", read_only=True)

    class Meta:
        model = EvaluationSuite
        fields = ["id", *SUITE_FIELDS, "owner", "created_at", "updated_at"]
        read_only_fields = ["id", "owner", "created_at", "updated_at"]
        extra_kwargs = {"name": {"validators": []}}  # uniqueness is the service's 400


class EvaluationScheduleSerializer(serializers.ModelSerializer):
    suite = serializers.PrimaryKeyRelatedField(queryset=EvaluationSuite.objects.all())
    deployment = serializers.PrimaryKeyRelatedField(queryset=Deployment.objects.all())
    periodic_task = serializers.SerializerMethodField()
    owner = serializers.CharField(source="owner.username", read_only=True)

    class Meta:
        model = EvaluationSchedule
        fields = ["id", *SCHEDULE_FIELDS, "periodic_task", "owner", "created_at"]
        read_only_fields = ["id", "periodic_task", "owner", "created_at"]
        validators = []  # the (suite, deployment) uniqueness is the service's 400

    def get_periodic_task(self, obj) -> dict | None:
        task = obj.periodic_task
        if task is None:
            return None
        return {"id": task.pk, "name": task.name, "enabled": task.enabled, "last_run_at": task.last_run_at}


class ScheduleUpdateSerializer(serializers.Serializer):
    cron = serializers.CharField(required=False, max_length=100)
    enabled = serializers.BooleanField(required=False)


class RunMetricSerializer(serializers.ModelSerializer):
    class Meta:
        model = RunMetric
        fields = [
            "name",
            "value",
            "n",
            "ci_low",
            "ci_high",
            "method",
            "insufficient",
            "threshold",
            "passed",
            "higher_is_better",
        ]


class EvaluationRunSerializer(serializers.ModelSerializer):
    suite_name = serializers.CharField(source="suite.name", read_only=True)
    deployment_name = serializers.CharField(source="deployment.name", read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True, default=None, allow_null=True)
    metrics = RunMetricSerializer(many=True, read_only=True)
    timings = serializers.SerializerMethodField()

    class Meta:
        model = EvaluationRun
        fields = [
            "id",
            "suite",
            "suite_name",
            "deployment",
            "deployment_name",
            "schedule",
            "state",
            "progress",
            "evaluator",
            "config",
            "thresholds",
            "concurrency",
            "passed",
            "accepted_at",
            "metrics",
            "samples",
            "details",
            "error",
            "attempts",
            "requested_by",
            "timings",
        ]
        read_only_fields = fields

    def get_timings(self, obj) -> dict:
        return {
            "queued_at": obj.queued_at,
            "started_at": obj.started_at,
            "heartbeat_at": obj.heartbeat_at,
            "finished_at": obj.finished_at,
            "duration_seconds": obj.duration_seconds,
        }


class RunRequestSerializer(serializers.Serializer):
    suite = serializers.PrimaryKeyRelatedField(queryset=EvaluationSuite.objects.all())
    deployment = serializers.PrimaryKeyRelatedField(queryset=Deployment.objects.all())


class ResultsUploadSerializer(serializers.Serializer):
    """Either a multipart ``file`` or a JSON ``results`` object, plus the deployment the results are about."""

    deployment = serializers.PrimaryKeyRelatedField(queryset=Deployment.objects.all())
    file = serializers.FileField(required=False)
    results = serializers.JSONField(required=False)

    def validate_file(self, value):
        try:
            content = read_upload(value, max_bytes=MAX_UPLOAD_BYTES, field="file")
        except InvalidInput as exc:
            raise serializers.ValidationError(exc.field_errors["file"])
        try:
            return loads_bounded(content)
        except JSONTooDeep as exc:
            raise serializers.ValidationError(str(exc))
        except ValueError:
            raise serializers.ValidationError("The file is not UTF-8 JSON.")

    def validate(self, attrs):
        if ("file" in attrs) == ("results" in attrs):
            raise serializers.ValidationError({"file": ["Send the results as a file or as a 'results' object, once."]})
        attrs["data"] = attrs.pop("file", None) or attrs.pop("results", None)
        return attrs


# The fields /api/v1/findings/ always answered, in their order; the general ones follow.
LEGACY_FINDING_FIELDS = [
    "id",
    "run",
    "suite",
    "suite_name",
    "deployment",
    "deployment_name",
    "metric",
    "value",
    "threshold",
    "severity",
    "status",
    "note",
    "acknowledged_by",
    "acknowledged_at",
    "resolved_by",
    "resolved_at",
    "created_at",
]


class FindingSerializer(FindingBaseSerializer):
    """The evaluation finding as clients have always read it, then the general fields."""

    run = serializers.IntegerField(source="detail.run", read_only=True)
    suite = serializers.IntegerField(source="detail.suite", read_only=True, default=None)
    suite_name = serializers.CharField(source="detail.suite_name", read_only=True, default="")
    deployment = serializers.IntegerField(source="subject_id", read_only=True)
    deployment_name = serializers.CharField(source="subject_label", read_only=True)
    metric = serializers.CharField(source="detail.metric", read_only=True)
    value = serializers.FloatField(source="detail.value", read_only=True)
    threshold = serializers.JSONField(source="detail.threshold", read_only=True)
    status = serializers.CharField(source="state", read_only=True)
    note = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(source="opened_at", read_only=True)

    class Meta(FindingBaseSerializer.Meta):
        fields = [
            *LEGACY_FINDING_FIELDS,
            *(f for f in FindingBaseSerializer.Meta.fields if f not in LEGACY_FINDING_FIELDS),
        ]
        read_only_fields = fields


class EvidenceLinkSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None, allow_null=True)

    class Meta:
        model = EvidenceLink
        fields = ["id", "review_item", "run", "finding", "note", "created_by", "created_at"]
        read_only_fields = ["id", "created_by", "created_at"]
        validators = []


class SuiteRequirementSerializer(serializers.ModelSerializer):
    max_age_days = serializers.IntegerField(required=False, min_value=1, max_value=3650, default=30)

    class Meta:
        model = SuiteRequirement
        fields = ["id", "policy", "suite", "max_age_days", "created_at"]
        read_only_fields = ["id", "created_at"]
        validators = []
