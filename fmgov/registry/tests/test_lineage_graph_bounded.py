"""The model and adaptation pages draw only the nearest lineage: node count and queries do not grow with the DAG."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fmgov.registry.tests.factories import AdaptationFactory, FoundationModelFactory

pytestmark = pytest.mark.django_db

LIMIT = 4


@pytest.fixture
def web(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def _grow(model, owner, count: int) -> list:
    """``count`` adaptations: the first two on the model, each next one on the one two places before (depths 1..)."""
    made = []
    for i in range(count):
        if i < 2:
            made.append(AdaptationFactory(owner=owner, name=f"{model.pk}-d{i:02}", derived_from_models=[model.pk]))
        else:
            made.append(
                AdaptationFactory(owner=owner, name=f"{model.pk}-d{i:02}", derived_from_adaptations=[made[i - 2].pk])
            )
    return made


def _page(client, url: str) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_model_page_draws_the_nearest_and_counts_the_rest(web, engineer, settings):
    settings.LINEAGE_GRAPH_MAX_NODES = LIMIT
    small, big = FoundationModelFactory(owner=engineer), FoundationModelFactory(owner=engineer)
    _grow(small, engineer, LIMIT - 1)
    made = _grow(big, engineer, 12)
    client = web(engineer)
    _, small_queries = _page(client, reverse("registry:model-detail", args=[small.pk]))
    page, big_queries = _page(client, reverse("registry:model-detail", args=[big.pk]))
    assert big_queries == small_queries
    assert page.count('class="node node-') - 1 <= LIMIT
    assert "and 8 more descendant(s)" in page and "12 related" in page
    assert reverse("foundation-model-descendants", args=[big.pk]) in page
    # The nearest are drawn (depth 1 and 2); the deepest is not, and the API still lists all twelve.
    assert f'href="{reverse("registry:adaptation-detail", args=[made[0].pk])}"' in page
    assert f'href="{reverse("registry:adaptation-detail", args=[made[-1].pk])}"' not in page
    listing = client.get(reverse("foundation-model-descendants", args=[big.pk])).json()
    assert listing["count"] == 12


def test_a_small_lineage_is_drawn_whole_without_a_more_note(web, engineer, settings):
    settings.LINEAGE_GRAPH_MAX_NODES = LIMIT
    model = FoundationModelFactory(owner=engineer)
    _grow(model, engineer, LIMIT)
    page, _ = _page(web(engineer), reverse("registry:model-detail", args=[model.pk]))
    assert "more descendant" not in page and f"{LIMIT} related" in page
    assert page.count('class="edge"') == LIMIT


def test_adaptation_page_bounds_ancestors_and_descendants(web, engineer, settings):
    settings.LINEAGE_GRAPH_MAX_NODES = LIMIT
    model = FoundationModelFactory(owner=engineer)
    chain = [AdaptationFactory(owner=engineer, derived_from_models=[model.pk])]
    for _ in range(12):
        chain.append(AdaptationFactory(owner=engineer, derived_from_adaptations=[chain[-1].pk]))
    middle = chain[6]
    page, _ = _page(web(engineer), reverse("registry:adaptation-detail", args=[middle.pk]))
    # 6 descendants below and 7 ancestors above (6 adaptations and the model): 4 of each drawn.
    assert page.count('class="edge"') <= 2 * LIMIT
    assert "and 2 more descendant(s)" in page and "and 3 more ancestor(s)" in page
    assert reverse("adaptation-lineage", args=[middle.pk]) in page
