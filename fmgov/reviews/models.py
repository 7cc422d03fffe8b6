"""Risk taxonomy, review policies, risk reviews, their items and sign-offs.

Rows change only through ``fmgov.reviews.services``, which records an audit
event for every change. A ``SignOff`` is immutable once written except for
being voided (kept on record, marked void) when its review is edited.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from audits.base import AuditedModel
from fmgov.registry.choices import Environment
from fmgov.reviews.choices import HASH_SCHEME_CURRENT, OPEN_STATES, SCORE_MAX, SCORE_MIN, Decision, ReviewState

__all__ = [
    "RiskCategory",
    "ReviewPolicy",
    "EnvironmentPolicy",
    "RiskReview",
    "ReviewItem",
    "SignOff",
    "ImmutableSignOff",
]

score_validators = [MinValueValidator(SCORE_MIN), MaxValueValidator(SCORE_MAX)]


def _score_range(field: str) -> Q:
    return Q(**{f"{field}__gte": SCORE_MIN}) & Q(**{f"{field}__lte": SCORE_MAX})


class RiskCategory(AuditedModel):
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    nist_ai_rmf = models.JSONField(
        _("NIST AI RMF references"), default=list, blank=True, help_text=_('e.g. ["MAP 5.1", "MEASURE 2.11"]')
    )
    eu_ai_act = models.JSONField(
        _("EU AI Act references"), default=list, blank=True, help_text=_('e.g. ["Art. 10", "Art. 55"]')
    )
    position = models.PositiveSmallIntegerField(_("position"), default=100)
    retired = models.BooleanField(
        _("retired"), default=False, help_text=_("Retired categories stay on old reviews but take no new items.")
    )

    class Meta:
        verbose_name = _("risk category")
        verbose_name_plural = _("risk categories")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class ReviewPolicy(AuditedModel):
    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    quorum = models.PositiveSmallIntegerField(
        _("quorum (approvals needed)"), default=2, validators=[MinValueValidator(1)]
    )
    required_groups = models.JSONField(
        _("required groups"),
        default=list,
        blank=True,
        help_text=_('Names of groups each of which must be represented among the approvers, e.g. ["security"].'),
    )
    validity_days = models.PositiveIntegerField(
        _("validity (days)"), default=365, validators=[MinValueValidator(1), MaxValueValidator(3650)]
    )
    required_categories = models.ManyToManyField(
        RiskCategory, blank=True, related_name="requiring_policies", verbose_name=_("required categories")
    )
    is_default = models.BooleanField(_("default policy"), default=False)

    class Meta:
        verbose_name = _("review policy")
        verbose_name_plural = _("review policies")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(quorum__gte=1), name="review_policy_quorum_positive"),
            models.CheckConstraint(condition=Q(validity_days__gte=1), name="review_policy_validity_positive"),
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="review_policy_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class EnvironmentPolicy(AuditedModel):
    """The policy an environment's reviews fall under (admins map them); an author may only choose a stricter one."""

    environment = models.CharField(_("environment"), max_length=20, choices=Environment.choices, unique=True)
    policy = models.ForeignKey(
        ReviewPolicy, on_delete=models.PROTECT, related_name="environment_rules", verbose_name=_("policy")
    )

    class Meta:
        verbose_name = _("environment policy")
        verbose_name_plural = _("environment policies")
        ordering = ["environment"]

    def __str__(self) -> str:
        return f"{self.environment}: {self.policy}"


class RiskReview(AuditedModel):
    deployment = models.ForeignKey(
        "registry.Deployment", on_delete=models.PROTECT, related_name="risk_reviews", verbose_name=_("deployment")
    )
    policy = models.ForeignKey(ReviewPolicy, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("policy"))
    title = models.CharField(_("title"), max_length=200, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    state = models.CharField(
        _("state"), max_length=20, choices=ReviewState.choices, default=ReviewState.DRAFT, db_index=True
    )
    submission = models.PositiveIntegerField(
        _("submission number"), default=0, help_text=_("Incremented on every submit; sign-offs count per submission.")
    )
    content_hash = models.CharField(_("content hash (SHA-256)"), max_length=64, blank=True)
    # Set on every submission; checks recompute under this scheme (fmgov.reviews.content.HASH_SCHEMES).
    hash_scheme = models.PositiveSmallIntegerField(_("content hash scheme"), default=HASH_SCHEME_CURRENT)
    target_digest = models.CharField(_("target digest at submission"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="risk_reviews_created"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="risk_reviews_submitted"
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True, db_index=True)
    expiry_notice_sent_at = models.DateTimeField(_("expiry notice sent at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_reason = models.TextField(_("revocation reason"), blank=True)
    changes_requested_comment = models.TextField(_("changes requested"), blank=True)

    class Meta:
        verbose_name = _("risk review")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["deployment", "state"])]

    def __str__(self) -> str:
        return self.title or f"Risk review #{self.pk} of {self.deployment}"

    @property
    def is_open(self) -> bool:
        """Still being written or decided (at most one such review per deployment): the registry's page asks."""
        return self.state in OPEN_STATES


class ReviewItem(AuditedModel):
    review = models.ForeignKey(RiskReview, on_delete=models.CASCADE, related_name="items", verbose_name=_("review"))
    category = models.ForeignKey(
        RiskCategory, on_delete=models.PROTECT, related_name="items", verbose_name=_("category")
    )
    description = models.TextField(_("description"))
    likelihood = models.PositiveSmallIntegerField(_("likelihood (1-5)"), validators=score_validators)
    severity = models.PositiveSmallIntegerField(_("severity (1-5)"), validators=score_validators)
    mitigation = models.TextField(_("mitigation"), blank=True)
    residual_likelihood = models.PositiveSmallIntegerField(_("residual likelihood (1-5)"), validators=score_validators)
    residual_severity = models.PositiveSmallIntegerField(_("residual severity (1-5)"), validators=score_validators)
    evidence = models.JSONField(_("evidence"), default=list, blank=True, help_text=_("Free text and URLs."))

    class Meta:
        verbose_name = _("review item")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=_score_range("likelihood"), name="review_item_likelihood_range"),
            models.CheckConstraint(condition=_score_range("severity"), name="review_item_severity_range"),
            models.CheckConstraint(
                condition=_score_range("residual_likelihood") & Q(residual_likelihood__lte=F("likelihood")),
                name="review_item_residual_likelihood",
            ),
            models.CheckConstraint(
                condition=_score_range("residual_severity") & Q(residual_severity__lte=F("severity")),
                name="review_item_residual_severity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category}: {self.description[:60]}"

    @property
    def inherent_score(self) -> int:
        return self.likelihood * self.severity

    @property
    def residual_score(self) -> int:
        return self.residual_likelihood * self.residual_severity


class ImmutableSignOff(RuntimeError):
    """An attempt to change or delete a recorded sign-off."""


class SignOff(AuditedModel):
    # The only fields that may change after a sign-off is written.
    VOID_FIELDS = frozenset({"void", "voided_at", "void_reason", "updated_at"})

    review = models.ForeignKey(RiskReview, on_delete=models.PROTECT, related_name="sign_offs")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sign_offs")
    submission = models.PositiveIntegerField(_("submission number"))
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    comment = models.TextField(_("comment"), blank=True)
    conditions = models.TextField(_("conditions"), blank=True)
    # A reviewer who declares a conflict of interest is recorded as abstaining, whatever they chose.
    conflict_of_interest = models.TextField(_("declared conflict of interest"), blank=True)
    content_hash = models.CharField(_("content hash approved"), max_length=64)
    hash_scheme = models.PositiveSmallIntegerField(_("content hash scheme"))
    void = models.BooleanField(_("void"), default=False)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.CharField(_("void reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("sign-off")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "reviewer", "submission"], name="sign_off_one_per_reviewer_per_submission"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} by {self.reviewer} on review #{self.review_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            fields = kwargs.get("update_fields")
            if fields is None or not set(fields) <= self.VOID_FIELDS:
                raise ImmutableSignOff("A sign-off cannot be changed once recorded; it can only be voided.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableSignOff("A sign-off cannot be deleted; it stays on record.")
