"""Model-card export honours Accept: Markdown for text/markdown and */*, a JSON 406 for anything else."""

import pytest

from fmgov.core.testing.negotiation import accept_cases, assert_negotiated
from fmgov.registry.tests.factories import AdaptationFactory, FoundationModelFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("accept", "status"), accept_cases("text/markdown"))
def test_model_cards_negotiate_on_accept(client_for, engineer, accept, status):
    model = FoundationModelFactory(owner=engineer)
    adaptation = AdaptationFactory(owner=engineer, derived_from_models=[model.pk])
    headers = {"HTTP_ACCEPT": accept} if accept is not None else {}
    client = client_for(engineer)
    for url in (
        f"/api/v1/foundation-models/{model.pk}/model-card/",
        f"/api/v1/adaptations/{adaptation.pk}/model-card/",
    ):
        response = client.get(url, **headers)
        assert_negotiated(response, "text/markdown", status)
        if status == 200:
            assert response.content.decode().startswith("---\n")


def test_an_unknown_card_is_a_json_404_even_when_markdown_was_asked(client_for, engineer):
    response = client_for(engineer).get("/api/v1/foundation-models/999999/model-card/", HTTP_ACCEPT="text/markdown")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
