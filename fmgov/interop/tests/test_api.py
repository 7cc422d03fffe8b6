"""The ML-BOM endpoints: content types, who reads, who imports, and hostile bodies that get 4xx, never 500."""

import json
import time

import pytest

from fmgov.interop import vocabulary as v
from fmgov.interop.reading import MAX_BOM_BYTES, MAX_COMPONENTS, MAX_JSON_VALUES
from fmgov.registry.models import FoundationModel

pytestmark = pytest.mark.django_db
IMPORT = "/api/v1/foundation-models/import-ml-bom/"


def bom_url(deployment) -> str:
    return f"/api/v1/deployments/{deployment.pk}/ml-bom/"


def post_bom(client, body: bytes | str, content_type: str = v.MEDIA_TYPE):
    return client.generic("POST", IMPORT, body, content_type=content_type)


def test_deployment_bom_in_both_content_types(client_for, auditor, deployment):
    client = client_for(auditor)
    vendor = client.get(bom_url(deployment))
    assert vendor.status_code == 200 and vendor["Content-Type"].startswith(v.MEDIA_TYPE)
    assert json.loads(vendor.content)["metadata"]["component"]["bom-ref"] == v.deployment_ref(deployment.pk)
    plain = client.get(bom_url(deployment), HTTP_ACCEPT="application/json")
    assert plain.status_code == 200 and plain["Content-Type"].startswith("application/json")
    assert plain.json()["metadata"]["component"]["name"] == "support-bot"
    refused = client.get(bom_url(deployment), HTTP_ACCEPT="text/html")
    assert refused.status_code == 406 and v.MEDIA_TYPE in refused.json()["detail"]


def test_model_and_portfolio_boms(client_for, reviewer, lineage):
    client = client_for(reviewer)
    model = client.get(f"/api/v1/foundation-models/{lineage.a.pk}/ml-bom/")
    assert model.status_code == 200 and json.loads(model.content)["metadata"]["component"]["name"] == "Base-A"
    portfolio = client.get("/api/v1/portfolio/ml-bom/", HTTP_ACCEPT="application/json")
    assert portfolio.status_code == 200 and portfolio.json()["metadata"]["component"]["bom-ref"] == "fmgov:portfolio"


def test_readers_need_a_role_and_missing_records_are_404(client_for, make_user, engineer, deployment):
    nobody = client_for(make_user("norole"))
    assert nobody.get(bom_url(deployment)).status_code == 403
    assert nobody.get("/api/v1/portfolio/ml-bom/").status_code == 403
    client = client_for(engineer)
    for url in ("/api/v1/deployments/999999/ml-bom/", "/api/v1/foundation-models/999999/ml-bom/"):
        missing = client.get(url)
        assert missing.status_code == 404 and missing["Content-Type"].startswith("application/json")


def test_import_creates_then_finds_and_only_writers_import(client_for, engineer, reviewer):
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "components": [
            {
                "type": "machine-learning-model",
                "bom-ref": "x",
                "name": "Imported",
                "supplier": {"name": "Lab"},
                "hashes": [{"alg": "SHA-256", "content": "ab" * 32}],
                "properties": [{"name": "fmgov:modality", "value": "text"}],
            }
        ],
    }
    assert post_bom(client_for(reviewer), json.dumps(document)).status_code == 403
    client = client_for(engineer)
    first = post_bom(client, json.dumps(document))
    assert first.status_code == 201, first.json()
    (record,) = first.json()["records"]
    assert record["bom_ref"] == "x" and record["created"] and record["artifact_digest"] == "ab" * 32
    again = client.post(IMPORT, document, format="json")
    assert again.status_code == 200 and not again.json()["created"]
    assert FoundationModel.objects.filter(name="Imported").count() == 1


def nested(depth: int) -> str:
    return '{"bomFormat": "CycloneDX", "specVersion": "1.6", "x": ' + "[" * depth + "]" * depth + "}"


def many_components(count: int) -> str:
    components = [
        {"type": "machine-learning-model", "bom-ref": f"c{i}", "name": f"m{i}", "supplier": {"name": "s"}}
        for i in range(count)
    ]
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": components})


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (nested(100_000), 400),  # deep nesting
        ("{not json", 400),
        (b"\xff\xfe{}", 400),
        ('"a string"', 400),
        ('{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": {"type": 1}}', 400),  # wrong types
        ('{"bomFormat": "CycloneDX", "specVersion": "1.6", "metadata": {"component": 7}}', 400),
        (many_components(MAX_COMPONENTS + 1), 400),  # too many components
        (many_components(MAX_JSON_VALUES // 8), 400),  # too many values to validate in reasonable time
        (b" " * (MAX_BOM_BYTES + 1), 413),  # huge: refused by size before it is read
    ],
)
def test_hostile_boms_get_4xx_never_500(client_for, engineer, body, expected):
    response = post_bom(client_for(engineer), body)
    assert response.status_code == expected, response.content[:500]
    assert response.json()["detail"]


def test_a_cycle_over_the_api_is_409(client_for, engineer):
    document = json.loads(many_components(2))
    document["dependencies"] = [{"ref": "c0", "dependsOn": ["c1"]}, {"ref": "c1", "dependsOn": ["c0"]}]
    response = post_bom(client_for(engineer), json.dumps(document), content_type="application/json")
    assert response.status_code == 409 and "cycle" in response.json()["detail"]


def test_duplicates_are_found_in_linear_time_and_long_urls_cheaply(client_for, engineer):
    """jsonschema compares uniqueItems pairwise and parses IRIs with an Earley parser: 10 s for one long URL."""
    document = json.loads(many_components(2))
    document["components"][1] = dict(document["components"][0])
    client = client_for(engineer)
    duplicate = post_bom(client, json.dumps(document))
    assert duplicate.status_code == 400 and "non-unique" in json.dumps(duplicate.json())
    document = json.loads(many_components(1))
    document["components"][0]["externalReferences"] = [
        {"type": "website", "url": f"https://example.org/{i}/" + "a" * 3000} for i in range(20)
    ]
    started = time.monotonic()
    response = post_bom(client, json.dumps(document))
    assert response.status_code == 400 and "modality" in json.dumps(response.json())  # got past the schema
    assert time.monotonic() - started < 5
