"""Evaluation suites, schedules, runs, their metrics and evidence links.

A suite names an evaluator, its configuration and the board's thresholds; a
schedule runs a suite against a deployment on a cron (mirrored by a
django-celery-beat ``PeriodicTask``); a run is one execution, watched through
its state, progress and heartbeat; a metric row is written once per
(run, name); a breached threshold opens a finding (``fmgov.findings``).
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from audits.base import AuditedModel
from audits.models import AppendOnlyModel
from fmgov.evaluations.choices import RunState

#: The task id an imported results file's run carries in place of a Celery task's.
UPLOAD_TASK_ID = "import"

__all__ = [
    "EvaluationSuite",
    "EvaluationSchedule",
    "EvaluationRun",
    "RunMetric",
    "SuiteRequirement",
    "EvidenceLink",
]


class EvaluationSuite(AuditedModel):
    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    evaluator = models.CharField(_("evaluator"), max_length=60)
    config = models.JSONField(_("configuration"), default=dict, blank=True)
    thresholds = models.JSONField(_("thresholds"), default=dict, blank=True)
    concurrency = models.PositiveSmallIntegerField(
        _("concurrent requests"), default=4, validators=[MinValueValidator(1), MaxValueValidator(64)]
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="evaluation_suites")

    class Meta:
        verbose_name = _("evaluation suite")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EvaluationSchedule(AuditedModel):
    suite = models.ForeignKey(EvaluationSuite, on_delete=models.PROTECT, related_name="schedules")
    deployment = models.ForeignKey("registry.Deployment", on_delete=models.PROTECT, related_name="evaluation_schedules")
    cron = models.CharField(_("cron (m h dom mon dow, UTC)"), max_length=100)
    enabled = models.BooleanField(_("enabled"), default=True)
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="evaluation_schedule",
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="evaluation_schedules")

    class Meta:
        verbose_name = _("evaluation schedule")
        ordering = ["suite__name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["suite", "deployment"], name="evaluation_schedule_suite_deployment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.suite} on {self.deployment} ({self.cron})"

    @property
    def periodic_task_name(self) -> str:
        return f"evaluation-schedule-{self.pk}"


class EvaluationRun(AuditedModel):
    suite = models.ForeignKey(EvaluationSuite, on_delete=models.PROTECT, related_name="runs")
    deployment = models.ForeignKey("registry.Deployment", on_delete=models.PROTECT, related_name="evaluation_runs")
    schedule = models.ForeignKey(
        EvaluationSchedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="evaluation_runs"
    )
    state = models.CharField(_("state"), max_length=20, choices=RunState.choices, default=RunState.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0, validators=[MaxValueValidator(100)])
    evaluator = models.CharField(_("evaluator"), max_length=60)
    config = models.JSONField(_("configuration used"), default=dict, blank=True)
    thresholds = models.JSONField(_("thresholds used"), default=dict, blank=True)
    concurrency = models.PositiveSmallIntegerField(_("concurrent requests"), default=4)
    passed = models.BooleanField(_("all thresholds passed"), null=True, blank=True)
    samples = models.JSONField(_("sample of prompts and outputs"), default=list, blank=True)
    details = models.JSONField(_("details (method, assumptions, versions)"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    task_id = models.CharField(_("Celery task id"), max_length=255, blank=True)
    worker = models.CharField(_("worker"), max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # An uploaded results file is evidence, but satisfies a policy's required suite only once an admin accepts it.
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField(_("upload accepted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("evaluation run")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "heartbeat_at"]),
            models.Index(fields=["deployment", "suite", "-finished_at"]),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.suite_id} on {self.deployment_id} ({self.state})"

    @property
    def is_upload(self) -> bool:
        """Imported from a results file (``run_import_results``), not run by a worker."""
        return self.task_id == UPLOAD_TASK_ID

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class RunMetric(AppendOnlyModel):
    """One metric of one run, written once and never changed (reports and gates judge the run by it).

    The unique constraint is what makes a run's results write exactly once.
    """

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="metrics")
    name = models.CharField(_("name"), max_length=200)
    value = models.FloatField(_("value"), null=True, blank=True)  # null: n too small for what it claims
    n = models.PositiveIntegerField(_("sample size"), null=True, blank=True)
    ci_low = models.FloatField(_("95% interval, lower bound"), null=True, blank=True)
    ci_high = models.FloatField(_("95% interval, upper bound"), null=True, blank=True)
    method = models.CharField(_("interval method"), max_length=200, blank=True)
    insufficient = models.BooleanField(_("insufficient sample"), default=False)
    higher_is_better = models.BooleanField(_("higher is better"), null=True, blank=True)
    threshold = models.JSONField(_("threshold"), null=True, blank=True)
    passed = models.BooleanField(_("passed"), null=True, blank=True)

    class Meta:
        verbose_name = _("run metric")
        ordering = ["run", "name"]
        constraints = [models.UniqueConstraint(fields=["run", "name"], name="run_metric_run_name_unique")]

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class SuiteRequirement(AuditedModel):
    """A review policy requires a passing run of this suite, younger than ``max_age_days``, before submission."""

    policy = models.ForeignKey("reviews.ReviewPolicy", on_delete=models.CASCADE, related_name="suite_requirements")
    suite = models.ForeignKey(EvaluationSuite, on_delete=models.PROTECT, related_name="policy_requirements")
    max_age_days = models.PositiveIntegerField(
        _("maximum age of the passing run (days)"), default=30, validators=[MinValueValidator(1)]
    )

    class Meta:
        verbose_name = _("required evaluation suite")
        constraints = [models.UniqueConstraint(fields=["policy", "suite"], name="suite_requirement_unique")]

    def __str__(self) -> str:
        return f"{self.policy} requires {self.suite} (≤ {self.max_age_days} days)"


class EvidenceLink(AuditedModel):
    """A run or a finding cited as evidence on a review item (owned here so no file is edited by two apps)."""

    review_item = models.ForeignKey("reviews.ReviewItem", on_delete=models.CASCADE, related_name="evaluation_evidence")
    run = models.ForeignKey(
        EvaluationRun, null=True, blank=True, on_delete=models.PROTECT, related_name="evidence_links"
    )
    finding = models.ForeignKey(
        "findings.Finding", null=True, blank=True, on_delete=models.PROTECT, related_name="evidence_links"
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("evidence link")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(run__isnull=False) & models.Q(finding__isnull=True))
                | (models.Q(run__isnull=True) & models.Q(finding__isnull=False)),
                name="evidence_link_exactly_one_target",
            ),
            models.UniqueConstraint(fields=["review_item", "run"], name="evidence_link_item_run_unique"),
            models.UniqueConstraint(fields=["review_item", "finding"], name="evidence_link_item_finding_unique"),
        ]

    def __str__(self) -> str:
        return f"evidence for item {self.review_item_id}: " + (
            f"run {self.run_id}" if self.run_id else f"finding {self.finding_id}"
        )
