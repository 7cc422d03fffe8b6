"""The deadline table is configuration: read from the environment as JSON, checked at start-up, used by the clock."""

import json
import os
import runpy
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from fmgov.core.exceptions import InvalidInput
from fmgov.evaluations.tests.factories import DeploymentFactory
from fmgov.incidents.conf import DEFAULT_DEADLINES, check_incident_deadlines
from fmgov.incidents.tests.factories import open_incident

ROOT = Path(__file__).resolve().parents[3]
CUSTOM = {
    "high_risk_art73": {
        "serious_incident": {"days": 7, "source": "Internal policy stricter than EU AI Act Art. 73(2)"},
        "death": {"days": 1, "source": "Internal policy stricter than EU AI Act Art. 73(4)"},
    }
}


def settings_read_from(**env: str) -> dict:
    """fmgov/settings/base.py executed afresh with these environment variables, as a process starting up reads it."""
    with mock.patch.dict(os.environ, env):
        return runpy.run_path(str(ROOT / "fmgov" / "settings" / "base.py"))


@pytest.mark.django_db
@override_settings(INCIDENT_DEADLINES=CUSTOM)
def test_a_configured_table_sets_the_deadline_and_its_source(engineer):
    deployment = DeploymentFactory(owner=engineer)
    incident = open_incident(engineer, deployments=[deployment], harm_category="death")
    assert incident.report_due_at - incident.aware_at == timedelta(days=1)
    assert incident.deadline_source == "Internal policy stricter than EU AI Act Art. 73(4)"
    # A category of the built-in table that the configured one leaves out is refused, naming those it has.
    with pytest.raises(InvalidInput) as refused:
        open_incident(engineer, deployments=[deployment], harm_category="widespread_infringement")
    assert refused.value.field_errors["harm_category"] == ["Under high_risk_art73, one of death, serious_incident."]


def test_the_built_in_table_passes_its_own_check():
    with override_settings(INCIDENT_DEADLINES=DEFAULT_DEADLINES):
        assert check_incident_deadlines() == []


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"high_risk_art73": {"death": {"days": 16, "source": "x"}}}, "Art. 73(2) allows at most 15 days, not 16"),
        ({"high_risk_art73": {"death": {"days": 0, "source": "x"}}}, "days must be a whole number of at least 1"),
        ({"high_risk_art73": {"death": {"days": 2, "source": " "}}}, "cite the legal source"),
        ({"high_risk_art73": {"death": {"days": 2}}}, '{"days": N, "source": "..."}'),
        ({"art_99": {"death": {"days": 2, "source": "x"}}}, "unknown regime 'art_99'"),
        ([["high_risk_art73"]], "must be a JSON object of regimes"),
    ],
)
def test_a_malformed_table_is_an_error_naming_the_problem(table, message):
    with override_settings(INCIDENT_DEADLINES=table):
        errors = check_incident_deadlines()
    assert [e.id for e in errors] == ["incidents.E001"]
    assert message in errors[0].msg


def test_the_environment_sets_the_table_and_start_up_refuses_a_bad_one():
    assert settings_read_from(INCIDENT_DEADLINES=json.dumps(CUSTOM))["INCIDENT_DEADLINES"] == CUSTOM
    assert settings_read_from()["INCIDENT_DEADLINES"] == {}  # unset: the built-in table
    bad = settings_read_from(INCIDENT_DEADLINES='{"high_risk_art73": {"death": {"days": 30, "source": "x"}}}')
    with override_settings(INCIDENT_DEADLINES=bad["INCIDENT_DEADLINES"]), pytest.raises(SystemCheckError) as refused:
        call_command("check")
    assert "incidents.E001" in str(refused.value) and "at most 15 days, not 30" in str(refused.value)
