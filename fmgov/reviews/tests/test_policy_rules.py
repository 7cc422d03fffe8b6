"""The policy by rule (admins map environments; authors may only go stricter) and the reachable-quorum guard."""

import pytest

from audits.models import AuditEvent
from fmgov.core.exceptions import Conflict, InvalidInput, NotAllowed
from fmgov.evaluations.models import EvaluationSuite, SuiteRequirement
from fmgov.registry.choices import Environment
from fmgov.registry.tests.factories import AdaptationFactory, FoundationModelFactory
from fmgov.registry.tests.factories import DeploymentFactory as RegistryDeploymentFactory
from fmgov.reviews import services
from fmgov.reviews.models import EnvironmentPolicy, RiskCategory
from fmgov.reviews.services.policy_rules import policy_looser_than
from fmgov.reviews.tests.factories import DeploymentFactory, ReviewPolicyFactory, add_item, join_group

pytestmark = pytest.mark.django_db

RULES = "/api/v1/environment-policies/"


def strict_policy(**overrides):
    policy = ReviewPolicyFactory(**{"quorum": 2, "validity_days": 90, "required_groups": ["security"], **overrides})
    policy.required_categories.set(RiskCategory.objects.filter(slug="privacy"))
    return policy


def test_only_admins_map_environments_to_policies(engineer, reviewer, auditor, admin_user, client_for):
    policy = strict_policy()
    body = {"environment": "production", "policy": policy.pk}
    for user in (engineer, reviewer, auditor):
        assert client_for(user).post(RULES, body, format="json").status_code == 403
        assert client_for(user).get(RULES).status_code == 200
    admin = client_for(admin_user)
    assert admin.post(RULES, {"environment": "moon", "policy": policy.pk}, format="json").status_code == 400
    response = admin.post(RULES, body, format="json")
    assert response.status_code == 201, response.content
    rule = EnvironmentPolicy.objects.get()
    assert AuditEvent.objects.filter(action="environment_policy.create", object_id=str(rule.pk)).exists()
    again = admin.post(RULES, body, format="json")
    assert again.status_code == 400 and "environment" in again.json()
    other = ReviewPolicyFactory()
    assert client_for(engineer).patch(f"{RULES}{rule.pk}/", {"policy": other.pk}, format="json").status_code == 403
    response = admin.patch(f"{RULES}{rule.pk}/", {"policy": other.pk, "environment": "staging"}, format="json")
    assert response.status_code == 200 and response.json() == {
        "id": rule.pk,
        "environment": "production",
        "policy": other.pk,
    }
    update = AuditEvent.objects.get(action="environment_policy.update")
    assert update.changes == {"policy": [policy.pk, other.pk]}
    assert client_for(engineer).delete(f"{RULES}{rule.pk}/").status_code == 403
    assert admin.delete(f"{RULES}{rule.pk}/").status_code == 204
    assert AuditEvent.objects.filter(action="environment_policy.delete").exists()
    with pytest.raises(NotAllowed):
        services.environment_policy_create(actor=engineer, environment="staging", policy=policy)


def test_the_author_may_choose_a_stricter_policy_never_a_weaker_one(engineer, admin_user, client_for):
    mapped = strict_policy()
    services.environment_policy_create(actor=admin_user, environment=Environment.PRODUCTION, policy=mapped)
    deployment = DeploymentFactory(owner=engineer, environment=Environment.PRODUCTION)
    eng = client_for(engineer)
    weak = ReviewPolicyFactory(quorum=1, validity_days=365)
    response = eng.post("/api/v1/reviews/", {"deployment": deployment.pk, "policy": weak.pk}, format="json")
    assert response.status_code == 400, response.content
    message = response.json()["policy"][0]
    assert "quorum 1 is below 2" in message and "security" in message and "privacy" in message and "365" in message
    review = services.review_create(deployment=deployment, actor=engineer)
    assert review.policy == mapped  # no choice: the rule's policy
    stricter = strict_policy(quorum=3, validity_days=30)
    stricter.required_categories.add(RiskCategory.objects.get(slug="bias"))
    assert services.review_update(review=review, actor=engineer, policy=stricter).policy == stricter
    response = eng.patch(f"/api/v1/reviews/{review.pk}/", {"policy": weak.pk}, format="json")
    assert response.status_code == 400 and "weaker" in response.json()["policy"][0]
    # Elsewhere (no rule) the author chooses freely.
    staging = DeploymentFactory(owner=engineer, environment=Environment.STAGING)
    assert services.review_create(deployment=staging, actor=engineer, policy=weak).policy == weak


def test_a_rule_tightened_after_the_review_was_written_is_enforced_at_submission(engineer, admin_user, reviewer):
    deployment = DeploymentFactory(owner=engineer, environment=Environment.PRODUCTION)
    weak = ReviewPolicyFactory(quorum=1)
    review = services.review_create(deployment=deployment, actor=engineer, policy=weak)
    add_item(review, engineer)
    services.environment_policy_create(actor=admin_user, environment=Environment.PRODUCTION, policy=strict_policy())
    with pytest.raises(InvalidInput, match="requires the policy"):
        services.review_submit(review=review, actor=engineer)


def test_required_suites_must_be_kept_and_not_loosened(engineer, admin_user):
    suite = EvaluationSuite.objects.create(name="toxicity", evaluator="lm_eval_import", owner=admin_user)
    floor, same, looser, without = (ReviewPolicyFactory() for _ in range(4))
    for policy, days in ((floor, 7), (same, 7), (looser, 30)):
        SuiteRequirement.objects.create(policy=policy, suite=suite, max_age_days=days)
    assert policy_looser_than(same, floor) == []
    assert policy_looser_than(looser, floor) == [f"it accepts an older or looser run of evaluation suite #{suite.pk}"]
    assert policy_looser_than(without, floor) == [f"it does not require evaluation suite #{suite.pk}"]
    assert policy_looser_than(floor, without) == []


def _draft(author, deployment, policy):
    review = services.review_create(deployment=deployment, actor=author, policy=policy)
    add_item(review, author)
    return review


def test_submission_needs_enough_eligible_reviewers(make_user, client_for):
    owner = make_user("erin", "engineer", "reviewer")  # a reviewer, but the author: not eligible
    base_owner = make_user("bo", "engineer", "reviewer")  # owns an ancestor: not eligible
    make_user("rita", "reviewer")
    base = FoundationModelFactory(owner=base_owner)
    adaptation = AdaptationFactory(owner=owner, derived_from_models=[base.pk])
    deployment = RegistryDeploymentFactory(owner=owner, foundation_model=None, adaptation=adaptation)
    review = _draft(owner, deployment, ReviewPolicyFactory(quorum=2))
    response = client_for(owner).post(f"/api/v1/reviews/{review.pk}/submit/")
    assert response.status_code == 409
    assert "needs 2 approval(s) and only 1 eligible reviewer(s) remain" in response.json()["detail"]
    review.refresh_from_db()
    assert review.state == "draft" and review.submission == 0
    make_user("ravi", "reviewer")
    assert client_for(owner).post(f"/api/v1/reviews/{review.pk}/submit/").status_code == 200


def test_submission_needs_an_eligible_reviewer_in_every_required_group(make_user, engineer):
    join_group(make_user("rita", "reviewer"), "legal")
    join_group(make_user("sam", "reviewer"), "security")
    join_group(engineer, "security")  # the author's own membership does not count (not a reviewer anyway)
    policy = ReviewPolicyFactory(quorum=1, required_groups=["security", "legal", "ethics"])
    review = _draft(engineer, DeploymentFactory(owner=engineer), policy)
    with pytest.raises(Conflict, match="required group.s. ethics"):
        services.review_submit(review=review, actor=engineer)
    join_group(make_user("eve", "reviewer"), "ethics")
    assert services.review_submit(review=review, actor=engineer).state == "submitted"
