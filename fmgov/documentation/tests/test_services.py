"""Documentation services: prefill, versions, freeze, validation, who may write; selectors: completeness, diff."""

import pytest

from audits.models import AuditEvent
from fmgov.core.exceptions import Conflict, InvalidInput, NotAllowed
from fmgov.documentation import selectors, services
from fmgov.documentation.fields import CATALOGUE, FIELDS, required_fields
from fmgov.documentation.models import DocumentationRecord, DocumentationVersion, VersionImmutable
from fmgov.documentation.tests.factories import COMPLETE_PROVIDER_FIELDS, documented_model
from fmgov.registry.services import foundation_model_update
from fmgov.registry.tests.factories import AdaptationFactory, FoundationModelFactory

pytestmark = pytest.mark.django_db


def test_every_field_cites_its_source_and_has_an_audience():
    for spec in CATALOGUE:
        assert spec.sources and all(
            s.startswith(("Annex XI", "Annex XII", "Art.", "Model Documentation Form")) for s in spec.sources
        ), spec.name
        assert spec.audiences and spec.section in {
            "identity",
            "properties",
            "distribution",
            "training",
            "systemic_risk",
        }
    assert FIELDS["release_date"].sources[0] == "Annex XI, Section 1, point 1(c)"
    assert FIELDS["risk_assessment"].systemic_risk_only and FIELDS["risk_assessment"].sources == ("Art. 55(1)(b)",)


def test_the_role_and_risk_tier_decide_what_is_required():
    provider, systemic = required_fields("provider", False), required_fields("provider", True)
    downstream, deployer = required_fields("downstream_provider", False), required_fields("deployer", False)
    assert set(deployer) < set(downstream) < set(provider) < set(systemic)
    assert set(systemic) - set(provider) == {
        "evaluation_strategies",
        "evaluation_results",
        "adversarial_testing",
        "risk_assessment",
    }
    # A downstream provider holds what Annex XII says it receives: nothing marked for the authorities only.
    assert all("downstream_providers" in FIELDS[name].audiences for name in downstream)


def test_a_new_record_is_prefilled_from_the_registry_with_provenance(engineer):
    model = FoundationModelFactory(owner=engineer, architecture="Decoder-only transformer", training_compute_flop=1e21)
    record = services.documentation_create(target=model, actor=engineer, role="provider")
    version = record.current_version
    assert version.number == 1 and version.author == engineer
    assert version.fields["provider_legal_name"] == "Example AI"
    assert version.fields["parameter_count"] == 7_000_000_000
    assert version.fields["authenticity_evidence"] == f"SHA-256 {model.artifact_digest}"
    assert version.fields["input_modalities"] == ["text"] and version.fields["licence"] == "apache-2.0"
    assert version.fields["training_compute_flop"] == 1e21
    assert set(version.provenance.values()) == {"derived_from_registry"}
    event = AuditEvent.objects.get(action="documentation.create")
    assert event.actor_username == engineer.username and event.changes["version"] == [None, 1]


def test_an_adaptation_takes_its_dependencies_and_modalities_from_the_lineage(engineer):
    base = FoundationModelFactory(owner=engineer, name="Base", modality="embedding")
    middle = AdaptationFactory(owner=engineer, name="middle", derived_from_models=[base.pk])
    leaf = AdaptationFactory(owner=engineer, name="leaf", derived_from_adaptations=[middle.pk], purpose="Search.")
    record = services.documentation_create(target=leaf, actor=engineer)
    fields, provenance = record.current_version.fields, record.current_version.provenance
    assert record.role == "provider"  # modifying a model makes one its provider
    assert fields["dependencies"] == ["middle 1", "Base 1"] and provenance["dependencies"] == "derived_from_lineage"
    assert (
        fields["output_modalities"] == ["embedding vector"] and provenance["input_modalities"] == "derived_from_lineage"
    )
    assert fields["intended_uses"] == "Search." and provenance["intended_uses"] == "derived_from_registry"


def test_each_save_is_a_new_version_and_nothing_changed_is_none(engineer):
    record = documented_model(engineer)
    record = services.documentation_update(
        record=record, actor=engineer, fields={"licence": "mit", "training_time": " 3 days "}
    )
    assert record.current_version.number == 2
    assert record.current_version.fields["training_time"] == "3 days"
    assert record.current_version.provenance["licence"] == "entered"
    event = AuditEvent.objects.get(action="documentation.update")
    assert event.changes["fields.licence"] == ["apache-2.0", "mit"] and event.changes["version"] == [1, 2]
    services.documentation_update(record=record, actor=engineer, fields={"licence": "mit"})
    assert record.versions.count() == 2 and AuditEvent.objects.filter(action="documentation.update").count() == 1
    record = services.documentation_update(record=record, actor=engineer, fields={"licence": None})
    assert "licence" not in record.current_version.fields and "licence" not in record.current_version.provenance
    assert DocumentationVersion.objects.get(record=record, number=2).fields["licence"] == "mit"


def test_bad_names_and_types_are_refused_field_by_field_and_nothing_is_written(engineer):
    record = documented_model(engineer)
    bad = {
        "licence": 7,
        "release_date": "2025-02-30",
        "parameter_count": -1,
        "training_compute_flop": "a lot",
        "input_modalities": "text",
        "no_such_field": "x",
        "model_versions": ["1", 2],
    }
    with pytest.raises(InvalidInput) as caught:
        services.documentation_update(record=record, actor=engineer, fields=bad)
    errors = caught.value.field_errors
    assert set(errors) == set(bad)
    assert errors["release_date"] == ["Not a calendar date."] and errors["no_such_field"] == [
        "Not a documentation field."
    ]
    assert errors["model_versions"] == ["Entry 2: Expected text."]
    with pytest.raises(InvalidInput) as caught:
        services.documentation_update(record=record, actor=engineer, role="vendor", systemic_risk="yes")
    assert set(caught.value.field_errors) == {"role", "systemic_risk"}
    assert record.versions.count() == 1


def test_freeze_keeps_the_submitted_version_and_the_next_edit_is_a_draft(engineer, reviewer):
    record = documented_model(engineer)
    record = services.documentation_freeze(record=record, actor=engineer)
    frozen = record.frozen_version
    assert frozen.number == 1 and frozen.frozen_at is not None and frozen.frozen_by == engineer
    with pytest.raises(Conflict):
        services.documentation_freeze(record=record, actor=reviewer)
    record = services.documentation_update(record=record, actor=reviewer, fields={"training_time": "3 days"})
    assert record.current_version.number == 2 and record.current_version.frozen_at is None
    assert record.frozen_version_id == frozen.pk
    assert "training_time" not in DocumentationVersion.objects.get(pk=frozen.pk).fields
    frozen.fields = {"licence": "rewritten"}
    with pytest.raises(VersionImmutable):
        frozen.save()
    with pytest.raises(VersionImmutable):
        frozen.save(update_fields=["frozen_at", "frozen_by", "updated_at"])  # a second stamp
    assert AuditEvent.objects.filter(action="documentation.freeze").count() == 1


def test_engineers_write_only_what_they_own_auditors_nothing(engineer, other_engineer, reviewer, auditor, admin_user):
    model = FoundationModelFactory(owner=engineer)
    for outsider in (other_engineer, auditor):
        with pytest.raises(NotAllowed):
            services.documentation_create(target=model, actor=outsider)
    record = services.documentation_create(target=model, actor=reviewer)
    for outsider in (other_engineer, auditor):
        with pytest.raises(NotAllowed):
            services.documentation_update(record=record, actor=outsider, fields={"licence": "mit"})
        with pytest.raises(NotAllowed):
            services.documentation_freeze(record=record, actor=outsider)
    services.documentation_update(record=record, actor=admin_user, fields={"licence": "mit"})
    services.documentation_update(record=record, actor=engineer, fields={"licence": "bsd-3-clause"})
    assert record.versions.count() == 3
    with pytest.raises(Conflict):
        services.documentation_create(target=model, actor=engineer)


def test_completeness_per_record_and_for_the_portfolio(engineer):
    record = documented_model(engineer, role="provider", fields=COMPLETE_PROVIDER_FIELDS)
    score = selectors.record_completeness(record)
    assert score == {
        "required": len(required_fields("provider", False)),
        "filled": score["required"],
        "score": 1.0,
        "missing": [],
    }
    record = services.documentation_update(record=record, actor=engineer, systemic_risk=True, fields={"licence": None})
    score = selectors.record_completeness(record)
    assert score["missing"] == [
        "licence",
        "evaluation_strategies",
        "evaluation_results",
        "adversarial_testing",
        "risk_assessment",
    ]
    assert score["filled"] == score["required"] - 5
    FoundationModelFactory(owner=engineer)  # not documented yet
    portfolio = selectors.portfolio_completeness()
    assert portfolio["records"] == 1 and portfolio["required"] == score["required"]
    assert portfolio["filled"] == score["filled"] and portfolio["without_record"] == 1


def test_the_diff_names_added_removed_and_changed_fields():
    diff = selectors.version_diff({"a": 1, "b": "x", "c": [1]}, {"b": "y", "c": [1], "d": None})
    assert diff == {"added": {"d": None}, "removed": {"a": 1}, "changed": {"b": {"old": "x", "new": "y"}}}


def test_each_audience_receives_its_own_fields(engineer):
    record = documented_model(engineer, role="provider", systemic_risk=True, fields=COMPLETE_PROVIDER_FIELDS)
    downstream = selectors.documentation_for_audience(record, "downstream_providers")
    ai_office = selectors.documentation_for_audience(record, "ai_office")
    assert "training_compute_flop" not in downstream["field_names"] and "licence" in downstream["field_names"]
    assert {"training_compute_flop", "risk_assessment", "licence"} <= set(ai_office["field_names"])
    national = selectors.documentation_for_audience(record, "national_authorities")
    assert "risk_assessment" not in national["field_names"]
    flop = next(f for s in ai_office["sections"] for f in s["fields"] if f["name"] == "training_compute_flop")
    assert flop["value"] == 8.4e22 and flop["provenance"] == "entered" and flop["sources"][0].startswith("Annex XI")
    with pytest.raises(ValueError):
        selectors.documentation_for_audience(record, "press")


def test_refresh_follows_the_registry_for_derived_fields_and_keeps_entered_ones(engineer, other_engineer):
    model = FoundationModelFactory(owner=engineer, name="Refreshable", architecture="Transformer")
    record = services.documentation_create(target=model, actor=engineer, fields={"architecture": "MoE transformer"})
    foundation_model_update(foundation_model=model, actor=engineer, license="mit", architecture="Dense transformer")
    FoundationModelFactory(owner=engineer, name="Refreshable", version="2")
    with pytest.raises(NotAllowed):
        services.documentation_refresh(record=record, actor=other_engineer)
    record = services.documentation_refresh(record=record, actor=engineer)
    fields, provenance = record.current_version.fields, record.current_version.provenance
    assert record.current_version.number == 2
    assert fields["licence"] == "mit" and provenance["licence"] == "derived_from_registry"
    assert fields["model_versions"] == ["1", "2"]
    assert fields["architecture"] == "MoE transformer" and provenance["architecture"] == "entered"
    event = AuditEvent.objects.get(action="documentation.refresh")
    assert event.changes["fields.licence"] == ["apache-2.0", "mit"] and "fields.architecture" not in event.changes
    foundation_model_update(foundation_model=model, actor=engineer, license="")
    record = services.documentation_refresh(record=record, actor=engineer)
    assert "licence" not in record.current_version.fields  # the source no longer says it
    services.documentation_refresh(record=record, actor=engineer)
    assert record.versions.count() == 3  # nothing new, no version


def test_a_large_number_read_back_compares_equal_so_saving_it_again_is_no_new_version(engineer):
    """PostgreSQL's jsonb gives 8.4e22 back as an integer; the version reads it as the number field it is."""
    record = documented_model(engineer, fields={"training_compute_flop": 8.4e22, "training_energy_kwh": 1000})
    reloaded = DocumentationVersion.objects.get(pk=record.current_version_id)
    assert reloaded.fields["training_compute_flop"] == 8.4e22 and isinstance(
        reloaded.fields["training_compute_flop"], float
    )
    assert reloaded.fields["training_energy_kwh"] == 1000.0
    record = services.documentation_update(
        record=DocumentationRecord.objects.get(pk=record.pk), actor=engineer, fields={"training_compute_flop": 8.4e22}
    )
    assert record.versions.count() == 1
    assert selectors.versions_with_diffs(record)[0]["fields"]["training_compute_flop"] == 8.4e22
