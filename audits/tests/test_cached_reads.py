"""API reads cached under the trail head (issue 18): never stale, never another user's, never past a refusal.

Runs on SQLite with the per-process cache and on PostgreSQL with the Redis cache of the CI's second pass.
"""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from audits.selectors import chain_head
from fmgov.accounts.models import ApiToken
from fmgov.accounts.services import token_create, token_revoke, user_set_roles
from fmgov.registry.services.deployments import deployment_update
from fmgov.registry.tests.factories import DeploymentFactory, FoundationModelFactory
from fmgov.reviews.tests.factories import ReviewPolicyFactory, approve, submitted_review

pytestmark = pytest.mark.django_db

# A cached answer costs the token, the user's roles and the chain head: nothing the answer itself reads.
HIT_QUERIES = 3


def _get(client, url: str, **extra) -> tuple[object, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    return response, [q["sql"] for q in queries.captured_queries]


@pytest.mark.parametrize(
    "url",
    ["/api/v1/foundation-models/", "/api/v1/deployments/", "/api/v1/reviews/", "/api/v1/adaptations/"],
)
def test_a_second_read_is_the_same_answer_from_the_cache(url, engineer, auditor, client_for):
    review = submitted_review(author=engineer, policy=ReviewPolicyFactory(required_groups=[], quorum=1))
    client = client_for(auditor)
    first, computed = _get(client, url)
    second, served = _get(client, url)
    assert first.status_code == second.status_code == 200
    assert second.content == first.content and second["Content-Type"] == first["Content-Type"]
    assert len(computed) > HIT_QUERIES and len(served) == HIT_QUERIES, served
    assert "audits_chainhead" in served[-1]
    if url == "/api/v1/reviews/":
        assert [row["id"] for row in second.json()["results"]] == [review.pk]


def test_a_detail_is_cached_and_a_service_write_shows_at_once(engineer, auditor, client_for):
    deployment = DeploymentFactory(owner=engineer, region="eu-west-1")
    client = client_for(auditor)
    url = f"/api/v1/deployments/{deployment.pk}/"
    assert client.get(url).json()["region"] == "eu-west-1"
    assert len(_get(client, url)[1]) == HIT_QUERIES

    deployment_update(deployment=deployment, actor=engineer, region="eu-central-1")
    response, queries = _get(client, url)
    assert response.json()["region"] == "eu-central-1" and len(queries) > HIT_QUERIES
    listed = client.get("/api/v1/deployments/").json()["results"]
    assert [row["region"] for row in listed] == ["eu-central-1"]

    added = DeploymentFactory(owner=engineer)
    assert {row["id"] for row in client.get("/api/v1/deployments/").json()["results"]} == {deployment.pk, added.pk}


def test_a_rolled_back_write_leaves_no_stale_answer(engineer, auditor, client_for):
    """The rolled-back event's sequence number comes back with another hash: its cached answer is never read."""
    model = FoundationModelFactory(owner=engineer)
    client = client_for(auditor)
    before = client.get("/api/v1/deployments/").json()
    head = chain_head()

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        DeploymentFactory(owner=engineer, foundation_model=model, name="rolled-back")
        assert [row["name"] for row in client.get("/api/v1/deployments/").json()["results"]] == ["rolled-back"]
        raise Undo

    assert chain_head() == head
    assert client.get("/api/v1/deployments/").json() == before
    kept = DeploymentFactory(owner=engineer, foundation_model=model, name="kept")
    assert chain_head()[0] == head[0] + 1 and chain_head()[1] != head[1]
    assert [row["id"] for row in client.get("/api/v1/deployments/").json()["results"]] == [kept.pk]


def test_each_user_has_their_own_answer(engineer, reviewer, other_reviewer, client_for):
    """``?awaiting=me`` differs per user: one reviewer's cached page is never another's."""
    review = submitted_review(author=engineer, policy=ReviewPolicyFactory(required_groups=[], quorum=2))
    approve(review, reviewer)
    mine, theirs = client_for(reviewer), client_for(other_reviewer)  # tokens are audited: made before reading
    url = "/api/v1/reviews/?awaiting=me"
    assert mine.get(url).json()["results"] == []  # signed already
    assert len(_get(mine, url)[1]) == HIT_QUERIES
    response, queries = _get(theirs, url)
    assert [row["id"] for row in response.json()["results"]] == [review.pk]
    assert len(queries) > HIT_QUERIES  # computed for this user, not served from the first one's entry
    assert mine.get(url).json()["results"] == []


def test_a_revoked_token_and_a_lost_role_are_refused_though_the_answer_is_cached(engineer, auditor, client_for):
    FoundationModelFactory(owner=engineer)
    key = token_create(user=auditor, name="cached")[1]
    client = client_for(auditor)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/foundation-models/").status_code == 200
    assert len(_get(client, "/api/v1/foundation-models/")[1]) == HIT_QUERIES

    token_revoke(token=ApiToken.objects.get(user=auditor, name="cached"), actor=auditor, reason="test")
    assert client.get("/api/v1/foundation-models/").status_code == 401

    other = client_for(auditor)
    assert other.get("/api/v1/foundation-models/").status_code == 200
    user_set_roles(user=auditor, roles=[])
    assert other.get("/api/v1/foundation-models/").status_code == 403


def test_the_browsable_api_and_the_trail_are_computed_each_time(engineer, auditor, client_for):
    """HTML carries the user's menus and a CSRF token; the trail's altered-column marks come from each read."""
    FoundationModelFactory(owner=engineer)
    client = client_for(auditor)
    client.get("/api/v1/foundation-models/", HTTP_ACCEPT="text/html")
    response, queries = _get(client, "/api/v1/foundation-models/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and len(queries) > HIT_QUERIES
    client.get("/api/v1/audit-events/")
    assert len(_get(client, "/api/v1/audit-events/")[1]) > HIT_QUERIES


def test_pagination_links_follow_the_host_asked(engineer, auditor, client_for, settings):
    settings.ALLOWED_HOSTS = ["fmgov.example.org", "testserver"]
    for _ in range(3):
        FoundationModelFactory(owner=engineer)
    client = client_for(auditor)
    url = "/api/v1/foundation-models/?page_size=2"
    assert client.get(url).json()["next"].startswith("http://testserver/")
    assert client.get(url, HTTP_HOST="fmgov.example.org").json()["next"].startswith("http://fmgov.example.org/")


def test_off_when_the_setting_is_zero(engineer, auditor, client_for, computed_reads):
    FoundationModelFactory(owner=engineer)
    client = client_for(auditor)
    client.get("/api/v1/foundation-models/")
    assert len(_get(client, "/api/v1/foundation-models/")[1]) > HIT_QUERIES
