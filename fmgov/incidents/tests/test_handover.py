"""A revision's go-live carries the replaced deployment's open incidents on (issue 15 with issue 19)."""

import pytest

from audits.models import AuditEvent
from fmgov.incidents.services import incident_close, incident_report, incident_update
from fmgov.incidents.tests.factories import open_incident
from fmgov.registry import services
from fmgov.registry.choices import DeploymentStatus
from fmgov.registry.tests.test_revisions import NEW_URL, _taxonomy, approved, chat_deployment  # noqa: F401

pytestmark = pytest.mark.django_db


def test_open_incidents_follow_the_revision_and_closed_ones_stay(engineer, reviewer, other_reviewer):
    board = (reviewer, other_reviewer)
    current = services.deployment_go_live(deployment=approved(chat_deployment(engineer), board), actor=engineer)
    still_open = open_incident(engineer, deployments=[current])
    closed = open_incident(engineer, deployments=[current], summary="An older one")
    closed = incident_update(incident=closed, actor=engineer, root_cause="a prompt", corrective_measures="a filter")
    incident_close(incident=incident_report(incident=closed, actor=engineer), actor=engineer)
    revision = services.deployment_revision_create(deployment=current, actor=engineer, endpoint_base_url=NEW_URL)
    approved(revision, board)

    services.deployment_go_live(deployment=revision, actor=engineer)

    current.refresh_from_db()
    assert current.status == DeploymentStatus.RETIRED
    assert set(still_open.deployments.values_list("pk", flat=True)) == {current.pk, revision.pk}
    assert list(closed.deployments.values_list("pk", flat=True)) == [current.pk]
    event = AuditEvent.objects.get(action="incident.add_deployment")
    assert event.object_id == str(still_open.pk)
    assert event.changes == {"deployments": [[current.pk], [current.pk, revision.pk]]}
    retirement = AuditEvent.objects.filter(action="deployment.retire", object_id=str(current.pk)).latest("seq")
    assert retirement.context["handed_over"]["incidents"] == [still_open.pk]
