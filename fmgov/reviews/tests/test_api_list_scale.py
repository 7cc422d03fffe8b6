"""The API's review list at scale (issue 18): constant, small queries whatever the reviews' targets.

Eight tables in one join cost PostgreSQL 30-50 ms to plan for well under 1 ms of work, so the list
joins only the review's direct relations and prefetches the deployment's.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fmgov.registry.tests.factories import AdaptationFactory
from fmgov.registry.tests.factories import DeploymentFactory as RegistryDeploymentFactory
from fmgov.reviews.tests.factories import ReviewPolicyFactory, approve, submitted_review

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("computed_reads")]

LIST_QUERIES = 8  # the token, roles; count, reviews, items, sign-offs, users with their groups, targets
MOST_JOINS = 4


def _reviews_of_both_kinds(engineer, reviewer, policy, n: int) -> None:
    for _ in range(n):
        adaptation = AdaptationFactory(owner=engineer)
        on_adaptation = RegistryDeploymentFactory(owner=engineer, adaptation=adaptation)
        approve(submitted_review(author=engineer, policy=policy, deployment=on_adaptation), reviewer)
        submitted_review(author=engineer, policy=policy)  # a deployment of a foundation model


def _list(client) -> tuple[dict, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/reviews/")
    assert response.status_code == 200
    return response.json(), [q["sql"] for q in queries.captured_queries]


def test_review_list_queries_are_few_small_and_constant(engineer, reviewer, auditor, client_for):
    policy = ReviewPolicyFactory(required_groups=[], quorum=2)
    client = client_for(auditor)
    _reviews_of_both_kinds(engineer, reviewer, policy, 1)
    client.get("/api/v1/reviews/")  # the session settles
    body, few = _list(client)
    assert len(few) == LIST_QUERIES, few
    assert max(sql.count(" JOIN ") for sql in few) <= MOST_JOINS

    _reviews_of_both_kinds(engineer, reviewer, policy, 4)
    body, more = _list(client)
    assert len(more) == LIST_QUERIES and body["count"] == 10
    assert max(sql.count(" JOIN ") for sql in more) <= MOST_JOINS

    # What a reader checks: each review names its target, owner and approvals from the prefetched rows.
    by_kind = {row["target"]["kind"]: row for row in body["results"]}
    adapted = by_kind["adaptation"]
    assert adapted["deployment_owner"] == engineer.username
    assert adapted["target"]["name"].startswith("adaptation-")
    assert adapted["approval"]["approvals"] == 1 and adapted["approval"]["quorum"] == 2
    assert [s["reviewer"] for s in adapted["sign_offs"]] == [reviewer.username]
    assert by_kind["foundation_model"]["target"]["name"].startswith("Llama-Test-")
    assert all(row["items"] and row["max_inherent_score"] for row in body["results"])
