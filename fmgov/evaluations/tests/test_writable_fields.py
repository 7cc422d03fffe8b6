"""A suite's and a schedule's writable fields are declared once, in services; the API and the forms offer those."""

import pytest

from fmgov.evaluations import services
from fmgov.evaluations.api.serializers import (
    EvaluationScheduleSerializer,
    EvaluationSuiteSerializer,
    ScheduleUpdateSerializer,
)
from fmgov.evaluations.forms import ScheduleForm, SuiteForm


def _writable(serializer) -> list[str]:
    return [field.source or name for name, field in serializer.fields.items() if not field.read_only]


@pytest.mark.parametrize(
    ("serializer", "declared"),
    [
        (EvaluationSuiteSerializer(), services.SUITE_FIELDS),
        (EvaluationScheduleSerializer(), services.SCHEDULE_FIELDS),
        (ScheduleUpdateSerializer(), services.SCHEDULE_UPDATE_FIELDS),
    ],
    ids=["suite", "schedule", "schedule-update"],
)
def test_api_accepts_exactly_the_service_fields(serializer, declared):
    assert sorted(_writable(serializer)) == sorted(declared)


@pytest.mark.parametrize(
    ("form", "declared"), [(SuiteForm, services.SUITE_FIELDS), (ScheduleForm, services.SCHEDULE_FIELDS)]
)
def test_forms_offer_the_service_fields_in_their_order(form, declared):
    assert list(form.base_fields) == list(declared)
