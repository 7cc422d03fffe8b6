"""The documentation API: preview, save, 400 per field, versions with diffs, freeze, and who may do what."""

import pytest

from audits.models import AuditEvent
from fmgov.documentation.tests.factories import COMPLETE_PROVIDER_FIELDS
from fmgov.registry.tests.factories import AdaptationFactory, FoundationModelFactory

pytestmark = pytest.mark.django_db


def url(model, suffix: str = "") -> str:
    kind = "foundation-models" if model.__class__.__name__ == "FoundationModel" else "adaptations"
    return f"/api/v1/{kind}/{model.pk}/documentation/{suffix}"


def test_before_the_first_save_get_shows_the_prefill_and_writes_nothing(client_for, auditor, engineer):
    model = FoundationModelFactory(owner=engineer)
    body = client_for(auditor).get(url(model)).json()
    assert body["version"] is None and body["frozen_at"] is None and body["last_frozen"] is None
    assert body["role"] == "downstream_provider" and body["fields"]["licence"] == "apache-2.0"
    assert body["provenance"]["licence"] == "derived_from_registry"
    assert body["completeness"]["missing"] and 0 < body["completeness"]["score"] < 1
    assert not AuditEvent.objects.filter(action__startswith="documentation.").exists()


def test_an_engineer_fills_edits_twice_freezes_and_reads_the_diffs(client_for, engineer):
    model = FoundationModelFactory(owner=engineer)
    client = client_for(engineer)
    created = client.put(url(model), {"role": "provider", "fields": {"training_time": "3 days"}}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["version"] == 1 and created.json()["provenance"]["training_time"] == "entered"
    first = client.put(url(model), {"fields": {"licence": "mit", "training_compute_flop": 1e21}}, format="json")
    second = client.put(url(model), {"fields": {"licence": None, "data_points": 10**12}}, format="json")
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["version"] == 3 and "licence" not in second.json()["fields"]
    frozen = client.post(url(model, "freeze/"))
    assert frozen.status_code == 200 and frozen.json()["frozen_at"] is not None
    assert frozen.json()["last_frozen"]["version"] == 3
    assert client.post(url(model, "freeze/")).status_code == 409
    draft = client.put(url(model), {"fields": {"training_time": "4 days"}}, format="json").json()
    assert draft["version"] == 4 and draft["frozen_at"] is None and draft["last_frozen"]["version"] == 3
    versions = client.get(url(model, "versions/")).json()
    assert versions["count"] == 4 and [v["version"] for v in versions["results"]] == [4, 3, 2, 1]
    v4, v3, v2 = versions["results"][:3]
    assert v4["diff"] == {"added": {}, "removed": {}, "changed": {"training_time": {"old": "3 days", "new": "4 days"}}}
    assert v3["diff"]["removed"] == {"licence": "mit"} and v3["diff"]["added"] == {"data_points": 10**12}
    assert v2["diff"]["changed"]["licence"] == {"old": "apache-2.0", "new": "mit"}
    assert v3["frozen_at"] is not None and v4["frozen_at"] is None and v3["author"] == engineer.username


def test_bad_fields_are_a_400_with_a_message_per_field(client_for, engineer):
    model = FoundationModelFactory(owner=engineer)
    client = client_for(engineer)
    body = {"fields": {"release_date": "soon", "parameter_count": "7B", "made_up": 1}, "role": "vendor"}
    response = client.put(url(model), body, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert errors["release_date"] == ["Expected a date as YYYY-MM-DD."]
    assert errors["parameter_count"] == ["Expected a whole number."]
    assert errors["made_up"] == ["Not a documentation field."] and "role" in errors
    assert client.put(url(model), {"fields": ["licence"]}, format="json").status_code == 400
    assert client.put(url(model), {"fields": []}, format="json").status_code == 400
    assert client.put(url(model), [1, 2], format="json").status_code == 400
    assert client.get(url(model)).json()["version"] is None  # nothing was written


def test_permission_attacks(client_for, engineer, other_engineer, auditor, reviewer):
    mine = FoundationModelFactory(owner=engineer)
    attacker = client_for(other_engineer)
    assert attacker.put(url(mine), {"fields": {"licence": "mit"}}, format="json").status_code == 403
    assert client_for(auditor).put(url(mine), {"fields": {"licence": "mit"}}, format="json").status_code == 403
    assert client_for(reviewer).put(url(mine), {"fields": {"licence": "mit"}}, format="json").status_code == 201
    assert attacker.put(url(mine), {"fields": {"licence": "gpl"}}, format="json").status_code == 403
    assert attacker.post(url(mine, "freeze/")).status_code == 403
    assert client_for(auditor).post(url(mine, "freeze/")).status_code == 403
    assert attacker.get(url(mine)).json()["fields"]["licence"] == "mit"  # everyone with a role reads
    assert client_for(auditor).get(url(mine, "versions/")).json()["count"] == 1
    assert attacker.get("/api/v1/foundation-models/999999/documentation/").status_code == 404


def test_the_same_api_under_an_adaptation(client_for, engineer, other_engineer):
    adaptation = AdaptationFactory(owner=engineer, name="tuned")
    client = client_for(engineer)
    assert client.get(url(adaptation, "versions/")).json() == {"count": 0, "results": []}  # no record yet
    assert client.post(url(adaptation, "freeze/")).status_code == 409  # nothing to freeze
    response = client.put(url(adaptation), {"fields": COMPLETE_PROVIDER_FIELDS}, format="json")
    assert response.status_code == 201 and response.json()["role"] == "provider"
    assert response.json()["completeness"] == {
        "required": response.json()["completeness"]["required"],
        "filled": response.json()["completeness"]["required"],
        "score": 1.0,
        "missing": [],
    }
    assert response.json()["target"] == {"kind": "adaptation", "id": adaptation.pk, "name": "tuned", "version": "1"}
    assert client_for(other_engineer).post(url(adaptation, "freeze/")).status_code == 403
    assert client.post(url(adaptation, "freeze/")).status_code == 200
    assert client_for(other_engineer).post(url(adaptation, "refresh/")).status_code == 403
    refreshed = client.post(url(adaptation, "refresh/"))  # the lineage says what the entered values already say
    assert refreshed.status_code == 200 and refreshed.json()["version"] == 1


def test_reads_take_a_fixed_number_of_queries(client_for, engineer, django_assert_max_num_queries):
    model = FoundationModelFactory(owner=engineer)
    client = client_for(engineer)
    for n in range(6):
        client.put(url(model), {"fields": {"training_time": f"{n + 1} days"}}, format="json")
    with django_assert_max_num_queries(8):
        assert client.get(url(model, "versions/")).json()["count"] == 6
    with django_assert_max_num_queries(8):
        assert client.get(url(model)).json()["version"] == 6
