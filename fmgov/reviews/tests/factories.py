"""Factories and helpers for review tests.

Registry rows are created directly (one row each) so these tests do not
depend on the registry's API; reviews, items and sign-offs go through the
services, as every real caller does.
"""

import hashlib

import factory
from django.contrib.auth.models import Group

from fmgov.registry.choices import Access, Environment, Modality
from fmgov.registry.models import Deployment, FoundationModel
from fmgov.reviews import services
from fmgov.reviews.models import ReviewPolicy, RiskCategory, RiskReview


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class FoundationModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FoundationModel

    name = factory.Sequence(lambda n: f"Llama-Test-{n}")
    version = "1"
    provider = "Meta"
    modality = Modality.TEXT
    access = Access.OPEN_WEIGHTS
    license = "llama3.1"
    artifact_digest = factory.LazyAttribute(lambda o: digest(f"{o.name}:{o.version}"))


class DeploymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deployment

    name = factory.Sequence(lambda n: f"support-assistant-{n}")
    foundation_model = factory.SubFactory(FoundationModelFactory, owner=factory.SelfAttribute("..owner"))
    environment = Environment.PRODUCTION


class ReviewPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewPolicy

    name = factory.Sequence(lambda n: f"Policy {n}")
    quorum = 2
    validity_days = 90
    required_groups = factory.LazyFunction(list)


def raw_update(instance, **fields) -> None:
    """Change a row behind the services' back (an SQL UPDATE, as an insider or a bug would), then reload it."""
    from django.db import connection

    table = connection.ops.quote_name(instance._meta.db_table)
    columns = [instance._meta.get_field(f) for f in fields]
    assignments = ", ".join(f"{connection.ops.quote_name(c.column)} = %s" for c in columns)
    values = [c.get_db_prep_save(v, connection) for c, v in zip(columns, fields.values(), strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {assignments} WHERE id = %s", [*values, instance.pk])
    instance.refresh_from_db()


def join_group(user, name: str):
    user.groups.add(Group.objects.get_or_create(name=name)[0])
    user.__dict__.pop("_fmgov_roles", None)
    return user


ITEM_DEFAULTS = {
    "description": "The assistant may state invented refund policies as fact.",
    "likelihood": 4,
    "severity": 3,
    "mitigation": "Retrieval over the policy corpus; answers cite the source paragraph.",
    "residual_likelihood": 2,
    "residual_severity": 3,
    "evidence": ["https://wiki.example.org/evals/hallucination-2026-10", "Red-team session 2026-10-12: 3/200 failures"],
}


def add_item(review: RiskReview, actor, slug: str = "reliability", **overrides):
    values = {**ITEM_DEFAULTS, **overrides}
    return services.review_item_create(
        review=review, actor=actor, category=RiskCategory.objects.get(slug=slug), **values
    )


def ready_review(*, author, deployment=None, policy=None, slugs=None) -> RiskReview:
    """A draft review with an item for every category its policy requires (or ``slugs``), and a board to sign it."""
    deployment = deployment or DeploymentFactory(owner=author)
    policy = policy or ReviewPolicyFactory()
    review = services.review_create(deployment=deployment, actor=author, policy=policy, title="Launch review")
    wanted = slugs if slugs is not None else [c.slug for c in policy.required_categories.all()] or ["reliability"]
    for slug in wanted:
        add_item(review, author, slug)
    ensure_board(review, author)
    return review


def ensure_board(review: RiskReview, submitter) -> list:
    """Enough eligible reviewers for the policy (submission refuses a quorum nobody can reach).

    The added board members have no e-mail address, so no notification test counts them.
    """
    from django.contrib.auth import get_user_model

    from fmgov.reviews.selectors import eligible_reviewers

    policy = review.policy
    eligible = list(eligible_reviewers(review, submitter=submitter))
    present = {g.name for user in eligible for g in user.groups.all()}
    groups = sorted(set(policy.required_groups or []) - present)
    added = []
    while len(eligible) + len(added) < policy.quorum or groups:
        user = get_user_model().objects.create_user(username=f"board-{get_user_model().objects.count() + 1}")
        join_group(user, "reviewer")
        for name in groups[:1]:
            join_group(user, name)
        groups = groups[1:]
        added.append(user)
    return added


def submitted_review(*, author, **kwargs) -> RiskReview:
    return services.review_submit(review=ready_review(author=author, **kwargs), actor=author)


def approve(review: RiskReview, *reviewers, conditions: str = "") -> list:
    """Each reviewer signs the review off with an approval."""
    return [
        services.sign_off_create(review=review, actor=r, decision="approve", comment="ok", conditions=conditions)
        for r in reviewers
    ]
