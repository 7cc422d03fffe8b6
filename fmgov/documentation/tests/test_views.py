"""The model and adaptation pages show how complete their documentation is, in one query."""

import pytest
from django.urls import reverse

from fmgov.documentation import services
from fmgov.documentation.fields import required_fields
from fmgov.documentation.tests.factories import COMPLETE_PROVIDER_FIELDS
from fmgov.registry.tests.factories import AdaptationFactory, FoundationModelFactory

pytestmark = pytest.mark.django_db


def page(client, user, name, pk) -> str:
    client.force_login(user)
    response = client.get(reverse(name, args=[pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_model_page_shows_completeness_what_is_missing_and_the_submission(client, engineer, auditor):
    model = FoundationModelFactory(owner=engineer)
    before = page(client, auditor, "registry:model-detail", model.pk)
    assert "No documentation record yet" in before
    assert (
        f"{len(required_fields('downstream_provider', False))} fields are required of a downstream provider" in before
    )
    fields = {k: v for k, v in COMPLETE_PROVIDER_FIELDS.items() if k != "bias_detection"}
    record = services.documentation_create(target=model, actor=engineer, role="provider", fields=fields)
    required = len(required_fields("provider", False))
    html = page(client, auditor, "registry:model-detail", model.pk)
    assert f"{required - 1} of {required} required fields filled" in html and "never submitted" in html
    assert "Missing: Bias detection and mitigation." in html
    services.documentation_freeze(record=record, actor=engineer)
    html = page(client, auditor, "registry:model-detail", model.pk)
    assert f"version 1 submitted on {record.current_version.created_at:%Y-%m-%d}" in html
    assert f'href="/api/v1/foundation-models/{model.pk}/documentation/"' in html


def test_the_adaptation_page_too(client, engineer):
    adaptation = AdaptationFactory(owner=engineer)
    services.documentation_create(target=adaptation, actor=engineer, fields=COMPLETE_PROVIDER_FIELDS)
    html = page(client, engineer, "registry:adaptation-detail", adaptation.pk)
    assert "(100%), as provider placing it on the market" in html
    assert f'href="/api/v1/adaptations/{adaptation.pk}/documentation/"' in html


def test_the_admin_shows_records_and_versions_and_changes_nothing(client, admin_user, engineer):
    services.documentation_create(target=FoundationModelFactory(owner=engineer), actor=engineer)
    client.force_login(admin_user)
    for name in ("documentationrecord", "documentationversion"):
        assert client.get(reverse(f"admin:documentation_{name}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:documentation_{name}_add")).status_code == 403


def _form(values: dict) -> dict:
    """A full form post: every catalogue field, empty unless given."""
    from fmgov.documentation.fields import CATALOGUE

    return {"role": "provider", **{spec.name: "" for spec in CATALOGUE}, **values}


def test_an_engineer_fills_the_documentation_page_and_it_saves_typed_values(client, engineer):
    model = FoundationModelFactory(owner=engineer, name="Paged")
    client.force_login(engineer)
    edit = reverse("documentation:model-edit", args=[model.pk])
    assert f'href="{edit}"' in page(client, engineer, "registry:model-detail", model.pk)
    html = client.get(edit).content.decode()
    assert "Not saved yet" in html and "apache-2.0" in html and "Current value: derived from the registry." in html
    posted = _form({
        "licence": "mit", "release_date": "2025-09-01", "parameter_count": "7000000000",
        "training_compute_flop": "8.4e22", "input_modalities": "text\n\nimage\n", "systemic_risk": "on",
    })  # fmt: skip
    response = client.post(edit, posted)
    assert response.status_code == 302 and response.url == reverse("registry:model-detail", args=[model.pk])
    version = model.documentation.current_version
    assert version.fields == {
        "licence": "mit", "release_date": "2025-09-01", "parameter_count": 7_000_000_000,
        "training_compute_flop": 8.4e22, "input_modalities": ["text", "image"],
    }  # fmt: skip
    assert model.documentation.role == "provider" and model.documentation.systemic_risk is True
    # The registry said 7,000,000,000 parameters already: a value given unchanged keeps its provenance.
    assert version.provenance.pop("parameter_count") == "derived_from_registry"
    assert set(version.provenance.values()) == {"entered"}
    again = client.post(edit, _form({**posted, "licence": "bsd-3-clause", "systemic_risk": "on"}))
    assert again.status_code == 302 and model.documentation.versions.count() == 2


def test_the_page_shows_refusals_on_their_fields_and_writes_nothing(client, engineer):
    model = FoundationModelFactory(owner=engineer)
    client.force_login(engineer)
    edit = reverse("documentation:model-edit", args=[model.pk])
    response = client.post(edit, _form({"dependencies": "x" * 501, "parameter_count": "many"}))
    assert response.status_code == 200
    assert response.context["form"].errors["parameter_count"] == ["Enter a whole number."]
    response = client.post(edit, _form({"dependencies": "x" * 501}))
    assert response.context["form"].errors["dependencies"] == ["Entry 1: At most 500 characters."]
    assert not hasattr(FoundationModelFactory._meta.model.objects.get(pk=model.pk), "documentation")


def test_only_who_may_edit_reaches_the_page(client, engineer, other_engineer, auditor, reviewer):
    model = FoundationModelFactory(owner=engineer)
    edit = reverse("documentation:model-edit", args=[model.pk])
    for outsider in (other_engineer, auditor):
        client.force_login(outsider)
        assert client.get(edit).status_code == 403
        assert client.post(edit, _form({"licence": "mit"})).status_code == 403
        assert 'href="' + edit not in page(client, outsider, "registry:model-detail", model.pk)
    client.force_login(reviewer)
    assert client.post(edit, _form({"licence": "mit"})).status_code == 302
