"""Pages group large numbers: a model's parameters and training compute, a deployment's expected load."""

import pytest

from fmgov.registry.tests.factories import DeploymentFactory, FoundationModelFactory

pytestmark = pytest.mark.django_db


def test_model_page_groups_parameters_and_compute(client, engineer):
    model = FoundationModelFactory(owner=engineer, parameter_count=7_241_732_096, training_compute_flop=2.1e24)
    client.force_login(engineer)
    html = client.get(f"/models/{model.pk}/").content.decode()
    assert "<dd>7,241,732,096 (7.2 B)</dd>" in html
    assert "2.1 × 10²⁴ FLOP" in html


def test_deployment_page_groups_expected_load(client, engineer):
    model = FoundationModelFactory(owner=engineer)
    deployment = DeploymentFactory(owner=engineer, foundation_model=model, expected_requests_per_day=1_250_000)
    client.force_login(engineer)
    html = client.get(f"/deployments/{deployment.pk}/").content.decode()
    assert "1,250,000 requests/day" in html
