"""Demo traffic for the live deployments, so the footprint has figures, then a portfolio check."""

from django.db import transaction

from fmgov.core.seeding import register_demo
from fmgov.portfolio.services import portfolio_check
from fmgov.registry.models import Deployment
from fmgov.registry.services import deployment_update

# Declared traffic per demo deployment that is or was live: (requests per day, tokens per request).
TRAFFIC = {
    "support-bot-prod": (12_000, 650),  # suspended by the evaluation breach; counts again once back live
    "policy-search-embeddings": (40_000, 120),
    "ticket-summarizer-prod": (5_000, 1_400),
    "feedback-tagger-prod": (20_000, 300),
    "it-helpdesk-prod": (3_000, 900),
    "help-centre-translation": (800, 2_000),
}


@transaction.atomic
def seed(stdout) -> None:
    updated = 0
    for deployment in Deployment.objects.filter(name__in=TRAFFIC, expected_requests_per_day__isnull=True):
        requests, tokens = TRAFFIC[deployment.name]
        deployment_update(
            deployment=deployment,
            actor=deployment.owner,
            expected_requests_per_day=requests,
            expected_tokens_per_request=tokens,
        )
        updated += 1
    opened = portfolio_check()
    stdout.write(f"demo portfolio: traffic declared on {updated} deployments, {len(opened)} findings opened")


register_demo(seed)
