"""Reading a CycloneDX ML-BOM for import: what it says, checked, before anything is written.

The document is user input. It is parsed with the bounded JSON parser (depth
cap) by the view, must declare CycloneDX 1.5 or 1.6, hold at most
``MAX_JSON_VALUES`` values (validation time grows with them) and validate
against that schema (the library's bundled copy, offline), may hold at most
``MAX_COMPONENTS`` components, and its machine-learning-model components must
form an acyclic lineage. What comes out is a list of nodes in parents-first
order, each with the registry fields the BOM gives for it; nothing here
touches the database.
"""

import math
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from fmgov.core.exceptions import Conflict, InvalidInput
from fmgov.interop import vocabulary as v
from fmgov.interop.bom import schema_errors
from fmgov.interop.modelcard import facts_from_model_card
from fmgov.registry.choices import Access, AdaptationKind, Modality

__all__ = ["MAX_BOM_BYTES", "MAX_COMPONENTS", "BomNode", "read_bom"]

MAX_BOM_BYTES = 2 * 1024 * 1024
MAX_COMPONENTS = 500
# Schema validation costs up to ~0.25 ms per JSON value (objects, arrays, strings, numbers); the cap keeps one
# import's validation to a few seconds. A BOM of a deployment with five ancestors has about 400.
MAX_JSON_VALUES = 10_000
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
FLOAT_FIELDS = frozenset({"training_compute_flop", "training_energy_kwh", "training_emissions_tco2e"})


@dataclass
class BomNode:
    """One machine-learning-model component, as the registry record it describes."""

    ref: str
    record: str  # vocabulary.FOUNDATION_MODEL or vocabulary.ADAPTATION
    name: str
    version: str
    digest: str
    fields: dict[str, Any] = field(default_factory=dict)
    parents: list[str] = field(default_factory=list)


def _invalid(message: str, key: str = "bom", details: list[str] | None = None) -> InvalidInput:
    return InvalidInput(message, field_errors={key: details or [message]})


def _components(document: dict[str, Any]) -> list[dict[str, Any]]:
    """metadata.component and every component, nested ones included (iteratively, counted)."""
    found: list[dict[str, Any]] = []
    top = (document.get("metadata") or {}).get("component")
    queue = deque([top] if top else [])
    queue.extend(document.get("components") or [])
    while queue:
        component = queue.popleft()
        found.append(component)
        if len(found) > MAX_COMPONENTS:
            raise _invalid(f"The BOM lists more than {MAX_COMPONENTS} components; split it.", "components")
        queue.extend(component.get("components") or [])
    return found


def _digest(component: dict[str, Any], ref: str) -> str:
    for entry in component.get("hashes") or []:
        if entry.get("alg") == "SHA-256":
            content = entry["content"].lower()
            if not _SHA256.match(content):
                raise _invalid(f"Component {ref}: a SHA-256 hash has 64 hexadecimal digits.", f"components[{ref}]")
            return content
    return ""


def _licence(component: dict[str, Any]) -> str:
    for choice in component.get("licenses") or []:
        if "expression" in choice:
            return choice["expression"]
        licence = choice.get("license") or {}
        return licence.get("id") or licence.get("name") or ""
    return ""


def _provider(component: dict[str, Any]) -> str:
    for key in ("supplier", "manufacturer"):
        name = (component.get(key) or {}).get("name")
        if name:
            return name
    return component.get("publisher") or component.get("group") or ""


def _node(component: dict[str, Any], ref: str) -> BomNode:
    properties: dict[str, str] = {}
    for prop in component.get("properties") or []:
        properties.setdefault(prop["name"], prop.get("value", ""))
    record = properties.get(v.RECORD_PROPERTY, "")
    if record not in ("", v.FOUNDATION_MODEL, v.ADAPTATION):
        raise _invalid(f"Component {ref}: {v.RECORD_PROPERTY} is foundation_model or adaptation.", f"components[{ref}]")
    node = BomNode(
        ref=ref,
        record=record,
        name=component["name"],
        version=component.get("version") or "1",
        digest=_digest(component, ref),
    )
    licence = _licence(component)
    node.fields = {"license": licence} if licence else {}
    node.fields["_provider"] = _provider(component)
    node.fields["_properties"] = properties
    node.fields["_card"] = component.get("modelCard")
    return node


def _finish(node: BomNode) -> None:
    """The node's record kind and registry fields, now that its parents are known."""
    ref, extra = node.ref, node.fields
    properties, card = extra.pop("_properties"), extra.pop("_card")
    provider = extra.pop("_provider")
    if not node.record:
        node.record = v.ADAPTATION if node.parents else v.FOUNDATION_MODEL
    if node.record == v.ADAPTATION and not node.parents:
        raise _invalid(f"Component {ref} is an adaptation but depends on no model in the BOM.", f"components[{ref}]")
    if node.record == v.FOUNDATION_MODEL and node.parents:
        raise _invalid(f"Component {ref} is a foundation model but depends on other models.", f"components[{ref}]")
    is_model = node.record == v.FOUNDATION_MODEL
    table = v.MODEL_PROPERTIES if is_model else v.ADAPTATION_PROPERTIES
    extra.update({f: properties[name] for f, name in table.items() if properties.get(name)})
    extra.update(facts_from_model_card(card, foundation_model=is_model))
    task = ((card or {}).get("modelParameters") or {}).get("task")
    if is_model:
        extra.setdefault("provider", provider)
        extra.setdefault("modality", task if task in Modality.values else "")
        extra.setdefault("access", Access.OPEN_WEIGHTS)  # as the model-card import assumes
    else:
        extra.setdefault("kind", task if task in AdaptationKind.values else AdaptationKind.OTHER)
    for key in FLOAT_FIELDS & set(extra):
        extra[key] = _finite(extra[key], f"components[{ref}].{key}")
    if node.digest:
        extra["artifact_digest"] = node.digest


def _finite(value: Any, key: str) -> float:
    """A float the audit trail's JSON can hold: "nan", "inf" and 1e400 (which JSON parses to inf) are refused."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise InvalidInput(
            "Give a finite number.", field_errors={key: [f"{str(value)[:40]!r} is not a finite number."]}
        )
    return number


def _lineage(nodes: dict[str, BomNode], document: dict[str, Any]) -> list[BomNode]:
    """Parents from ``dependencies`` (other model components only), then parents-first order; a cycle is a 409."""
    for dependency in document.get("dependencies") or []:
        node = nodes.get(dependency["ref"])
        if node is None:
            continue
        for parent in dependency.get("dependsOn") or []:
            if parent in nodes and parent not in node.parents:
                node.parents.append(parent)
    waiting = {ref: len(node.parents) for ref, node in nodes.items()}
    children: dict[str, list[str]] = {ref: [] for ref in nodes}
    for ref, node in nodes.items():
        for parent in node.parents:
            children[parent].append(ref)
    ready = deque(ref for ref, count in waiting.items() if count == 0)
    order: list[BomNode] = []
    while ready:
        ref = ready.popleft()
        order.append(nodes[ref])
        for child in children[ref]:
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    if len(order) < len(nodes):
        looping = sorted(ref for ref, count in waiting.items() if count > 0)
        shown = ", ".join(looping[:10])
        raise Conflict(
            f"The lineage in the BOM is a cycle, not a DAG: {shown}.", field_errors={"dependencies": [shown]}
        )
    return order


def _count_values(document: Any) -> int:
    """JSON values in the document, counted iteratively and only up to one past the cap."""
    count, stack = 0, [document]
    while stack and count <= MAX_JSON_VALUES:
        node = stack.pop()
        count += 1
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return count


def _check_header(document: Any) -> str:
    if not isinstance(document, dict):
        raise _invalid("A CycloneDX BOM is a JSON object.")
    errors = {}
    if document.get("bomFormat") != "CycloneDX":
        errors["bomFormat"] = ['Expected "CycloneDX".']
    spec = document.get("specVersion")
    if spec not in v.IMPORT_SPEC_VERSIONS:
        errors["specVersion"] = [f"Expected one of {', '.join(v.IMPORT_SPEC_VERSIONS)} (ML-BOMs start at 1.5)."]
    if errors:
        raise InvalidInput("Not a CycloneDX 1.5 or 1.6 BOM.", field_errors=errors)
    return spec


def read_bom(document: Any) -> list[BomNode]:
    """The model components of a BOM, parents first; 400 on anything invalid, 409 on a lineage cycle."""
    spec = _check_header(document)
    if _count_values(document) > MAX_JSON_VALUES:
        raise _invalid(f"The BOM holds more than {MAX_JSON_VALUES} JSON values; split it.")
    problems = schema_errors(document, version=spec, strict=False)
    if problems:
        raise _invalid(f"The BOM does not validate against the CycloneDX {spec} schema.", "bom", problems)
    nodes: dict[str, BomNode] = {}
    for index, component in enumerate(_components(document)):
        if component.get("type") != "machine-learning-model":
            continue
        ref = component.get("bom-ref") or f"#{index}"
        if ref in nodes:
            raise _invalid(f"Two components share the bom-ref {ref}.", f"components[{ref}]")
        nodes[ref] = _node(component, ref)
    if not nodes:
        raise _invalid("The BOM describes no machine-learning-model component.", "components")
    order = _lineage(nodes, document)
    digests: dict[str, str] = {}
    for node in order:
        if node.digest and digests.setdefault(node.digest, node.ref) != node.ref:
            message = f"Components {digests[node.digest]} and {node.ref} have the same SHA-256 digest."
            raise _invalid(message, f"components[{node.ref}]")
        _finish(node)
    return order
