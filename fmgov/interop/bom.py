"""CycloneDX 1.6 ML-BOMs assembled from a ``BomSource``, validated against the schema the library ships.

Components, hashes, licences, suppliers, services and dependencies are built
with ``cyclonedx-python-lib``; ``modelCard`` (which the library does not model)
is added to the serialised JSON by bom-ref. Every BOM is validated offline
against the bundled CycloneDX 1.6 strict JSON schema before it leaves: a BOM
that does not validate is a bug here, so it raises instead of being served.

Secrets never enter a BOM: an endpoint is described by its scheme, host, port
and path (no user info, query or fragment) and by whether it authenticates;
a credential's name, source, environment variable and sealed value are not
read at all.
"""

import json
from collections.abc import Iterator
from functools import cache
from itertools import islice
from typing import Any
from urllib.parse import urlsplit

from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.model import ExternalReference, ExternalReferenceType, HashAlgorithm, HashType, Property, XsUri
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.service import Service
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion
from cyclonedx.schema._res import BOM_JSON, BOM_JSON_STRICT, CRYPTOGRAPHY_DEFS, JSF, SPDX_JSON
from jsonschema import FormatChecker, validators
from jsonschema.exceptions import ValidationError
from jsonschema.validators import Draft7Validator
from referencing import Registry
from referencing.jsonschema import DRAFT7

from fmgov.interop import vocabulary as v
from fmgov.interop.modelcard import model_card
from fmgov.interop.selectors import BomSource
from fmgov.registry.choices import EndpointAdapter
from fmgov.registry.models import Adaptation, Deployment, FoundationModel
from fmgov.reviews.models import RiskReview

__all__ = ["BomInvalid", "deployment_bom", "foundation_model_bom", "portfolio_bom", "schema_errors"]

PORTFOLIO_REF = "fmgov:portfolio"
_HF_REPO_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./")


class BomInvalid(RuntimeError):
    """A BOM fmgov assembled does not validate against the CycloneDX schema (a bug, never user input)."""


def _unique_items(validator: Any, unique: bool, instance: Any, schema: dict) -> Iterator[ValidationError]:
    """``uniqueItems`` in linear time: jsonschema compares every pair of objects, which a long list turns
    into seconds of CPU per request (1,000 components took 10 s). Items are compared by their canonical JSON."""
    if not unique or not validator.is_type(instance, "array"):
        return
    seen: set[str] = set()
    for item in instance:
        key = json.dumps(item, sort_keys=True)
        if key in seen:
            yield ValidationError(f"has non-unique elements ({key[:100]} twice)")
            return
        seen.add(key)


_LinearDraft7 = validators.extend(Draft7Validator, {"uniqueItems": _unique_items})

# The schema's formats, each checked in linear time. jsonschema's own iri-reference checker (an Earley parser)
# spent ten seconds on one 2,000-character URL; here an IRI reference is any bounded string without spaces or
# control characters, which is what a consumer of the BOM can rely on anyway.
_FORMATS = FormatChecker(formats=("date-time", "idn-email"))
MAX_IRI_LENGTH = 8192


@_FORMATS.checks("iri-reference")
def _iri_reference(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return len(value) <= MAX_IRI_LENGTH and not any(c.isspace() or not c.isprintable() for c in value)


@cache
def _validator(version: str, *, strict: bool) -> Draft7Validator:
    """The bundled CycloneDX schema, as the library's own validators load it, but with a linear uniqueItems.

    Built once per process: loading and indexing the schema is the slow part.
    """
    files = BOM_JSON_STRICT if strict else BOM_JSON
    with open(files[SchemaVersion.from_version(version)], encoding="utf-8") as schema:
        document = json.load(schema)
    resources = []
    for name, path in (("spdx", SPDX_JSON), ("cryptography-defs", CRYPTOGRAPHY_DEFS), ("jsf-0.82", JSF)):
        with open(path, encoding="utf-8") as schema:
            resource = DRAFT7.create_resource(json.load(schema))
        resources.append((f"http://cyclonedx.org/schema/{name}.SNAPSHOT.schema.json", resource))
    return _LinearDraft7(document, registry=Registry().with_resources(resources), format_checker=_FORMATS)


def schema_errors(document: Any, *, version: str = v.SPEC_VERSION, strict: bool = True, limit: int = 20) -> list[str]:
    """Where ``document`` breaks the CycloneDX JSON schema of ``version``, as short sentences (none when valid)."""
    messages = []
    for error in islice(_validator(version, strict=strict).iter_errors(document), limit):
        where = "/".join(str(p) for p in error.absolute_path) or "(document)"
        messages.append(f"{where}: {error.message[:300]}")
    return messages


def _prop(name: str, value: Any) -> Property:
    return Property(name=name, value=str(value))


def _licences(text: str) -> list:
    return [LicenseFactory().make_from_string(text)] if text else []


def _version_component(record: FoundationModel | Adaptation, ref: str) -> Component:
    """A model or adaptation version as a machine-learning-model component (its modelCard comes later)."""
    is_model = isinstance(record, FoundationModel)
    table = v.MODEL_PROPERTIES if is_model else v.ADAPTATION_PROPERTIES
    properties = [_prop(v.RECORD_PROPERTY, v.FOUNDATION_MODEL if is_model else v.ADAPTATION)]
    for field, name in table.items():
        value = getattr(record, field)
        if value not in (None, ""):
            properties.append(_prop(name, value))
    references = []
    repo = record.hf_repo_id
    if repo and set(repo) <= _HF_REPO_CHARS and "/" in repo and ".." not in repo:
        url = XsUri(f"https://huggingface.co/{repo}")
        references.append(ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=url))
    return Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        bom_ref=ref,
        name=record.name,
        version=record.version,
        supplier=OrganizationalEntity(name=record.provider) if is_model and record.provider else None,
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=record.artifact_digest)] if record.artifact_digest else [],
        licenses=_licences(record.license),
        properties=properties,
        external_references=references,
    )


def _endpoint_url(url: str) -> str:
    """Scheme, host, port and path only: user info, query strings and fragments can carry secrets."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return ""
    if not host or parts.scheme not in ("http", "https"):
        return ""
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}{f':{port}' if port else ''}{parts.path}"


def _service(deployment: Deployment) -> Service | None:
    """The endpoint without secrets: where it is and whether it authenticates, never with what."""
    if deployment.endpoint_adapter == EndpointAdapter.NONE:
        return None
    url = _endpoint_url(deployment.endpoint_base_url)
    properties = [_prop("fmgov:endpoint:adapter", deployment.endpoint_adapter)]
    if deployment.endpoint_model:
        properties.append(_prop("fmgov:endpoint:model", deployment.endpoint_model))
    return Service(
        name=f"{deployment.name} endpoint",
        bom_ref=v.service_ref(deployment.pk),
        endpoints=[XsUri(url)] if url else [],
        authenticated=deployment.endpoint_credential_id is not None,
        x_trust_boundary=True,
        properties=properties,
    )


def _approval_properties(review: RiskReview | None) -> list[Property]:
    """The approval the deployment runs under: review, policy, content hash and each sign-off of it."""
    if review is None:
        return [_prop("fmgov:approval", "none")]
    policy = review.policy
    properties = [
        _prop("fmgov:approval:review", review.pk),
        _prop("fmgov:approval:state", review.state),
        _prop("fmgov:approval:submission", review.submission),
        _prop("fmgov:approval:content_hash", review.content_hash),
        _prop("fmgov:approval:target_digest", review.target_digest or "-"),
        _prop("fmgov:approval:approved_at", review.approved_at.isoformat()),
        _prop("fmgov:approval:expires_at", review.expires_at.isoformat()),
        _prop("fmgov:approval:policy", policy.name),
        _prop("fmgov:approval:policy:quorum", policy.quorum),
        _prop("fmgov:approval:policy:validity_days", policy.validity_days),
    ]
    for sign_off in review.sign_offs.all():
        if sign_off.void or sign_off.submission != review.submission:
            continue
        signed = {
            "reviewer": sign_off.reviewer.get_username(),
            "decision": sign_off.decision,
            "content_hash": sign_off.content_hash,
            "signed_at": sign_off.created_at.isoformat(),
            "conditions": sign_off.conditions,
            "conflict_of_interest": sign_off.conflict_of_interest,
        }
        properties.append(_prop("fmgov:approval:signoff", json.dumps(signed, sort_keys=True)))
    return properties


def _deployment_component(deployment: Deployment, review: RiskReview | None) -> Component:
    facts = [
        _prop("fmgov:record", "deployment"),
        _prop("fmgov:deployment:status", deployment.status),
        _prop("fmgov:deployment:environment", deployment.environment),
    ]
    if deployment.region:
        facts.append(_prop("fmgov:deployment:region", deployment.region))
    if deployment.went_live_at:
        facts.append(_prop("fmgov:deployment:went_live_at", deployment.went_live_at.isoformat()))
    return Component(
        type=ComponentType.APPLICATION,
        bom_ref=v.deployment_ref(deployment.pk),
        name=deployment.name,
        properties=facts + _approval_properties(review),
    )


def _target_key(deployment: Deployment) -> tuple[str, int]:
    if deployment.foundation_model_id:
        return "model", deployment.foundation_model_id
    return "adaptation", deployment.adaptation_id


class _Assembly:
    """One BOM being built: components by bom-ref, their modelCards, and the dependency graph."""

    def __init__(self, source: BomSource):
        self.source = source
        self.bom = Bom()
        self.components: dict[str, Component] = {}
        self.cards: dict[str, dict[str, Any]] = {}
        # (kind, id) of a version -> the approvals of the deployments of it in this BOM
        self.reviews: dict[tuple[str, int], list[RiskReview]] = {}
        for deployment in source.deployments:
            if review := source.approvals.get(deployment.pk):
                self.reviews.setdefault(_target_key(deployment), []).append(review)

    def version(self, kind: str, pk: int) -> Component:
        """The component of a model or adaptation, made once (its parents are linked in ``finish``)."""
        ref = v.model_ref(pk) if kind == "model" else v.adaptation_ref(pk)
        if ref in self.components:
            return self.components[ref]
        record = self.source.models[pk] if kind == "model" else self.source.adaptations[pk]
        component = self.components[ref] = _version_component(record, ref)
        reviews = self.reviews.get((kind, pk), [])
        runs = self.source.runs.get((kind, pk), [])
        self.cards[ref] = model_card(record, runs=runs, reviews=reviews)
        return component

    def lineage(self) -> None:
        """Each adaptation depends on its parents; a loop, not a recursion, so no depth of lineage is too deep."""
        for child, parents in self.source.parents.items():
            needs = [self.version(kind, pk) for kind, pk in parents]
            self.bom.register_dependency(self.version("adaptation", child), needs)

    def deployment(self, deployment: Deployment) -> Component:
        component = _deployment_component(deployment, self.source.approvals.get(deployment.pk))
        needs: list[Component | Service] = [self.version(*_target_key(deployment))]
        if service := _service(deployment):
            self.bom.services.add(service)
            needs.append(service)
        self.bom.register_dependency(component, needs)
        return component

    def finish(self, top: Component, others: list[Component]) -> dict[str, Any]:
        self.lineage()
        self.bom.metadata.component = top
        for component in [*others, *self.components.values()]:
            if component is not top:
                self.bom.components.add(component)
        document = json.loads(JsonV1Dot6(self.bom).output_as_string())
        for component in [document["metadata"]["component"], *document.get("components", [])]:
            if card := self.cards.get(component.get("bom-ref")):
                component["modelCard"] = card
        problems = schema_errors(document)
        if problems:
            raise BomInvalid("; ".join(problems))
        return document


def deployment_bom(source: BomSource) -> dict[str, Any]:
    """What runs: the deployment on top, its target and every ancestor, the endpoint and the approval."""
    assembly = _Assembly(source)
    top = assembly.deployment(source.deployments[0])
    return assembly.finish(top, [])


def foundation_model_bom(source: BomSource, model: FoundationModel) -> dict[str, Any]:
    """One foundation model version with its modelCard."""
    assembly = _Assembly(source)
    top = assembly.version("model", model.pk)
    return assembly.finish(top, [])


def portfolio_bom(source: BomSource) -> dict[str, Any]:
    """Everything live: each live deployment with its lineage, under one portfolio component."""
    assembly = _Assembly(source)
    top = Component(type=ComponentType.APPLICATION, bom_ref=PORTFOLIO_REF, name="fmgov portfolio (live deployments)")
    deployments = [assembly.deployment(d) for d in source.deployments]
    assembly.bom.register_dependency(top, deployments)
    return assembly.finish(top, deployments)
