"""The organisation's role for a model, where a field's value came from, and who may read a field."""

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["DocRole", "Provenance", "Audience", "ValueType"]


class DocRole(models.TextChoices):
    # Art. 3(3) and Art. 53(1)(a)-(b): the provider places the model on the market and documents it (Annex XI, XII).
    PROVIDER = "provider", _("Provider placing it on the market")
    # Art. 3(68): integrates the model into an AI system; holds what Annex XII says it must receive.
    DOWNSTREAM_PROVIDER = "downstream_provider", _("Downstream provider integrating it")
    # Art. 3(4) and Art. 26: uses it under its authority; keeps what identifies it and the terms of its use.
    DEPLOYER = "deployer", _("Deployer")


class Provenance(models.TextChoices):
    ENTERED = "entered", _("Entered")
    IMPORTED_FROM_CARD = "imported_from_card", _("Imported from the model card")
    DERIVED_FROM_LINEAGE = "derived_from_lineage", _("Derived from the lineage")
    DERIVED_FROM_REGISTRY = "derived_from_registry", _("Derived from the registry")


class Audience(models.TextChoices):
    # The Model Documentation Form marks each item for the AI Office (AIO), national competent authorities (NCAs)
    # and downstream providers (DPs).
    AI_OFFICE = "ai_office", _("AI Office")
    NATIONAL_AUTHORITIES = "national_authorities", _("National competent authorities")
    DOWNSTREAM_PROVIDERS = "downstream_providers", _("Downstream providers")


class ValueType(models.TextChoices):
    TEXT = "text", _("Text")
    DATE = "date", _("Date (YYYY-MM-DD)")
    INTEGER = "integer", _("Whole number")
    NUMBER = "number", _("Number")
    LIST = "list", _("List of texts")
