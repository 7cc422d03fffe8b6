"""Registry API: each endpoint with each role, per-field 400s, workflow actions, query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from audits.models import AuditEvent
from fmgov.registry import hooks, services
from fmgov.registry.models import Adaptation, Deployment, FoundationModel
from fmgov.registry.tests.factories import AdaptationFactory, DeploymentFactory, FoundationModelFactory, chain, sha256

pytestmark = pytest.mark.django_db

MODELS, ADAPTATIONS, DEPLOYMENTS = "/api/v1/foundation-models/", "/api/v1/adaptations/", "/api/v1/deployments/"
READERS = ["engineer", "other_engineer", "reviewer", "auditor", "admin_user"]


@pytest.fixture
def as_(request, client_for):
    """as_("reviewer") -> an API client for that conftest user fixture."""

    def _client(role: str):
        return client_for(request.getfixturevalue(role))

    return _client


@pytest.fixture
def records(engineer):
    model = FoundationModelFactory(owner=engineer)
    adaptation = AdaptationFactory(owner=engineer, derived_from_models=[model.pk])
    deployment = DeploymentFactory(owner=engineer, adaptation=adaptation)
    return {"model": model, "adaptation": adaptation, "deployment": deployment}


def model_payload(**overrides):
    payload = {
        "name": "Mistral 7B",
        "version": "v0.1",
        "provider": "Mistral AI",
        "modality": "text",
        "license": "apache-2.0",
        "access": "open_weights",
        "parameter_count": 7_241_732_096,
        "release_date": "2023-09-27",
        "artifact_digest": sha256("mistral"),
        "hf_repo_id": "mistralai/Mistral-7B-v0.1",
    }
    return {**payload, **overrides}


# --- reads: every role, never anonymous -----------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_every_role_reads_every_endpoint(as_, role, records):
    client = as_(role)
    model, adaptation, deployment = records["model"], records["adaptation"], records["deployment"]
    for url in (
        MODELS,
        ADAPTATIONS,
        DEPLOYMENTS,
        f"{MODELS}{model.pk}/",
        f"{ADAPTATIONS}{adaptation.pk}/",
        f"{DEPLOYMENTS}{deployment.pk}/",
        f"{MODELS}{model.pk}/descendants/",
        f"{ADAPTATIONS}{adaptation.pk}/descendants/",
        f"{ADAPTATIONS}{adaptation.pk}/lineage/",
        f"{MODELS}{model.pk}/model-card/",
        f"{ADAPTATIONS}{adaptation.pk}/model-card/",
    ):
        assert client.get(url).status_code == 200, url


def test_anonymous_gets_401_everywhere(records):
    client = APIClient()
    model, deployment = records["model"], records["deployment"]
    for method, url in (
        ("get", MODELS),
        ("get", ADAPTATIONS),
        ("get", DEPLOYMENTS),
        ("get", f"{MODELS}{model.pk}/descendants/"),
        ("post", MODELS),
        ("patch", f"{MODELS}{model.pk}/"),
        ("post", f"{DEPLOYMENTS}{deployment.pk}/go-live/"),
        ("post", f"{MODELS}import-model-card/"),
    ):
        assert getattr(client, method)(url, {}, format="json").status_code == 401, url


def test_a_bad_token_is_401(records):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get(MODELS).status_code == 401


# --- writes: engineers their own, admins all, readers nothing -----------------------


@pytest.mark.parametrize(
    ("role", "status"), [("engineer", 201), ("admin_user", 201), ("reviewer", 403), ("auditor", 403)]
)
def test_who_may_register_a_model(as_, role, status):
    response = as_(role).post(MODELS, model_payload(), format="json")
    assert response.status_code == status, response.content
    assert FoundationModel.objects.exists() == (status == 201)


def test_create_sets_the_owner_and_records_an_event(as_, engineer):
    response = as_("engineer").post(MODELS, {**model_payload(), "owner": "someone-else"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["owner"] == "erin"
    event = AuditEvent.objects.get(action="foundation_model.create")
    assert event.actor == engineer and event.object_id == str(body["id"])
    assert event.changes["parameter_count"] == [None, 7_241_732_096]


@pytest.mark.parametrize(("role", "status"), [("engineer", 200), ("admin_user", 200), ("other_engineer", 403)])
def test_who_may_edit(as_, records, role, status):
    client = as_(role)
    model, adaptation, deployment = records["model"], records["adaptation"], records["deployment"]
    for url, payload in (
        (f"{MODELS}{model.pk}/", {"license": "mit"}),
        (f"{ADAPTATIONS}{adaptation.pk}/", {"purpose": "changed"}),
        (f"{DEPLOYMENTS}{deployment.pk}/", {"region": "eu-north-1"}),
    ):
        assert client.patch(url, payload, format="json").status_code == status, url
    expected = 3 if status == 200 else 0
    assert AuditEvent.objects.filter(action__endswith=".update").count() == expected


@pytest.mark.parametrize("role", ["reviewer", "auditor"])
def test_readers_cannot_write_anything(as_, records, role):
    client = as_(role)
    model, adaptation, deployment = records["model"], records["adaptation"], records["deployment"]
    events = AuditEvent.objects.count()
    for method, url, payload in (
        ("post", MODELS, model_payload()),
        ("post", ADAPTATIONS, {"name": "a", "kind": "lora", "derived_from_models": [model.pk]}),
        ("post", DEPLOYMENTS, {"name": "d", "environment": "staging", "foundation_model": model.pk}),
        ("patch", f"{MODELS}{model.pk}/", {"license": "mit"}),
        ("patch", f"{ADAPTATIONS}{adaptation.pk}/", {"purpose": "x"}),
        ("put", f"{DEPLOYMENTS}{deployment.pk}/", {"name": "x", "environment": "staging"}),
        ("post", f"{DEPLOYMENTS}{deployment.pk}/go-live/", {}),
        ("post", f"{DEPLOYMENTS}{deployment.pk}/suspend/", {}),
        ("post", f"{DEPLOYMENTS}{deployment.pk}/retire/", {}),
        ("post", f"{MODELS}import-model-card/", {"card": "---\nlicense: mit\n---\n# x\n"}),
    ):
        assert getattr(client, method)(url, payload, format="json").status_code == 403, url
    assert AuditEvent.objects.count() == events


def test_nothing_is_deleted_through_the_api(as_, records):
    client = as_("admin_user")
    for url in (
        f"{MODELS}{records['model'].pk}/",
        f"{ADAPTATIONS}{records['adaptation'].pk}/",
        f"{DEPLOYMENTS}{records['deployment'].pk}/",
    ):
        assert client.delete(url).status_code == 405
    assert Deployment.objects.exists()


# --- per-field validation ----------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("artifact_digest", "1234"),
        ("artifact_digest", "g" * 64),
        ("modality", "telepathy"),
        ("access", "stolen"),
        ("parameter_count", -7),
        ("release_date", "last spring"),
        ("training_emissions_tco2e", -1),
    ],
)
def test_bad_model_fields_are_per_field_400s(as_, field, value):
    response = as_("engineer").post(MODELS, model_payload(**{field: value}), format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not FoundationModel.objects.exists()


def test_duplicate_name_and_version_is_a_400(as_):
    client = as_("engineer")
    assert client.post(MODELS, model_payload(), format="json").status_code == 201
    response = client.post(MODELS, model_payload(), format="json")
    assert response.status_code == 400
    assert "unique" in str(response.json()).lower()


def test_adaptation_validation(as_, engineer):
    client = as_("engineer")
    root, (a, b, c) = chain(engineer, 3)
    cases = [
        ({"name": "x", "kind": "lora"}, {"derived_from_models", "derived_from_adaptations"}, "at least one parent"),
        ({"name": "x", "kind": "lora", "derived_from_models": [99999]}, {"derived_from_models"}, "99999"),
        ({"name": "x", "kind": "lora", "derived_from_adaptations": [88888]}, {"derived_from_adaptations"}, "88888"),
        ({"name": "x", "kind": "magic", "derived_from_models": [root.pk]}, {"kind"}, "not a valid choice"),
        ({"name": "x", "kind": "lora", "derived_from_models": ["one"]}, {"derived_from_models"}, "integer"),
    ]
    for payload, fields, words in cases:
        response = client.post(ADAPTATIONS, payload, format="json")
        assert response.status_code == 400, payload
        body = response.json()
        assert fields <= set(body), body
        assert words in str(body)
    response = client.patch(f"{ADAPTATIONS}{a.pk}/", {"derived_from_adaptations": [c.pk]}, format="json")
    assert response.status_code == 400
    assert "acyclic" in response.json()["derived_from_adaptations"][0]
    assert Adaptation.objects.count() == 3


def test_adaptation_create_and_reparent(as_, engineer):
    client = as_("engineer")
    m1, m2 = FoundationModelFactory(owner=engineer), FoundationModelFactory(owner=engineer)
    response = client.post(
        ADAPTATIONS, {"name": "merged", "kind": "other", "derived_from_models": [m1.pk, m2.pk]}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["derived_from_models"] == sorted([m1.pk, m2.pk]) and body["derived_from_adaptations"] == []
    response = client.patch(f"{ADAPTATIONS}{body['id']}/", {"derived_from_models": [m2.pk]}, format="json")
    assert response.json()["derived_from_models"] == [m2.pk]
    event = AuditEvent.objects.get(action="adaptation.update")
    assert event.changes["derived_from_models"] == [sorted([m1.pk, m2.pk]), [m2.pk]]


def deployment_payload(model, **overrides):
    payload = {
        "name": "chat-prod",
        "foundation_model": model.pk,
        "environment": "production",
        "endpoint": {
            "adapter": "openai_chat",
            "base_url": "https://llm.example.org/v1",
            "model": "mistral-7b",
        },
        "region": "eu-west-1",
    }
    return {**payload, **overrides}


def test_deployment_create_is_proposed_with_nested_endpoint(as_, engineer):
    model = FoundationModelFactory(owner=engineer)
    response = as_("engineer").post(DEPLOYMENTS, deployment_payload(model, status="live"), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "proposed"  # status is not a field anyone sets
    assert body["endpoint"] == {
        **deployment_payload(model)["endpoint"],
        "credential": None,
        "legacy_credential_name": "",
        "runnable": True,
        "blocker": None,
    }
    assert body["target"] == {"kind": "foundation_model", "id": model.pk, "name": model.name, "version": "1"}


def test_deployment_validation(as_, engineer):
    client = as_("engineer")
    model, adaptation = FoundationModelFactory(owner=engineer), AdaptationFactory(owner=engineer)
    response = client.post(DEPLOYMENTS, deployment_payload(model, adaptation=adaptation.pk), format="json")
    assert response.status_code == 400
    assert "not both" in response.json()["foundation_model"][0] and "adaptation" in response.json()
    response = client.post(DEPLOYMENTS, deployment_payload(model, foundation_model=None), format="json")
    assert response.status_code == 400 and set(response.json()) >= {"foundation_model", "adaptation"}
    secret = "sk-proj-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    endpoint = {**deployment_payload(model)["endpoint"], "api_key_env": secret}
    response = client.post(DEPLOYMENTS, deployment_payload(model, endpoint=endpoint), format="json")
    assert response.status_code == 400
    assert "registered credential" in response.json()["endpoint"]["api_key_env"][0]
    assert secret not in response.content.decode()
    endpoint = {**deployment_payload(model)["endpoint"], "adapter": "carrier_pigeon"}
    response = client.post(DEPLOYMENTS, deployment_payload(model, endpoint=endpoint), format="json")
    assert response.status_code == 400 and "adapter" in response.json()["endpoint"]
    response = client.post(DEPLOYMENTS, deployment_payload(model, environment="moon"), format="json")
    assert response.status_code == 400 and list(response.json()) == ["environment"]
    assert not Deployment.objects.exists()


# --- workflow actions ----------------------------------------------------------------


def test_go_live_is_409_without_an_approved_review(as_, engineer):
    deployment = DeploymentFactory(owner=engineer)
    services.deployment_approve(deployment=deployment, actor=None, system="test")
    response = as_("engineer").post(f"{DEPLOYMENTS}{deployment.pk}/go-live/")
    assert response.status_code == 409
    assert "no approved risk review" in response.json()["detail"]
    deployment.refresh_from_db()
    assert deployment.status == "approved"


def test_go_live_is_409_for_a_new_deployment_whatever_reviews_app(as_, engineer):
    deployment = DeploymentFactory(owner=engineer)
    response = as_("engineer").post(f"{DEPLOYMENTS}{deployment.pk}/go-live/")
    assert response.status_code == 409


@pytest.mark.parametrize(("role", "status"), [("engineer", 200), ("admin_user", 200), ("other_engineer", 403)])
def test_workflow_actions_by_role(as_, engineer, monkeypatch, role, status):
    monkeypatch.setattr(hooks.deployment_approval_blocker, "_answer", lambda deployment: None)
    deployment = DeploymentFactory(owner=engineer)
    services.deployment_approve(deployment=deployment, actor=None, system="test")
    client = as_(role)
    url = f"{DEPLOYMENTS}{deployment.pk}"
    response = client.post(f"{url}/go-live/")
    assert response.status_code == status
    if status != 200:
        return
    assert response.json()["status"] == "live" and response.json()["went_live_at"]
    response = client.post(f"{url}/suspend/", {"reason": "drift"}, format="json")
    assert response.json()["status"] == "suspended"
    assert client.post(f"{url}/suspend/").status_code == 409  # already suspended
    response = client.post(f"{url}/retire/", {"reason": "replaced"}, format="json")
    assert response.json()["status"] == "retired"
    assert client.post(f"{url}/go-live/").status_code == 409
    assert client.patch(f"{url}/", {"region": "x"}, format="json").status_code == 409
    events = AuditEvent.objects.filter(object_type="registry.deployment", object_id=str(deployment.pk))
    assert list(events.order_by("seq").values_list("action", flat=True))[-3:] == [
        "deployment.go_live",
        "deployment.suspend",
        "deployment.retire",
    ]
    assert events.get(action="deployment.retire").context["reason"] == "replaced"


def test_status_is_not_a_writable_field(as_, engineer):
    deployment = DeploymentFactory(owner=engineer)
    response = as_("engineer").patch(f"{DEPLOYMENTS}{deployment.pk}/", {"status": "live"}, format="json")
    assert response.status_code == 200
    deployment.refresh_from_db()
    assert deployment.status == "proposed"


# --- lineage endpoints -------------------------------------------------------------------


def test_descendants_and_lineage(as_, engineer, django_assert_num_queries):
    root, nodes = chain(engineer, 5)
    side = AdaptationFactory(owner=engineer, derived_from_adaptations=[nodes[1].pk, nodes[3].pk])
    client = as_("reviewer")
    response = client.get(f"{MODELS}{root.pk}/descendants/")
    body = response.json()
    assert body["count"] == 6 and body["next"] is None and body["previous"] is None
    depths = {row["id"]: row["depth"] for row in body["results"]}
    assert [depths[n.pk] for n in nodes] == [1, 2, 3, 4, 5]
    assert depths[side.pk] == 3  # shortest path, through nodes[1]
    response = client.get(f"{ADAPTATIONS}{side.pk}/lineage/")
    lineage = {(row["kind"], row["id"]): row["depth"] for row in response.json()["results"]}
    assert lineage[("foundation_model", root.pk)] == 3
    assert lineage[("adaptation", nodes[3].pk)] == 1 and lineage[("adaptation", nodes[0].pk)] == 2
    # token, roles, the object, then one walk whatever the depth (below an adaptation: and the names it found)
    with django_assert_num_queries(5):
        client.get(f"{ADAPTATIONS}{nodes[0].pk}/descendants/")
    with django_assert_num_queries(4):
        client.get(f"{ADAPTATIONS}{side.pk}/lineage/")


def test_lineage_listings_are_paginated(as_, engineer, django_assert_num_queries):
    """A root with many descendants answers a page at a time, like every list endpoint (issue 18)."""
    root, nodes = chain(engineer, 7)
    fan = [AdaptationFactory(owner=engineer, derived_from_adaptations=[nodes[0].pk]) for _ in range(3)]
    client = as_("auditor")
    first = client.get(f"{MODELS}{root.pk}/descendants/?page_size=4").json()
    assert first["count"] == 10 and first["previous"] is None and "page=2" in first["next"]
    # nearest first, then by id: nodes[0], then nodes[1] and the fan at depth 2
    assert [row["id"] for row in first["results"]] == [nodes[0].pk, *sorted([nodes[1].pk, *(a.pk for a in fan)])[:3]]
    pages = [first["results"]]
    following = first["next"]
    while following:
        body = client.get(following).json()
        pages.append(body["results"])
        following = body["next"]
    rows = [row for page in pages for row in page]
    assert [len(page) for page in pages] == [4, 4, 2]
    assert sorted(row["id"] for row in rows) == sorted([n.pk for n in nodes] + [a.pk for a in fan])
    assert [row["depth"] for row in rows] == sorted(row["depth"] for row in rows)
    assert rows[-1] == {"id": nodes[-1].pk, "name": nodes[-1].name, "version": nodes[-1].version,
                        "kind": nodes[-1].kind, "owner_id": engineer.pk, "depth": 7}  # fmt: skip
    # A page of a model's descendants is a count and a LIMIT over the stored roots, whatever their number:
    # token, roles, the model, the count, the page's ids and depths, their names.
    with django_assert_num_queries(6):
        assert len(client.get(f"{MODELS}{root.pk}/descendants/?page_size=2&page=3").json()["results"]) == 2
    below = client.get(f"{ADAPTATIONS}{nodes[0].pk}/descendants/?page_size=5").json()
    assert below["count"] == 9 and len(below["results"]) == 5 and below["next"]
    assert client.get(f"{ADAPTATIONS}{nodes[0].pk}/descendants/?page=2&page_size=5").json()["results"][-1]["depth"] == 6
    above = client.get(f"{ADAPTATIONS}{nodes[-1].pk}/lineage/?page_size=3").json()
    assert above["count"] == 7 and [row["depth"] for row in above["results"]] == [1, 2, 3]
    last = client.get(f"{ADAPTATIONS}{nodes[-1].pk}/lineage/?page_size=3&page=3").json()
    assert last["results"] == [
        {"kind": "foundation_model", "id": root.pk, "name": root.name, "version": root.version, "depth": 7}
    ]
    assert client.get(f"{MODELS}{root.pk}/descendants/?page=9").status_code == 404


# --- lists: constant queries, filters, ordering -------------------------------------------


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("endpoint", [MODELS, ADAPTATIONS, DEPLOYMENTS])
def test_lists_run_a_constant_number_of_queries(as_, engineer, other_engineer, endpoint, django_assert_max_num_queries):
    for owner in (engineer, other_engineer):
        for _ in range(4):
            base = FoundationModelFactory(owner=owner)
            a = AdaptationFactory(owner=owner, derived_from_models=[base.pk])
            b = AdaptationFactory(owner=owner, derived_from_adaptations=[a.pk], derived_from_models=[base.pk])
            DeploymentFactory(owner=owner, adaptation=b)
            DeploymentFactory(owner=owner, foundation_model=base)
    client = as_("auditor")
    small = _count_queries(client, f"{endpoint}?page_size=2")
    large = _count_queries(client, f"{endpoint}?page_size=100")
    assert small == large
    with django_assert_max_num_queries(6):
        response = client.get(f"{endpoint}?page_size=100")
    assert len(response.json()["results"]) >= 8


def test_filters_search_ordering_and_pagination(as_, engineer, other_engineer):
    FoundationModelFactory(owner=engineer, name="Llama 3.1 8B", provider="Meta", license="llama3.1")
    FoundationModelFactory(owner=other_engineer, name="Whisper", provider="OpenAI", modality="audio")
    FoundationModelFactory(owner=engineer, name="GPT-4o", provider="OpenAI", modality="multimodal", access="api")
    client = as_("reviewer")

    def names(query):
        return [row["name"] for row in client.get(f"{MODELS}?{query}").json()["results"]]

    assert names("provider=openai&ordering=name") == ["GPT-4o", "Whisper"]
    assert names("modality=audio") == ["Whisper"]
    assert names("access=api") == ["GPT-4o"]
    assert names("license=llama3.1") == ["Llama 3.1 8B"]
    assert names("owner=eve") == ["Whisper"]
    assert names("search=llama") == ["Llama 3.1 8B"]
    assert names("ordering=-name") == ["Whisper", "Llama 3.1 8B", "GPT-4o"]
    page = client.get(f"{MODELS}?page_size=2&ordering=name").json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    assert client.get(f"{MODELS}?modality=telepathy").status_code == 400


def test_deployment_and_adaptation_filters(as_, engineer, monkeypatch):
    model = FoundationModelFactory(owner=engineer)
    adaptation = AdaptationFactory(owner=engineer, derived_from_models=[model.pk], kind="lora")
    AdaptationFactory(owner=engineer, kind="rag_application")
    prod = DeploymentFactory(owner=engineer, foundation_model=model, environment="production")
    DeploymentFactory(owner=engineer, adaptation=adaptation, environment="staging")
    services.deployment_retire(deployment=prod, actor=engineer)
    client = as_("auditor")
    rows = client.get(f"{DEPLOYMENTS}?status=retired").json()["results"]
    assert [r["id"] for r in rows] == [prod.pk]
    assert len(client.get(f"{DEPLOYMENTS}?environment=staging").json()["results"]) == 1
    assert len(client.get(f"{DEPLOYMENTS}?status=retired&status=proposed").json()["results"]) == 2
    assert [r["id"] for r in client.get(f"{ADAPTATIONS}?kind=lora").json()["results"]] == [adaptation.pk]
    rows = client.get(f"{ADAPTATIONS}?derived_from_model={model.pk}").json()["results"]
    assert [r["id"] for r in rows] == [adaptation.pk]


def test_schema_describes_the_registry(as_):
    response = as_("reviewer").get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    for path in (
        "/api/v1/foundation-models/{id}/descendants/",
        "/api/v1/foundation-models/import-model-card/",
        "/api/v1/adaptations/{id}/lineage/",
        "/api/v1/deployments/{id}/go-live/",
    ):
        assert path in text
    # The lineage listings are documented as pages, with the page parameters.
    assert "PaginatedDescendantList" in text and "PaginatedAncestorList" in text
