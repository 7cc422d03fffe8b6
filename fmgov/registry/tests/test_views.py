"""Registry pages: role access, refusals as messages, lineage SVG, deployment actions, constant queries."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from fmgov.registry.models import Adaptation, Deployment, FoundationModel
from fmgov.registry.tests.factories import AdaptationFactory, DeploymentFactory, FoundationModelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client):
    def _as(user):
        client.force_login(user)
        return client

    return _as


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_pages_need_login(client):
    for name in ("registry:model-list", "registry:adaptation-list", "registry:deployment-list"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_engineer_registers_a_model_through_the_service(web, engineer):
    response = web(engineer).post(
        reverse("registry:model-create"),
        {
            "name": "Atlas",
            "version": "1",
            "provider": "Acme",
            "modality": "text",
            "access": "api",
            "model_card": "# Atlas\n\n<script>alert(1)</script>**bold**",
        },  # fmt: skip
    )
    model = FoundationModel.objects.get(name="Atlas")
    assert response.status_code == 302 and response["Location"] == reverse("registry:model-detail", args=[model.pk])
    assert model.owner == engineer
    from audits.models import AuditEvent

    assert AuditEvent.objects.filter(action="foundation_model.create", object_id=str(model.pk)).exists()
    page = web(engineer).get(reverse("registry:model-detail", args=[model.pk])).content.decode()
    assert "<strong>bold</strong>" in page
    assert "<script>alert(1)</script>" not in page


def test_reviewer_and_auditor_cannot_open_the_create_forms(web, reviewer, auditor):
    for user in (reviewer, auditor):
        assert web(user).get(reverse("registry:model-create")).status_code == 403
        assert web(user).get(reverse("registry:deployment-create")).status_code == 403


def test_a_refusal_with_field_errors_is_shown_on_the_form(web, engineer):
    model = FoundationModelFactory(owner=engineer)
    response = web(engineer).post(
        reverse("registry:deployment-create"),
        {
            "name": "leaky",
            "foundation_model": model.pk,
            "environment": "staging",
            "endpoint_adapter": "local_sentence_transformers",
            "endpoint_model": "/etc",
        },  # fmt: skip
    )
    assert response.status_code == 200
    assert not Deployment.objects.filter(name="leaky").exists()
    assert any("local model an admin registered" in m for m in messages_of(response))
    assert "local model an admin registered" in response.content.decode()


def test_adaptation_form_needs_a_parent_and_creates_the_edge(web, engineer):
    model = FoundationModelFactory(owner=engineer)
    response = web(engineer).post(
        reverse("registry:adaptation-create"), {"name": "orphan", "version": "1", "kind": "lora"}
    )
    assert response.status_code == 200 and "at least one parent" in response.content.decode()
    response = web(engineer).post(
        reverse("registry:adaptation-create"),
        {"name": "child", "version": "1", "kind": "lora", "derived_from_models": [model.pk]},
    )
    child = Adaptation.objects.get(name="child")
    assert child.derived_from_models == [model.pk]


def test_lineage_graph_links_ancestors_and_descendants(web, engineer):
    model = FoundationModelFactory(owner=engineer, name="Base")
    middle = AdaptationFactory(owner=engineer, name="Middle", derived_from_models=[model.pk])
    leaf = AdaptationFactory(owner=engineer, name="Leaf <b>", derived_from_adaptations=[middle.pk])
    page = web(engineer).get(reverse("registry:adaptation-detail", args=[middle.pk])).content.decode()
    assert '<svg class="lineage"' in page
    assert f'href="{reverse("registry:model-detail", args=[model.pk])}"' in page
    assert f'href="{reverse("registry:adaptation-detail", args=[leaf.pk])}"' in page
    assert "Leaf &lt;b&gt;" in page and "Leaf <b>" not in page
    assert page.count('class="edge"') == 2
    page = web(engineer).get(reverse("registry:model-detail", args=[model.pk])).content.decode()
    assert page.count('class="edge"') == 2


def test_deployment_page_shows_only_allowed_actions(web, engineer, other_engineer):
    deployment = DeploymentFactory(owner=engineer)
    page = web(engineer).get(reverse("registry:deployment-detail", args=[deployment.pk])).content.decode()
    assert "Cannot go live yet" in page
    assert reverse("registry:deployment-action", args=[deployment.pk, "go-live"]) not in page
    assert reverse("registry:deployment-action", args=[deployment.pk, "retire"]) in page
    assert reverse("registry:deployment-action", args=[deployment.pk, "suspend"]) not in page
    page = web(other_engineer).get(reverse("registry:deployment-detail", args=[deployment.pk])).content.decode()
    assert reverse("registry:deployment-action", args=[deployment.pk, "retire"]) not in page


def test_go_live_refusal_is_a_message_not_an_error(web, engineer):
    deployment = DeploymentFactory(owner=engineer)
    response = web(engineer).post(reverse("registry:deployment-action", args=[deployment.pk, "go-live"]))
    assert response.status_code == 302
    assert any("cannot become live" in m or "Cannot go live" in m for m in messages_of(response))
    deployment.refresh_from_db()
    assert deployment.status == "proposed"


def test_someone_elses_deployment_cannot_be_retired(web, engineer, other_engineer):
    deployment = DeploymentFactory(owner=engineer)
    response = web(other_engineer).post(
        reverse("registry:deployment-action", args=[deployment.pk, "retire"]), {"reason": "mine now"}
    )
    assert response.status_code == 302
    assert any("only change records you own" in m for m in messages_of(response))
    deployment.refresh_from_db()
    assert deployment.status == "proposed"


def test_retire_goes_through_the_service(web, engineer):
    deployment = DeploymentFactory(owner=engineer)
    web(engineer).post(reverse("registry:deployment-action", args=[deployment.pk, "retire"]), {"reason": "done"})
    deployment.refresh_from_db()
    assert deployment.status == "retired"


def test_lists_filter_search_and_sort(web, engineer):
    FoundationModelFactory(owner=engineer, name="Alpha", provider="Zed")
    FoundationModelFactory(owner=engineer, name="Beta", provider="Acme", modality="image")
    client = web(engineer)
    page = client.get(reverse("registry:model-list"), {"q": "alp"}).content.decode()
    assert "Alpha" in page and "Beta" not in page
    page = client.get(reverse("registry:model-list"), {"modality": "image"}).content.decode()
    assert "Beta" in page and "Alpha" not in page
    page = client.get(reverse("registry:model-list"), {"sort": "provider"}).content.decode()
    assert page.index("Beta") < page.index("Alpha")
    page = client.get(reverse("registry:model-list"), {"sort": "-provider"}).content.decode()
    assert page.index("Alpha") < page.index("Beta")
    assert 'aria-sort="descending"' in page


def _grow(owner, n):
    for _ in range(n):
        model = FoundationModelFactory(owner=owner)
        adaptation = AdaptationFactory(owner=owner, derived_from_models=[model.pk])
        DeploymentFactory(owner=owner, foundation_model=model)
        DeploymentFactory(owner=owner, foundation_model=None, adaptation=adaptation)


@pytest.mark.parametrize("name", ["registry:model-list", "registry:adaptation-list", "registry:deployment-list"])
def test_list_queries_do_not_grow_with_the_data(web, engineer, django_assert_max_num_queries, name):
    client = web(engineer)
    _grow(engineer, 2)
    client.get(reverse(name))  # warm the session
    with django_assert_max_num_queries(9):
        small = client.get(reverse(name))
    _grow(engineer, 12)
    with django_assert_max_num_queries(9):
        large = client.get(reverse(name))
    assert small.status_code == large.status_code == 200
    assert len(large.context["page"]) > len(small.context["page"])


def test_detail_queries_do_not_grow_with_the_lineage(web, engineer, django_assert_max_num_queries):
    model = FoundationModelFactory(owner=engineer)
    parent = AdaptationFactory(owner=engineer, derived_from_models=[model.pk])
    client = web(engineer)
    client.get(reverse("registry:model-detail", args=[model.pk]))
    with django_assert_max_num_queries(12):
        client.get(reverse("registry:model-detail", args=[model.pk]))
    for _ in range(10):
        parent = AdaptationFactory(owner=engineer, derived_from_adaptations=[parent.pk])
        DeploymentFactory(owner=engineer, foundation_model=model)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("registry:model-detail", args=[model.pk]))
    assert response.content.decode().count('class="edge"') == 11


CARD = """---
license: apache-2.0
pipeline_tag: text-generation
base_model: acme/atlas-7b
---
# acme/atlas-7b-support

A support assistant.
"""


def test_model_card_import_creates_an_adaptation_of_a_registered_base(web, engineer):
    base = FoundationModelFactory(owner=engineer, name="atlas-7b", hf_repo_id="acme/atlas-7b")
    client = web(engineer)
    response = client.post(reverse("registry:card-import"), {"card": CARD, "hf_repo_id": "acme/atlas-7b-support"})
    adaptation = Adaptation.objects.get(hf_repo_id="acme/atlas-7b-support")
    assert response["Location"] == reverse("registry:adaptation-detail", args=[adaptation.pk])
    assert adaptation.derived_from_models == [base.pk]
    unknown = CARD.replace("acme/atlas-7b\n", "nobody/unknown\n")
    response = client.post(reverse("registry:card-import"), {"card": unknown, "hf_repo_id": "acme/other"})
    assert any("not in the registry: nobody/unknown" in m for m in messages_of(response))
    response = client.post(reverse("registry:card-import"), {"card": "", "hf_repo_id": "not a repo"})
    assert response.status_code == 200 and "Paste a model card" in response.content.decode()
    response = client.post(reverse("registry:card-import"), {"card": "# x", "hf_repo_id": "not a repo"})
    assert response.status_code == 200 and any("Not a Hugging Face repo id" in m for m in messages_of(response))


def test_owner_edits_through_the_service_and_others_are_turned_away(web, engineer, other_engineer):
    from audits.models import AuditEvent

    model = FoundationModelFactory(owner=engineer, name="Atlas", license="mit")
    url = reverse("registry:model-edit", args=[model.pk])
    client = web(engineer)
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None and k != "model_card_metadata"}
    data["license"] = "apache-2.0"
    response = client.post(url, data)
    assert response["Location"] == reverse("registry:model-detail", args=[model.pk])
    model.refresh_from_db()
    assert model.license == "apache-2.0"
    event = AuditEvent.objects.get(action="foundation_model.update", object_id=str(model.pk))
    assert event.changes == {"license": ["mit", "apache-2.0"]}
    response = web(other_engineer).get(url)
    assert response.status_code == 302 and any("only change records you own" in m for m in messages_of(response))


def test_an_edit_closing_a_lineage_cycle_is_refused(web, engineer):
    parent = AdaptationFactory(owner=engineer, name="parent")
    child = AdaptationFactory(owner=engineer, name="child", derived_from_adaptations=[parent.pk])
    response = web(engineer).post(
        reverse("registry:adaptation-edit", args=[parent.pk]),
        {"name": "parent", "version": "1", "kind": "fine_tune", "derived_from_adaptations": [child.pk]},
    )
    assert response.status_code == 200
    assert any("must stay acyclic" in m for m in messages_of(response))
    assert "must stay acyclic" in response.content.decode()
    assert parent.derived_from_adaptations == []


def test_deployment_edit(web, engineer):
    deployment = DeploymentFactory(owner=engineer, region="eu-west-1")
    url = reverse("registry:deployment-edit", args=[deployment.pk])
    client = web(engineer)
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data["region"] = "eu-central-1"
    assert client.post(url, data).status_code == 302
    deployment.refresh_from_db()
    assert deployment.region == "eu-central-1"
