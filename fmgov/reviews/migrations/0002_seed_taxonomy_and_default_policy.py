"""Seed the risk taxonomy (with NIST AI RMF and EU AI Act references) and the default review policy."""

from django.db import migrations

CATEGORIES = [
    (
        "harmful-content",
        "Generation of harmful content",
        "Misinformation, deepfakes, and manipulative or abusive content produced at scale.",
        ["MAP 5.1", "MEASURE 2.6", "MANAGE 2.2"],
        ["Art. 50", "Art. 55"],
    ),
    (
        "bias",
        "Misrepresentation and bias",
        "Representational bias, stereotypes, and allocation harms across groups of people.",
        ["MAP 2.3", "MEASURE 2.11", "MANAGE 1.3"],
        ["Art. 10", "Art. 15"],
    ),
    (
        "environmental",
        "Environmental impact",
        "Energy used in training and inference, and the resulting carbon emissions.",
        ["MEASURE 2.12"],
        ["Art. 53", "Annex XI"],
    ),
    (
        "concentration-of-power",
        "Concentration of power",
        "Dependency on a single provider, and the provider's licence and access terms.",
        ["GOVERN 6.1", "GOVERN 6.2", "MAP 4.1"],
        ["Art. 53", "Art. 55"],
    ),
    (
        "security-interpretability",
        "Security and interpretability",
        "Opacity of the model, prompt injection, data leakage, and how far its behaviour can be audited.",
        ["MEASURE 2.7", "MEASURE 2.9", "MANAGE 4.1"],
        ["Art. 13", "Art. 15", "Art. 55"],
    ),
    (
        "privacy",
        "Privacy",
        "Personal data in training data, memorisation and regurgitation, and personal data in prompts and logs.",
        ["MEASURE 2.10", "MAP 1.6"],
        ["Art. 10"],
    ),
    (
        "intellectual-property",
        "Intellectual property",
        "Copyrighted or licensed material in training data and outputs; the model's own licence obligations.",
        ["GOVERN 1.1", "MAP 4.1"],
        ["Art. 53"],
    ),
    (
        "reliability",
        "Reliability (hallucination)",
        "Confident but false outputs, inconsistency, and degradation outside the tested distribution.",
        ["MEASURE 2.5", "MEASURE 2.13", "MANAGE 4.1"],
        ["Art. 15"],
    ),
]

DEFAULT_POLICY = "Default review policy"
DEFAULT_REQUIRED = ["harmful-content", "bias", "security-interpretability", "reliability"]


def seed(apps, schema_editor):
    RiskCategory = apps.get_model("reviews", "RiskCategory")
    ReviewPolicy = apps.get_model("reviews", "ReviewPolicy")
    for position, (slug, name, description, nist, eu) in enumerate(CATEGORIES, start=1):
        RiskCategory.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "description": description,
                "nist_ai_rmf": nist,
                "eu_ai_act": eu,
                "position": position * 10,
            },
        )
    policy, created = ReviewPolicy.objects.get_or_create(
        name=DEFAULT_POLICY,
        defaults={
            "description": "Two approvals from the review board; valid for a year.",
            "quorum": 2,
            "required_groups": [],
            "validity_days": 365,
            "is_default": True,
        },
    )
    if created:
        policy.required_categories.set(RiskCategory.objects.filter(slug__in=DEFAULT_REQUIRED))


def unseed(apps, schema_editor):
    """Nothing to undo: rows the forward step created are referenced by reviews and stay."""


class Migration(migrations.Migration):
    dependencies = [("reviews", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
