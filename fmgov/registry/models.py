"""Foundation models, adaptations (a lineage DAG) and deployments.

Each row of FoundationModel and Adaptation is one *version* (name + version is
unique); reviews, deployments and evaluations target a version. The lineage is
stored as edges in AdaptationParent: a child adaptation and exactly one parent,
either a foundation model or another adaptation.
"""

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audits.base import AuditedModel
from fmgov.registry.choices import (
    Access,
    AdaptationKind,
    CredentialSource,
    DeploymentStatus,
    EndpointAdapter,
    Environment,
    Modality,
)

sha256_validator = RegexValidator(r"^[0-9a-f]{64}$", _("Enter a SHA-256 digest: 64 lowercase hexadecimal characters."))
CREDENTIAL_ENV_PREFIX = "FMGOV_CREDENTIAL_"
credential_env_validator = RegexValidator(
    rf"^{CREDENTIAL_ENV_PREFIX}[A-Z0-9_]+$",
    _("Give the NAME of a worker environment variable starting with FMGOV_CREDENTIAL_ (A-Z, 0-9, _)."),
)
registry_name_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._/-]*$", _("Use letters, digits and . _ / - (starting with a letter or digit).")
)


class FoundationModel(AuditedModel):
    name = models.CharField(_("name"), max_length=200)
    version = models.CharField(_("version"), max_length=100, default="1")
    provider = models.CharField(_("provider"), max_length=200, db_index=True)
    modality = models.CharField(_("modality"), max_length=20, choices=Modality.choices)
    license = models.CharField(_("licence"), max_length=100, blank=True, db_index=True)
    access = models.CharField(_("access"), max_length=20, choices=Access.choices)
    parameter_count = models.BigIntegerField(
        _("parameter count"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    architecture = models.CharField(_("architecture"), max_length=200, blank=True)
    release_date = models.DateField(_("release date"), null=True, blank=True)
    artifact_digest = models.CharField(
        _("artifact digest (SHA-256)"), max_length=64, blank=True, validators=[sha256_validator]
    )
    hf_repo_id = models.CharField(_("Hugging Face repo id"), max_length=200, blank=True, db_index=True)
    intended_uses = models.TextField(_("intended uses"), blank=True)
    out_of_scope_uses = models.TextField(_("out-of-scope uses"), blank=True)
    training_data_summary = models.TextField(_("training data summary"), blank=True)
    training_compute_flop = models.FloatField(
        _("training compute (FLOP)"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    training_energy_kwh = models.FloatField(
        _("training energy (kWh)"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    training_emissions_tco2e = models.FloatField(
        _("training emissions (tCO2e)"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    model_card = models.TextField(_("model card (Markdown)"), blank=True)
    model_card_metadata = models.JSONField(_("model card metadata"), default=dict, blank=True)
    supersedes = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="foundation_models")

    class Meta:
        verbose_name = _("foundation model")
        ordering = ["name", "version"]
        constraints = [models.UniqueConstraint(fields=["name", "version"], name="foundation_model_name_version_unique")]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class Adaptation(AuditedModel):
    name = models.CharField(_("name"), max_length=200)
    version = models.CharField(_("version"), max_length=100, default="1")
    kind = models.CharField(_("kind"), max_length=30, choices=AdaptationKind.choices)
    purpose = models.TextField(_("purpose"), blank=True)
    data_summary = models.TextField(_("data used"), blank=True)
    artifact_digest = models.CharField(
        _("artifact digest (SHA-256)"), max_length=64, blank=True, validators=[sha256_validator]
    )
    hf_repo_id = models.CharField(_("Hugging Face repo id"), max_length=200, blank=True)
    license = models.CharField(_("licence"), max_length=100, blank=True)
    model_card = models.TextField(_("model card (Markdown)"), blank=True)
    model_card_metadata = models.JSONField(_("model card metadata"), default=dict, blank=True)
    supersedes = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
        verbose_name=_("supersedes"),
        help_text=_("The version this one replaces: a registered artifact is never edited, it is superseded."),
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="adaptations")

    class Meta:
        verbose_name = _("adaptation")
        ordering = ["name", "version"]
        constraints = [models.UniqueConstraint(fields=["name", "version"], name="adaptation_name_version_unique")]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"

    # Read from ``parent_edges``, which list selectors prefetch: no query per row.
    @property
    def derived_from_models(self) -> list[int]:
        return sorted(e.parent_model_id for e in self.parent_edges.all() if e.parent_model_id is not None)

    @property
    def derived_from_adaptations(self) -> list[int]:
        return sorted(e.parent_adaptation_id for e in self.parent_edges.all() if e.parent_adaptation_id is not None)


class AdaptationParent(AuditedModel):
    """One lineage edge: ``child`` is derived from a model or from another adaptation."""

    child = models.ForeignKey(Adaptation, on_delete=models.CASCADE, related_name="parent_edges")
    parent_model = models.ForeignKey(
        FoundationModel, null=True, blank=True, on_delete=models.PROTECT, related_name="child_edges"
    )
    parent_adaptation = models.ForeignKey(
        Adaptation, null=True, blank=True, on_delete=models.PROTECT, related_name="child_edges"
    )

    class Meta:
        verbose_name = _("lineage edge")
        constraints = [
            models.CheckConstraint(
                condition=(Q(parent_model__isnull=False) & Q(parent_adaptation__isnull=True))
                | (Q(parent_model__isnull=True) & Q(parent_adaptation__isnull=False)),
                name="adaptation_parent_exactly_one",
            ),
            models.UniqueConstraint(fields=["child", "parent_model"], name="adaptation_parent_model_unique"),
            models.UniqueConstraint(fields=["child", "parent_adaptation"], name="adaptation_parent_adaptation_unique"),
            models.CheckConstraint(condition=~Q(child=models.F("parent_adaptation")), name="adaptation_not_own_parent"),
        ]
        indexes = [models.Index(fields=["parent_adaptation", "child"]), models.Index(fields=["parent_model", "child"])]


class EndpointCredential(AuditedModel):
    """A credential an admin registered: where the workers find its value, and the hosts it may go to.

    The value itself is never readable here: an ``env`` credential names a
    worker environment variable, a ``sealed`` one holds the value encrypted to
    the workers' public key (see ``fmgov.registry.credential_store``).
    """

    name = models.CharField(_("name"), max_length=100, unique=True, validators=[registry_name_validator])
    source = models.CharField(_("source"), max_length=10, choices=CredentialSource.choices)
    env_var = models.CharField(
        _("environment variable"), max_length=100, blank=True, validators=[credential_env_validator]
    )
    sealed_value = models.TextField(_("sealed value"), blank=True, editable=False)
    allowed_hosts = models.JSONField(_("allowed hosts"), default=list)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("endpoint credential")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<EndpointCredential {self.name} ({self.source})>"


class LocalModel(AuditedModel):
    """A local model the workers may load: an installed package or a directory under LOCAL_MODELS_DIR."""

    name = models.CharField(_("name"), max_length=200, unique=True, validators=[registry_name_validator])
    source = models.CharField(
        _("source"), max_length=500, help_text=_("package:<installed module>, or a path under LOCAL_MODELS_DIR.")
    )
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("local model")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Deployment(AuditedModel):
    name = models.CharField(_("name"), max_length=200)
    foundation_model = models.ForeignKey(
        FoundationModel, null=True, blank=True, on_delete=models.PROTECT, related_name="deployments"
    )
    adaptation = models.ForeignKey(
        Adaptation, null=True, blank=True, on_delete=models.PROTECT, related_name="deployments"
    )
    environment = models.CharField(_("environment"), max_length=20, choices=Environment.choices, db_index=True)
    endpoint_adapter = models.CharField(
        _("endpoint adapter"), max_length=40, choices=EndpointAdapter.choices, default=EndpointAdapter.NONE
    )
    endpoint_base_url = models.URLField(_("endpoint base URL"), max_length=500, blank=True)
    endpoint_model = models.CharField(_("endpoint model name"), max_length=200, blank=True)
    endpoint_credential = models.ForeignKey(
        "EndpointCredential",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deployments",
        verbose_name=_("endpoint credential"),
    )
    # The variable name a deployment named before credentials were registered objects,
    # kept so that an admin knows what to register; set only by the migration.
    legacy_credential_name = models.CharField(_("legacy credential name"), max_length=100, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=DeploymentStatus.choices, default=DeploymentStatus.PROPOSED, db_index=True
    )
    expected_requests_per_day = models.PositiveIntegerField(_("expected requests per day"), null=True, blank=True)
    expected_tokens_per_request = models.PositiveIntegerField(_("expected tokens per request"), null=True, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deployments")
    went_live_at = models.DateTimeField(_("went live at"), null=True, blank=True)
    # A revision: the proposed change of an approved or live deployment, reviewed on its own; its go-live
    # retires the deployment it revises (see fmgov.registry.services.revisions).
    revises = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="revisions",
        verbose_name=_("revises"),
        editable=False,
    )

    class Meta:
        verbose_name = _("deployment")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(foundation_model__isnull=False) & Q(adaptation__isnull=True))
                | (Q(foundation_model__isnull=True) & Q(adaptation__isnull=False)),
                name="deployment_exactly_one_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.environment})"

    @property
    def target(self) -> FoundationModel | Adaptation:
        return self.foundation_model or self.adaptation

    @property
    def target_digest(self) -> str:
        return self.target.artifact_digest
