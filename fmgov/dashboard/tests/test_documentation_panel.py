"""The dashboard shows the portfolio's documentation completeness (issue 19): required filled over required."""

import pytest
from django.test import Client

from fmgov.documentation.selectors import portfolio_completeness
from fmgov.documentation.tests.factories import COMPLETE_PROVIDER_FIELDS, documented_model
from fmgov.registry.tests.factories import FoundationModelFactory

pytestmark = pytest.mark.django_db


def test_the_dashboard_shows_portfolio_documentation_completeness(engineer, auditor):
    documented_model(engineer, role="provider", systemic_risk=False, fields=COMPLETE_PROVIDER_FIELDS)
    documented_model(engineer, role="provider", systemic_risk=False, fields={})
    FoundationModelFactory(owner=engineer)  # no record yet
    score = portfolio_completeness()
    assert score["records"] == 2 and score["without_record"] == 1 and score["filled"] < score["required"]
    client = Client()
    client.force_login(auditor)
    page = client.get("/").content.decode()
    assert "Model documentation (EU AI Act)" in page
    percent = round(score["filled"] / score["required"] * 100)
    assert f"{percent}%</strong> of required fields filled: {score['filled']} of {score['required']}" in page
    assert "over 2 documentation records" in page
    assert "Without a record yet: 1 of the registry" in page


def test_an_empty_portfolio_says_so(auditor):
    client = Client()
    client.force_login(auditor)
    assert "No documentation record yet." in client.get("/").content.decode()
