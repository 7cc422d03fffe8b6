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
