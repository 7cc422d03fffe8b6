"""Documentation exports (issue 19): one audience's model documentation, and the Annex XII downstream package.

Each real card in the corpus prefills a record that is edited twice, frozen and edited once more (a newer draft);
the export, rendered in-process by ``report_render`` (the task's code path, its own renderer subprocess, no
worker) and read back with pypdf, holds exactly the fields of its audience, from the frozen version, and its
evidence.json holds the record's audience view. Every card is exported for downstream providers (the audience
whose field set differs most); one card with systemic risk for every audience and as the Annex XII package.
"""

import datetime as dt
import json

import pytest

from audits.canonical import format_timestamp
from fmgov.documentation.fields import CATALOGUE
from fmgov.documentation.models import DocumentationRecord
from fmgov.documentation.selectors import documentation_for_audience
from fmgov.documentation.services import documentation_create
from fmgov.incidents.tests.factories import open_incident
from fmgov.registry.model_cards import parse_model_card
from fmgov.registry.models import Adaptation
from fmgov.registry.services import model_card_import
from fmgov.registry.tests.factories import FoundationModelFactory
from reports.models import Report
from reports.services import report_render
from reports.tests import pdfcheck
from reports.tests.factories import make_deployment, make_model
from tests.data import REALWORLD_DIR

URL = "/api/v1/reports/"
CARDS = sorted((REALWORLD_DIR / "model-cards").glob("*.md"))
AUDIENCES = ("ai_office", "national_authorities", "downstream_providers")
pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    sent = []
    monkeypatch.setattr("reports.services.enqueue_on_commit", lambda task, *args: sent.append(args))
    return sent


def _import(engineer, path):
    """As test_real_cards: a card whose base model is registered first becomes an adaptation."""
    text = path.read_bytes().decode("utf-8")
    for base in parse_model_card(text).base_models:
        FoundationModelFactory(owner=engineer, name=base.rpartition("/")[2], hf_repo_id=base)
    repo = path.name.removesuffix(".md").replace("__", "/", 1)
    return model_card_import(actor=engineer, card=text, hf_repo_id=repo).record


def _subject(target) -> dict:
    return {"adaptation": target.pk} if isinstance(target, Adaptation) else {"foundation_model": target.pk}


def _documented(client, target, *, systemic_risk=False) -> DocumentationRecord:
    """Prefilled from the card, edited twice, frozen, then edited once more (a draft after the submission)."""
    kind = "adaptations" if isinstance(target, Adaptation) else "foundation-models"
    url = f"/api/v1/{kind}/{target.pk}/documentation/"
    assert client.put(url, {}, format="json").status_code == 201
    first = {"fields": {"acceptable_use_policy": "https://example.org/aup"}}
    if systemic_risk:
        first |= {"systemic_risk": True}
        first["fields"] |= {"risk_assessment": "Quarterly systemic risk review by the board."}
    assert client.put(url, first, format="json").status_code == 200
    second = {"fields": {"licence": "proprietary", "eu_market_date": "2025-10-01", "training_time": "21 days"}}
    assert client.put(url, second, format="json").json()["version"] == 3
    assert client.post(url + "freeze/").json()["last_frozen"]["version"] == 3
    draft = client.put(url, {"fields": {"licence": "draft-licence-after-freeze"}}, format="json").json()
    assert draft["version"] == 4 and draft["frozen_at"] is None
    return DocumentationRecord.objects.get(**{_kind(target): target})


def _kind(target) -> str:
    return "adaptation" if isinstance(target, Adaptation) else "foundation_model"


def _export(client, body) -> tuple[Report, str, dict]:
    response = client.post(URL, body, format="json")
    assert response.status_code == 202, response.content
    report = report_render(report_id=response.json()["id"])
    assert report.state == "succeeded", report.error
    download = client.get(f"{URL}{report.pk}/download/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith(f'attachment; filename="fmgov-{report.kind.replace("_", "-")}-')
    assert download["Content-Disposition"].endswith(f'-report-{report.pk}.pdf"')
    data = b"".join(download.streaming_content)
    xmp = pdfcheck.xmp(data)
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    return report, " ".join(pdfcheck.text(data).split()), pdfcheck.evidence(data)


def _expected_names(audience: str, systemic_risk: bool) -> set[str]:
    return {
        s.name for s in CATALOGUE if audience in s.audiences and (systemic_risk or not s.systemic_risk_only)
    }  # fmt: skip


def _timestamp(value: dt.datetime) -> str:
    return format_timestamp(value)


def _as_json(view: dict) -> dict:
    frozen_at = _timestamp(view["frozen_at"]) if view["frozen_at"] else None
    return json.loads(json.dumps({**view, "frozen_at": frozen_at}, default=str))


def _assert_exactly_the_audience(text: str, evidence: dict, record, audience: str) -> None:
    record.refresh_from_db()
    expected = _expected_names(audience, record.systemic_risk)
    doc = evidence["documentation"]
    assert set(doc["field_names"]) == expected
    assert doc == _as_json(documentation_for_audience(record, audience, frozen=True))
    frozen = record.frozen_version
    assert doc["version"] == frozen.number == 3 and record.current_version.number == 4
    for section in doc["sections"]:
        for field in section["fields"]:
            assert field["value"] == frozen.fields.get(field["name"])
            assert field["provenance"] == frozen.provenance.get(field["name"])
    for spec in CATALOGUE:
        label = " ".join(spec.label.split())
        if spec.name in expected:
            assert label in text and spec.name in text, spec.name
        else:
            assert label not in text and spec.name not in text, spec.name
    assert f"as submitted on {frozen.frozen_at:%Y-%m-%d}" in text
    assert "draft-licence-after-freeze" not in text and "draft-licence-after-freeze" not in json.dumps(evidence)


SYSTEMIC_CARD = REALWORLD_DIR / "model-cards" / "nicholasKluge__TeenyTinyLlama-160m.md"


@pytest.mark.parametrize("path", [p for p in CARDS if p != SYSTEMIC_CARD], ids=lambda p: p.name)
def test_each_real_card_exported_as_the_annex_xii_package_and_for_each_audience(
    client_for, engineer, auditor, reviewer, queued, path
):
    target = _import(engineer, path)
    record = _documented(client_for(engineer), target)
    late = open_incident(
        reviewer,
        deployments=[make_deployment(engineer, target, name="card-helpdesk")],
        aware_ago=dt.timedelta(days=30),
        summary="Helpdesk leaked a password",
    )
    elsewhere = open_incident(
        reviewer, deployments=[make_deployment(engineer, make_model(engineer))], aware_ago=dt.timedelta(days=30)
    )

    report, text, evidence = _export(client_for(auditor), {"kind": "downstream_information", **_subject(target)})
    assert report.audience == "downstream_providers" and evidence["report"]["kind"] == "downstream_information"
    _assert_exactly_the_audience(text, evidence, record, "downstream_providers")
    assert f"Downstream provider information: {target.name} {target.version}" in text
    placed = {item["point"]: item["fields"] for part in evidence["annex_xii"] for item in part["items"]}
    placed |= {part["point"]: part["fields"] for part in evidence["annex_xii"]}
    also = {item["point"]: item["also"] for part in evidence["annex_xii"] for item in part["items"] if item["also"]}
    assert also == {"2(a)": ["integration_requirements"], "2(b)": ["input_modalities", "output_modalities"]}
    assert placed["1"] == ["model_name"] and placed["2"] == []
    assert placed["1(a)"] == ["intended_uses", "ai_system_types"]
    assert placed["1(b)"] == ["acceptable_use_policy"]
    assert placed["1(h)"] == ["licence"] and placed["2(b)"] == ["max_input_size", "max_output_size"]
    assert placed["2(c)"] == ["training_data_types", "training_data_provenance", "data_curation"]
    in_points = [name for names in placed.values() for name in names]
    assert sorted(in_points + evidence["form_additions"]) == sorted(evidence["documentation"]["field_names"])
    assert set(evidence["form_additions"]) == {
        "provider_legal_name", "model_versions", "authenticity_evidence", "eu_market_date", "dependencies",
        "design_specification", "restricted_uses",
    }  # fmt: skip
    for point in ("1(a)", "1(h)", "2(a)", "2(c)"):
        assert f"Point {point}:" in text
    assert "the licence for the model" in text
    assert "Also answered by What integration requires (technical means), under point 1(d) above." in text

    # And as the model documentation of each audience: exactly its fields, its JSON the record's view.
    for audience in AUDIENCES:
        body = {"kind": "model_documentation", "audience": audience, **_subject(target)}
        report, text, evidence = _export(client_for(auditor), body)
        assert report.audience == audience and evidence["report"]["kind"] == "model_documentation"
        _assert_exactly_the_audience(text, evidence, record, audience)
    if isinstance(target, Adaptation):
        identity = evidence["documentation"]["sections"][0]["fields"]
        assert next(f for f in identity if f["name"] == "dependencies")["provenance"] == "derived_from_lineage"

    assert [row["id"] for row in evidence["overdue_incidents"]] == [late.pk] != [elsewhere.pk]
    assert "Overdue serious incidents: 1" in text and "Helpdesk leaked a password" in text
    assert evidence["overdue_incidents"][0]["report_due_at"] == _timestamp(late.report_due_at)


def test_one_card_with_systemic_risk_exported_for_every_audience(client_for, engineer, auditor, queued):
    target = _import(engineer, SYSTEMIC_CARD)
    record = _documented(client_for(engineer), target, systemic_risk=True)
    seen, values = {}, {}
    for audience in AUDIENCES:
        body = {"kind": "model_documentation", "audience": audience, **_subject(target)}
        report, text, evidence = _export(client_for(auditor), body)
        assert report.audience == audience and evidence["report"]["kind"] == "model_documentation"
        _assert_exactly_the_audience(text, evidence, record, audience)
        assert f"Model documentation: {target.name} {target.version}" in text
        seen[audience] = set(evidence["documentation"]["field_names"])
        values[audience] = {f["name"]: f["value"] for s in evidence["documentation"]["sections"] for f in s["fields"]}
        completeness = evidence["documentation"]["completeness"]
        assert f"{completeness['filled']} / {completeness['required']} required fields" in text
        assert "Overdue serious incidents: none" in text and evidence["overdue_incidents"] == []
    # The Model Documentation Form's marks: the risk assessment only to the AI Office, training details only to
    # the authorities, and downstream providers a strict subset of what the authorities receive.
    assert seen["ai_office"] - seen["national_authorities"] == {"risk_assessment"}
    assert seen["downstream_providers"] < seen["national_authorities"]
    assert {"training_compute_flop", "bias_detection", "data_points"} <= seen["national_authorities"]
    assert values["ai_office"]["risk_assessment"] == "Quarterly systemic risk review by the board."
    assert values["national_authorities"]["training_time"] == "21 days"
    assert values["downstream_providers"]["licence"] == "proprietary"  # the frozen value, not the draft's


def test_who_may_export_documentation(client_for, engineer, other_engineer, reviewer, auditor, queued):
    mine = _import(engineer, REALWORLD_DIR / "model-cards" / "sentence-transformers__all-MiniLM-L6-v2.md")
    client_for(engineer).put(f"/api/v1/foundation-models/{mine.pk}/documentation/", {}, format="json")
    body = {"kind": "model_documentation", "audience": "ai_office", "foundation_model": mine.pk}
    own = client_for(engineer).post(URL, body, format="json")
    assert own.status_code == 202 and own.json()["foundation_model"] == mine.pk
    downstream = {"kind": "downstream_information", "foundation_model": mine.pk}
    refused = client_for(other_engineer).post(URL, downstream, format="json")
    assert refused.status_code == 403 and "models and adaptations they own" in refused.json()["detail"]
    for user in (reviewer, auditor):
        assert client_for(user).post(URL, body, format="json").status_code == 202
    assert {r["id"] for r in client_for(engineer).get(URL).json()["results"]} == set(
        Report.objects.values_list("pk", flat=True)
    )
    assert client_for(other_engineer).get(URL).json()["results"] == []
    assert client_for(other_engineer).get(f"{URL}{own.json()['id']}/").status_code == 403
    assert client_for(engineer).get(f"{URL}{own.json()['id']}/").json()["audience"] == "ai_office"

    undocumented = FoundationModelFactory(owner=engineer)
    conflict = client_for(engineer).post(URL, {**body, "foundation_model": undocumented.pk}, format="json")
    assert conflict.status_code == 409 and "no documentation record" in conflict.json()["detail"]
    assert len(queued) == 3


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"kind": "model_documentation", "foundation_model": "{model}"}, "audience",
         "required for model documentation"),
        ({"kind": "model_documentation", "foundation_model": "{model}", "audience": "press"}, "audience",
         "not a valid choice"),
        ({"kind": "model_documentation", "audience": "ai_office"}, "foundation_model", "Name the foundation model"),
        ({"kind": "downstream_information", "foundation_model": "{model}", "adaptation": "{adaptation}"},
         "adaptation", "not both"),
        ({"kind": "downstream_information", "foundation_model": "{model}", "audience": "ai_office"}, "audience",
         "for downstream providers"),
        ({"kind": "downstream_information", "foundation_model": "{model}", "period_start": "2026-11-01"},
         "period_start", "one model or adaptation"),
        ({"kind": "downstream_information", "foundation_model": 999999}, "foundation_model", "Invalid pk"),
        ({"kind": "period_summary", "period_start": "2026-11-01", "period_end": "2026-11-30",
          "audience": "ai_office"}, "audience", "Only a documentation export"),
    ],
)  # fmt: skip
def test_a_bad_documentation_export_request_is_a_400_naming_the_field(
    client_for, engineer, auditor, queued, body, field, message
):
    model = FoundationModelFactory(owner=engineer)
    adaptation = _import(engineer, REALWORLD_DIR / "model-cards" / "argilla__notus-7b-v1.md")
    values = {"{model}": model.pk, "{adaptation}": adaptation.pk}
    body = {k: values.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    response = client_for(auditor).post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert message in str(response.json()[field]), response.json()
    assert not queued


def test_a_record_never_frozen_exports_its_current_draft_and_flags_incidents_of_its_base_model(
    engineer, auditor, reviewer
):
    """No renderer here: the evidence and the HTML the renderer would lay out (``build_parts``)."""
    from fmgov.documentation.tests.factories import COMPLETE_PROVIDER_FIELDS
    from reports.rendering.document import build_parts
    from reports.selectors.documentation import documentation_evidence
    from reports.services import evidence_to_json
    from reports.tests.factories import make_adaptation

    base = make_model(engineer, name="Atlas-base")
    adaptation = make_adaptation(engineer, [base], name="Atlas-tuned")
    record = documentation_create(target=adaptation, actor=engineer, fields=COMPLETE_PROVIDER_FIELDS)
    on_base = open_incident(reviewer, models=[base], aware_ago=dt.timedelta(days=30), summary="Base model leak")
    open_incident(reviewer, models=[make_model(engineer, name="Unrelated")], aware_ago=dt.timedelta(days=30))
    open_incident(reviewer, models=[base], summary="Still on the clock")  # aware an hour ago: not overdue
    report = Report.objects.create(
        kind="model_documentation", adaptation=adaptation, audience="national_authorities", requested_by=auditor
    )

    evidence = json.loads(evidence_to_json(documentation_evidence(report)))
    assert evidence["record"]["exported"] == "current" and evidence["record"]["frozen_at"] is None
    assert evidence["documentation"]["frozen_at"] is None and evidence["documentation"]["version"] == 1
    assert evidence["documentation"] == _as_json(documentation_for_audience(record, "national_authorities"))
    assert [row["id"] for row in evidence["overdue_incidents"]] == [on_base.pk]
    (html,) = build_parts("model_documentation", evidence)
    assert "1, draft (never frozen)" in html and "as submitted on" not in html
    assert "Overdue serious incidents: 1" in html and "Base model leak" in html
    assert "Example AI B.V." in html and "8.4e+22" in html  # the training compute, as a number people read
