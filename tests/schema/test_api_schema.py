"""Property-based tests of the whole API against its own OpenAPI schema (schemathesis, in-process WSGI).

Every operation in ``/api/schema/`` gets at least ``MAX_EXAMPLES`` generated
requests as an admin, against a database seeded with the demo data; the
stateful test follows the links schemathesis infers between operations
(create, then read / update / act on what was created). A response must never
be a 5xx and must match the documented schema and content type.

Each example runs in a savepoint that is rolled back afterwards, so examples
are independent and nothing accumulates; the stateful scenarios roll back per
scenario. The run is bounded: no shrinking phase, fixed derandomised seed,
a time budget per example.
"""

import io
import os

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from fmgov.wsgi import application

MAX_EXAMPLES = int(os.environ.get("FMGOV_SCHEMA_EXAMPLES", "100"))
STATEFUL_EXAMPLES = int(os.environ.get("FMGOV_SCHEMA_STATEFUL_EXAMPLES", "40"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Demo data plus an admin token, committed for this module and flushed afterwards."""
    from fmgov.accounts.services import token_create, user_create

    with django_db_blocker.unblock():
        call_command("seed_demo", stdout=io.StringIO())
        admin = user_create(
            username="schema-admin", roles=["admin", "engineer", "reviewer", "auditor"], password="x" * 20
        )
        admin.is_superuser = True
        admin.save(update_fields=["is_superuser"])
        _, key = token_create(user=admin, name="schemathesis")
        try:
            yield {"Authorization": f"Token {key}"}
        finally:
            call_command("flush", interactive=False, verbosity=0)


# Loaded at collection so that each operation becomes a test of its own (the schema view needs no database).
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture(scope="module")
def loaded_schema(seeded):
    # The raw WSGI handler closes "old" connections at request start and end, which would
    # close the test transaction under us; Django's own test client detaches them the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schema
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_schema_lists_the_foundation_operations(loaded_schema):
    paths = set(loaded_schema.raw_schema["paths"])
    assert {"/api/v1/auth/token/", "/api/v1/me/", "/api/v1/audit-events/"} <= paths


OPERATIONS = sorted((result.ok() for result in schema.get_all_operations()), key=lambda op: op.label)


@pytest.mark.django_db
@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_every_operation_conforms(operation, seeded, loaded_schema):
    """Valid and invalid requests (positive and negative generation) for one operation."""
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case):
        savepoint = transaction.savepoint()
        try:
            case.call_and_validate(headers=seeded, checks=CHECKS)
        finally:
            transaction.savepoint_rollback(savepoint)

    check()


@pytest.mark.django_db
def test_stateful_links(loaded_schema, seeded):
    links = loaded_schema.as_state_machine()

    class Workflow(links):
        def setup(self):
            self._savepoint = transaction.savepoint()

        def teardown(self):
            transaction.savepoint_rollback(self._savepoint)

        def get_call_kwargs(self, case):
            return {"headers": seeded}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    Workflow.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )
