"""Demo risk reviews in every state, over the registry's demo deployments.

Everything goes through the services, so the audit trail tells the same
story as the rows: every deployment the registry demo wants live goes live
through ``deployment_go_live`` once a quorum of reviewers who are not its
owner approved its review. The history is then back-dated (reviews, sign-offs,
items, ``went_live_at``) so that it spans the past year and the expired approval
really is past its expiry date; the audit events keep the time of seeding, as
the trail records when each write happened. Idempotent: the stories are seeded once, as a whole, when
none of their deployments has a review yet; each live portfolio deployment
gets its approval once, when it has no review yet (so a demo database seeded
before it existed catches up). Skips quietly when the registry or accounts demo
is missing.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import F

from audits.base import bulk_writes_recorded
from fmgov.core.seeding import register_demo
from fmgov.registry.choices import DeploymentStatus
from fmgov.registry.demo import DEPLOYMENTS
from fmgov.registry.models import Deployment
from fmgov.registry.services import deployment_go_live, deployment_retire
from fmgov.reviews import services
from fmgov.reviews.models import ReviewItem, ReviewPolicy, RiskCategory, RiskReview, SignOff

SYSTEM = "seed_demo"

ITEMS = {
    "harmful-content": {
        "description": "Could be prompted into producing abusive replies or step-by-step instructions for fraud.",
        "likelihood": 3,
        "severity": 4,
        "mitigation": "Input and output moderation classifier; refusal policy in the system prompt; abuse reports "
        "reach the on-call engineer.",
        "residual_likelihood": 1,
        "residual_severity": 4,
        "evidence": [
            "Red-team exercise 2026-10-14: 4 of 300 jailbreak prompts succeeded before the filter, 0 after",
            "https://wiki.example.org/safety/moderation-filter",
        ],
    },
    "bias": {
        "description": "Answers differ in tone and helpfulness by the customer's name or dialect.",
        "likelihood": 3,
        "severity": 3,
        "mitigation": "Counterfactual name-swap evaluation on every release; prompts forbid inferring demographics.",
        "residual_likelihood": 2,
        "residual_severity": 2,
        "evidence": [
            "Counterfactual evaluation, 2,000 paired prompts: max sentiment gap 0.04",
            "https://evals.example.org/bias/name-swap-2026-11",
        ],
    },
    "security-interpretability": {
        "description": "Prompt injection through retrieved documents or user input could leak the system prompt "
        "or internal URLs.",
        "likelihood": 4,
        "severity": 4,
        "mitigation": "Retrieved text is quoted and marked untrusted; no tool use; egress filter on URLs; "
        "conversation logs kept 30 days for audit.",
        "residual_likelihood": 2,
        "residual_severity": 3,
        "evidence": [
            "Injection suite (garak promptinject): 2.1% success after mitigations",
            "https://security.example.org/reviews/llm-egress-filter",
        ],
    },
    "reliability": {
        "description": "States invented policies, prices or deadlines as fact (hallucination).",
        "likelihood": 4,
        "severity": 3,
        "mitigation": "Answers must cite a retrieved paragraph; an uncited answer becomes a hand-off to a person.",
        "residual_likelihood": 2,
        "residual_severity": 3,
        "evidence": [
            "Faithfulness evaluation on 500 tickets: 96.8% answers supported by a citation",
            "https://evals.example.org/runs/faithfulness-2026-11-20",
        ],
    },
    "privacy": {
        "description": "Customers paste personal data (addresses, account numbers) that ends up in logs and "
        "evaluation samples.",
        "likelihood": 4,
        "severity": 3,
        "mitigation": "PII redaction before logging; evaluation samples drawn from redacted logs only; DPIA filed.",
        "residual_likelihood": 2,
        "residual_severity": 2,
        "evidence": ["DPIA-2026-031", "Redaction recall on 1,000 labelled messages: 98.9%"],
    },
    "environmental": {
        "description": "Inference on GPUs at the expected volume adds measurable energy use and emissions.",
        "likelihood": 5,
        "severity": 2,
        "mitigation": "4-bit quantised build; batching; region with a low-carbon grid mix.",
        "residual_likelihood": 5,
        "residual_severity": 1,
        "evidence": ["Measured 0.31 Wh per request on one L4 GPU (CodeCarbon)"],
    },
    "concentration-of-power": {
        "description": "Depends on one external API provider whose terms and pricing may change at short notice.",
        "likelihood": 3,
        "severity": 3,
        "mitigation": "OpenAI-compatible interface so an open-weights fallback can be swapped in; exit plan reviewed.",
        "residual_likelihood": 3,
        "residual_severity": 2,
        "evidence": ["Fallback drill 2026-09-30: switched to Mistral 7B in 40 minutes"],
    },
    "intellectual-property": {
        "description": "Outputs may reproduce licensed third-party text from the knowledge base verbatim.",
        "likelihood": 2,
        "severity": 3,
        "mitigation": "Knowledge base limited to documents we own or license for this use; quote-length limit.",
        "residual_likelihood": 1,
        "residual_severity": 3,
        "evidence": ["Licence register entry KB-7"],
    },
}

CORE = ["harmful-content", "bias", "security-interpretability", "reliability"]

# The deployments the review stories below are told on.
STORIES = [
    "support-bot-prod",
    "support-bot-staging",
    "policy-assistant-prod",
    "policy-assistant-pilot",
    "policy-search-embeddings",
    "incident-triage",
    "llama-sandbox",
]

# The rest of the live portfolio, each approved once and then live:
# (deployment, author, policy, title, board, extra, conditions, days since approval).
# "default" is the board's default policy, "launch" the security policy for customer-facing services. The
# translations are checked by a person before they are published, so the default policy covers them.
PORTFOLIO = [
    ("ticket-summarizer-prod", "erin", "default", "Ticket summariser launch", ["rita", "sam"], ("privacy",),
     "Summaries are shown to agents only, never sent to customers.", 75),
    ("feedback-tagger-prod", "eli", "default", "Feedback tagger launch", ["rita", "ravi"], ("privacy",), "", 64),
    ("it-helpdesk-prod", "eli", "default", "IT helpdesk assistant launch", ["ravi", "sam"], ("privacy",), "", 51),
    ("help-centre-translation", "erin", "default", "Help-centre translation launch", ["ravi", "rita"],
     ("concentration-of-power",), "A person reviews every translated article before it is published.", 33),
]  # fmt: skip


def _review(deployment, author, policy, title: str, extra: tuple[str, ...] = ()) -> RiskReview:
    review = services.review_create(
        deployment=deployment,
        actor=author,
        policy=policy,
        title=title,
        summary=f"Risk register for {deployment.name} ({deployment.get_environment_display().lower()}).",
    )
    slugs = {c.slug for c in policy.required_categories.all()} | set(CORE) | set(extra)
    categories = {c.slug: c for c in RiskCategory.objects.filter(slug__in=slugs)}
    for slug in sorted(slugs, key=lambda s: list(ITEMS).index(s)):
        services.review_item_create(review=review, actor=author, category=categories[slug], **ITEMS[slug])
    return review


def _approved(deployment, author, policy, title, board, extra=(), conditions="") -> RiskReview:
    review = services.review_submit(review=_review(deployment, author, policy, title, extra), actor=author)
    for i, reviewer in enumerate(board):
        services.sign_off_create(
            review=review,
            actor=reviewer,
            decision="approve",
            comment="Mitigations are proportionate and the evidence is current.",
            conditions=conditions if i == 0 else "",
        )
    review.refresh_from_db()
    return review


TARGET_STATUS = {name: status for name, _target, _env, _endpoint, _region, status in DEPLOYMENTS}
WENT_LIVE = (DeploymentStatus.LIVE, DeploymentStatus.SUSPENDED, DeploymentStatus.RETIRED)


def _backdate(review: RiskReview, *, days: int) -> RiskReview:
    """Move a review, its items and sign-offs ``days`` into the past (its expiry with it); audit events stay."""
    shift = timedelta(days=days)
    fields = ["created_at", "updated_at", "submitted_at", "decided_at", "approved_at", "expires_at"]
    with bulk_writes_recorded():  # back-dating only; every write was audited when it happened
        RiskReview.objects.filter(pk=review.pk).update(**{f: F(f) - shift for f in fields})
        for model in (ReviewItem, SignOff):
            model.objects.filter(review_id=review.pk).update(created_at=F("created_at") - shift)
        review.refresh_from_db()
        Deployment.objects.filter(pk=review.deployment_id, created_at__gt=review.created_at).update(
            created_at=review.created_at - timedelta(days=3)
        )
    return review


def _bring_to_target(review: RiskReview, *, days: int) -> RiskReview:
    """Take the approved deployment where the registry demo wants it, then back-date the story ``days``.

    Going live passes the gate at seeding time, while the approval is valid; afterwards the approval and
    ``went_live_at`` (a day after the approval) move into the past together.
    """
    deployment = review.deployment
    target = TARGET_STATUS[deployment.name]
    if target in WENT_LIVE:
        deployment_go_live(deployment=deployment, actor=deployment.owner)
    if target == DeploymentStatus.RETIRED:
        deployment_retire(
            deployment=deployment, actor=deployment.owner, reason="Sandbox closed; experiments moved to staging."
        )
    review = _backdate(review, days=days)
    if target in WENT_LIVE:
        with bulk_writes_recorded():
            Deployment.objects.filter(pk=deployment.pk).update(went_live_at=review.approved_at + timedelta(days=1))
    return review


def _security_policy(security_group_exists: bool) -> ReviewPolicy:
    policy = ReviewPolicy.objects.filter(name="Customer-facing launch").first()
    if policy is None:
        policy = services.review_policy_create(
            actor=None,
            system=SYSTEM,
            name="Customer-facing launch",
            description="Two approvals, one from the security group; six months.",
            quorum=2,
            required_groups=["security"] if security_group_exists else [],
            validity_days=180,
            required_categories=RiskCategory.objects.filter(slug__in=CORE + ["privacy"]),
        )
    return policy


@transaction.atomic
def seed(stdout) -> None:
    users = {
        u.username: u for u in get_user_model().objects.filter(username__in=["erin", "eli", "rita", "ravi", "sam"])
    }
    if len(users) < 5:
        stdout.write("demo reviews: skipped (demo users missing; run the accounts demo first)")
        return
    deployments = {d.name: d for d in Deployment.objects.select_related("owner")}
    if not all(name in deployments for name in STORIES):
        stdout.write("demo reviews: skipped (the registry's demo deployments are missing)")
        return
    policies = {
        "default": ReviewPolicy.objects.get(is_default=True),
        "launch": _security_policy(Group.objects.filter(name="security").exists()),
    }
    created = False
    if not RiskReview.objects.filter(deployment__name__in=STORIES).exists():
        _seed_stories(deployments, users, policies)
        created = True
    portfolio = [p[0] for p in PORTFOLIO]
    reviewed = set(RiskReview.objects.filter(deployment__name__in=portfolio).values_list("deployment__name", flat=True))
    for name, author, policy, title, board, extra, conditions, days_ago in PORTFOLIO:
        if name not in deployments or name in reviewed:
            continue
        reviewers = [users[u] for u in board]
        review = _approved(deployments[name], users[author], policies[policy], title, reviewers, extra, conditions)
        _bring_to_target(review, days=days_ago)
        created = True
    if not created:
        stdout.write("demo reviews: already present")
        return

    counts = {}
    for state in RiskReview.objects.filter(deployment__name__in=STORIES + portfolio).values_list("state", flat=True):
        counts[state] = counts.get(state, 0) + 1
    stdout.write("demo reviews: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))


def _seed_stories(deployments, users, policies) -> None:
    """Reviews in every state: an expired approval and its renewal, a pending board, a revocation, a rejection."""
    erin, eli, rita, ravi, sam = (users[n] for n in ["erin", "eli", "rita", "ravi", "sam"])
    default, launch = policies["default"], policies["launch"]

    # support-bot-prod: approved 400 days ago and live since; renewed 42 days ago under the launch policy, just
    # before the first approval reached its expiry date (365 days), which is then expired.
    prod = deployments["support-bot-prod"]
    old = _approved(prod, erin, default, "Support bot launch review", [rita, sam], extra=("privacy",))
    old = _bring_to_target(old, days=400)
    renewal = _approved(prod, erin, launch, "Support bot annual re-review", [ravi, rita], extra=("environmental",),
                        conditions="Re-run the injection suite after every knowledge-base import.")  # fmt: skip
    _backdate(renewal, days=42)
    services.review_expire(review=old, system=SYSTEM)

    # support-bot-staging: approved with conditions under the security policy.
    staging = _approved(deployments["support-bot-staging"], erin, launch, "Staging evaluation review", [ravi, sam],
                        conditions="Staging only; no real customer data.")  # fmt: skip
    _backdate(staging, days=60)

    # policy-assistant-prod: submitted, one approval in, waiting for the rest of the board.
    waiting = services.review_submit(
        review=_review(
            deployments["policy-assistant-prod"],
            eli,
            default,
            "Policy assistant production launch",
            extra=("intellectual-property",),
        ),  # fmt: skip
        actor=eli,
    )
    services.sign_off_create(review=waiting, actor=rita, decision="approve", comment="Citations are convincing.")
    _backdate(waiting, days=5)

    # policy-assistant-pilot: approved, went live, then revoked by an admin decision, which suspended it.
    pilot = deployments["policy-assistant-pilot"]
    revoked = _bring_to_target(_approved(pilot, eli, default, "Policy assistant pilot", [rita, sam]), days=120)
    services.review_revoke(
        review=revoked,
        reason="The pilot's retrieval index holds documents whose licence does not cover this use; "
        "review again after re-indexing.",
        system=SYSTEM,
    )

    # policy-search-embeddings: approved and live; next year's review is being drafted.
    embeddings = deployments["policy-search-embeddings"]
    approved = _approved(embeddings, eli, default, "Policy search embeddings", [sam, ravi], extra=("environmental",))
    _bring_to_target(approved, days=90)
    _review(embeddings, eli, default, "Policy search embeddings: model upgrade (draft)")

    # llama-sandbox: approved for the development sandbox, live for a while, then retired.
    sandbox = deployments["llama-sandbox"]
    approved = _approved(sandbox, erin, default, "Llama sandbox for prompt experiments", [rita, ravi])
    _bring_to_target(approved, days=200)

    # incident-triage: rejected, then resubmitted and sent back for changes.
    triage = deployments["incident-triage"]
    rejected = services.review_submit(
        review=_review(triage, erin, default, "Incident triage launch", extra=("concentration-of-power",)),
        actor=erin,
    )
    services.sign_off_create(
        review=rejected,
        actor=ravi,
        decision="reject",
        comment="Incident reports contain credentials and personal data; no privacy assessment.",
    )
    _backdate(rejected, days=30)
    second = services.review_submit(
        review=_review(triage, erin, default, "Incident triage launch, second attempt", extra=("privacy",)),
        actor=erin,
    )
    services.review_request_changes(
        review=second, actor=sam, comment="Show the redaction recall on real incident reports, not support tickets."
    )
    _backdate(second, days=10)


register_demo(seed)
