"""The content hash covers all a reviewer sees, under the scheme each sign-off was made with (issue 15)."""

import pytest

from audits.canonical import canonical_json
from fmgov.core.exceptions import TransitionNotAllowed
from fmgov.evaluations.models import EvaluationSuite, SuiteRequirement
from fmgov.evaluations.services import evidence_link_create, evidence_link_delete
from fmgov.findings.choices import FindingSource
from fmgov.findings.services import finding_open
from fmgov.registry.tests.factories import AdaptationFactory, EndpointCredentialFactory
from fmgov.registry.tests.factories import DeploymentFactory as RegistryDeploymentFactory
from fmgov.reviews.choices import HASH_SCHEME_CURRENT, ReviewState
from fmgov.reviews.content import HASH_SCHEMES, review_content, review_content_hash
from fmgov.reviews.models import SignOff
from fmgov.reviews.selectors import deployment_approval_blocker
from fmgov.reviews.tests.factories import ReviewPolicyFactory, approve, raw_update, ready_review, submitted_review

pytestmark = pytest.mark.django_db


def _finding(deployment):
    return finding_open(source=FindingSource.PORTFOLIO, subject=deployment, title="Seen in the portfolio", system="t")[
        0
    ]


def _adapted_review(engineer, admin_user):
    """A submitted review of an adaptation's deployment with a credential and a required suite."""
    from fmgov.registry.tests.factories import FoundationModelFactory

    base = FoundationModelFactory(owner=admin_user)
    adaptation = AdaptationFactory(owner=engineer, derived_from_models=[base.pk])
    credential = EndpointCredentialFactory(actor=admin_user)
    deployment = RegistryDeploymentFactory(
        owner=engineer, foundation_model=None, adaptation=adaptation, endpoint_credential=credential
    )
    policy = ReviewPolicyFactory(quorum=1)
    suite = EvaluationSuite.objects.create(name="bias", evaluator="lm_eval_import", owner=admin_user)
    SuiteRequirement.objects.create(policy=policy, suite=suite, max_age_days=30)
    review = ready_review(author=engineer, deployment=deployment, policy=policy)
    return review, base, adaptation, suite


def test_scheme_2_covers_credential_lineage_and_required_suites(engineer, admin_user):
    review, base, adaptation, suite = _adapted_review(engineer, admin_user)
    content = review_content(review)
    assert content["deployment"]["endpoint"]["credential"] == review.deployment.endpoint_credential.name
    assert content["deployment"]["governed"]["adaptation"] == adaptation.pk
    lineage = {(n["kind"], n["id"]): n for n in content["lineage"]}
    assert lineage[("foundation_model", base.pk)]["license"] == base.license
    assert lineage[("adaptation", adaptation.pk)]["parents"] == [["foundation_model", base.pk]]
    assert content["policy"]["required_suites"][0]["suite"] == suite.pk
    before = review_content_hash(review)
    for row, change in (
        (base, {"license": "proprietary"}),
        (base, {"artifact_digest": "0" * 64}),
        (adaptation, {"license": "cc-by-4.0"}),
        (suite, {"thresholds": {"accuracy": {"op": ">=", "value": 0.1}}}),
        (review.deployment.endpoint_credential, {"name": "another-credential"}),
    ):
        old = {field: getattr(row, field) for field in change}
        raw_update(row, **change)
        assert review_content_hash(review) != before, change
        raw_update(row, **old)
        assert review_content_hash(review) == before
    # Scheme 1, as released, saw none of it.
    v1 = review_content_hash(review, scheme=1)
    raw_update(base, license="proprietary")
    assert review_content_hash(review, scheme=1) == v1 and "lineage" not in review_content(review, scheme=1)


def test_every_scheme_is_a_pure_function_of_the_database(engineer):
    review = submitted_review(author=engineer)
    assert review.hash_scheme == HASH_SCHEME_CURRENT and set(HASH_SCHEMES) == {1, 2, 3}
    for scheme in HASH_SCHEMES:
        assert canonical_json(review_content(review, scheme=scheme)) == canonical_json(
            review_content(review, scheme=scheme)
        )
    assert review.content_hash == review_content_hash(review, scheme=HASH_SCHEME_CURRENT)


def test_evidence_on_a_submitted_review_voids_its_sign_offs_and_on_an_approved_one_is_refused(
    engineer, reviewer, other_reviewer, client_for
):
    review = submitted_review(author=engineer)
    item = review.items.get()
    (first,) = approve(review, reviewer)
    link = evidence_link_create(actor=engineer, review_item=item, finding=_finding(review.deployment))
    review.refresh_from_db()
    first.refresh_from_db()
    assert review.state == ReviewState.DRAFT and first.void and "cite evidence" in first.void_reason
    from fmgov.reviews import services

    review = services.review_submit(review=review, actor=engineer)
    assert review.content_hash != first.content_hash  # the evidence is in what the board now signs
    approve(review, reviewer, other_reviewer)
    review.refresh_from_db()
    assert review.state == ReviewState.APPROVED
    with pytest.raises(TransitionNotAllowed, match="the review is approved"):
        evidence_link_delete(actor=engineer, link=link)
    response = client_for(engineer).post(
        "/api/v1/evaluation-evidence/",
        {"review_item": item.pk, "finding": _finding(review.deployment).pk},
        format="json",
    )
    assert response.status_code == 409 and "approved" in response.json()["detail"]
    assert deployment_approval_blocker(review.deployment) is None


def test_removing_evidence_from_a_submitted_review_voids_its_sign_offs(engineer, reviewer):
    review = ready_review(author=engineer)
    link = evidence_link_create(actor=engineer, review_item=review.items.get(), finding=_finding(review.deployment))
    from fmgov.reviews import services

    review = services.review_submit(review=review, actor=engineer)
    (sign_off,) = approve(review, reviewer)
    evidence_link_delete(actor=engineer, link=link)
    sign_off.refresh_from_db()
    review.refresh_from_db()
    assert sign_off.void and review.state == ReviewState.DRAFT


def test_a_sign_off_records_the_scheme_it_was_made_under(engineer, reviewer):
    review = submitted_review(author=engineer)
    (sign_off,) = approve(review, reviewer)
    assert SignOff.objects.get(pk=sign_off.pk).hash_scheme == review.hash_scheme == HASH_SCHEME_CURRENT


def test_a_missing_contributor_fails_the_start_up_check():
    from fmgov.core.hooks import check_every_hook_is_answered
    from fmgov.reviews import hooks

    answer = hooks.review_content_parts._answer
    hooks.review_content_parts._answer = None
    try:
        errors = [e for e in check_every_hook_is_answered() if "reviews.review_content_parts" in e.msg]
        with pytest.raises(Exception, match="Nothing answers the hook reviews.review_content_parts"):
            hooks.review_content_parts(None)
    finally:
        hooks.review_content_parts._answer = answer
    assert [e.id for e in errors] == ["fmgov.E001"]
