"""Documentation records made through the services, as every real caller makes them."""

from fmgov.documentation import services
from fmgov.documentation.models import DocumentationRecord
from fmgov.registry.tests.factories import AdaptationFactory, FoundationModelFactory

__all__ = ["documented_model", "documented_adaptation", "COMPLETE_PROVIDER_FIELDS"]

#: Every field a provider without systemic risk must fill, with a value of the right type.
COMPLETE_PROVIDER_FIELDS = {
    "provider_legal_name": "Example AI B.V.",
    "model_name": "Example",
    "model_versions": ["1"],
    "authenticity_evidence": "SHA-256 " + "a" * 64,
    "release_date": "2025-09-01",
    "eu_market_date": "2025-09-15",
    "dependencies": ["Base 1"],
    "architecture": "Decoder-only transformer",
    "design_specification": "Grouped-query attention, for memory at long context.",
    "input_modalities": ["text"],
    "output_modalities": ["text"],
    "max_input_size": "32768 tokens",
    "max_output_size": "4096 tokens",
    "parameter_count": 7_000_000_000,
    "distribution_channels": ["API"],
    "licence": "apache-2.0",
    "acceptable_use_policy": "https://example.org/aup",
    "intended_uses": "Summarising support tickets.",
    "restricted_uses": "No medical advice.",
    "ai_system_types": "Chat assistants",
    "integration_requirements": "An OpenAI-compatible HTTP client.",
    "required_hardware": "One 24 GB GPU",
    "required_software": "vLLM 0.6",
    "training_data_types": "Text",
    "training_data_provenance": "Licensed corpora and public web text.",
    "data_collection_methods": "Crawled under robots.txt, then filtered.",
    "data_curation": "Deduplicated, PII filtered.",
    "data_points": 2_000_000_000_000,
    "bias_detection": "Counterfactual evaluation across protected attributes.",
    "training_compute_flop": 8.4e22,
    "training_time": "21 days",
    "training_energy_kwh": 150000.0,
}


def documented_model(owner, *, actor=None, **kwargs) -> DocumentationRecord:
    model = FoundationModelFactory(owner=owner)
    return services.documentation_create(target=model, actor=actor or owner, **kwargs)


def documented_adaptation(owner, *, actor=None, **kwargs) -> DocumentationRecord:
    adaptation = AdaptationFactory(owner=owner)
    return services.documentation_create(target=adaptation, actor=actor or owner, **kwargs)
