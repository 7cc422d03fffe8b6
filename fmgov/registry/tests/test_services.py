"""Registry services: validation, ownership, lineage cycles, the deployment workflow, audit events."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from audits.base import UnrecordedBulkWrite
from audits.models import AuditEvent
from fmgov.core.exceptions import Conflict, InvalidInput, NotAllowed, TransitionNotAllowed
from fmgov.core.hooks import check_every_hook_is_answered
from fmgov.registry import hooks, selectors, services
from fmgov.registry.choices import DeploymentStatus
from fmgov.registry.models import Adaptation, AdaptationParent, Deployment, FoundationModel
from fmgov.registry.tests.factories import AdaptationFactory, DeploymentFactory, FoundationModelFactory, chain, sha256

pytestmark = pytest.mark.django_db


def last_event(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).order_by("-seq").first()


@pytest.fixture
def no_reviews_app(monkeypatch):
    """As if no app had answered the go-live hook (the reviews app missing from INSTALLED_APPS)."""
    monkeypatch.setattr(hooks.deployment_approval_blocker, "_answer", None)


@pytest.fixture
def reviews_say(monkeypatch):
    """Stand in for the reviews app's blocker with a fixed answer."""

    def _say(answer):
        monkeypatch.setattr(hooks.deployment_approval_blocker, "_answer", lambda deployment: answer)

    return _say


# --- foundation models ---------------------------------------------------------


def test_create_records_the_after_values_and_the_owner(engineer):
    model = services.foundation_model_create(
        actor=engineer, name="Llama", version="3.1", provider="Meta", modality="text", access="open_weights"
    )
    assert model.owner == engineer
    event = last_event("foundation_model.create")
    assert event.actor == engineer and event.object_id == str(model.pk)
    assert all(old is None for old, _ in event.changes.values())
    assert event.changes["name"] == [None, "Llama"] and event.changes["owner"] == [None, engineer.pk]


def test_update_records_only_what_changed(engineer):
    model = FoundationModelFactory(owner=engineer, license="mit")
    services.foundation_model_update(
        foundation_model=model, actor=engineer, license="apache-2.0", provider="Example AI"
    )
    event = last_event("foundation_model.update")
    assert event.changes == {"license": ["mit", "apache-2.0"]}
    count = AuditEvent.objects.count()
    services.foundation_model_update(foundation_model=model, actor=engineer, license="apache-2.0")
    assert AuditEvent.objects.count() == count  # nothing changed, nothing recorded


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("artifact_digest", "not-a-digest", "SHA-256"),
        ("artifact_digest", "A" * 64, "SHA-256"),
        ("modality", "telepathy", "not a valid choice"),
        ("parameter_count", -5, "greater than or equal to 1"),
        ("training_energy_kwh", -1.0, "greater than or equal to 0"),
        ("access", "leaked", "not a valid choice"),
    ],
)
def test_invalid_model_fields_are_per_field_errors(engineer, field, value, message):
    fields = {"name": "M", "provider": "P", "modality": "text", "access": "api", field: value}
    with pytest.raises(InvalidInput) as exc:
        services.foundation_model_create(actor=engineer, **fields)
    assert list(exc.value.field_errors) == [field]
    assert message in exc.value.field_errors[field][0]
    assert not FoundationModel.objects.exists()


def test_name_and_version_are_unique(engineer):
    FoundationModelFactory(owner=engineer, name="Same", version="1")
    with pytest.raises(InvalidInput) as exc:
        FoundationModelFactory(owner=engineer, name="Same", version="1")
    assert "__all__" in exc.value.field_errors or "name" in exc.value.field_errors
    FoundationModelFactory(owner=engineer, name="Same", version="2")


def test_supersedes_cannot_loop(engineer):
    v1 = FoundationModelFactory(owner=engineer, name="M", version="1")
    v2 = FoundationModelFactory(owner=engineer, name="M", version="2", supersedes=v1)
    with pytest.raises(InvalidInput) as exc:
        services.foundation_model_update(foundation_model=v1, actor=engineer, supersedes=v2)
    assert "supersedes" in exc.value.field_errors
    with pytest.raises(InvalidInput):
        services.foundation_model_update(foundation_model=v1, actor=engineer, supersedes=v1)


def test_roles_and_ownership(engineer, other_engineer, reviewer, auditor, admin_user):
    model = FoundationModelFactory(owner=engineer)
    for outsider in (reviewer, auditor):
        with pytest.raises(NotAllowed):
            services.foundation_model_create(actor=outsider, name="X", provider="P", modality="text", access="api")
    with pytest.raises(NotAllowed):
        services.foundation_model_update(foundation_model=model, actor=other_engineer, license="mit")
    services.foundation_model_update(foundation_model=model, actor=admin_user, license="mit")
    assert last_event("foundation_model.update").actor == admin_user


def test_unknown_fields_are_refused(engineer):
    with pytest.raises(InvalidInput) as exc:
        services.foundation_model_create(
            actor=engineer, name="M", provider="P", modality="text", access="api", owner_id=99, status="live"
        )
    assert set(exc.value.field_errors) == {"owner_id", "status"}


def test_an_error_after_the_audit_insert_leaves_neither_row_nor_event(engineer, monkeypatch):
    real = services.foundation_models.audit_record

    def record_then_fail(**kwargs):
        real(**kwargs)
        raise RuntimeError("crash after the audit insert")

    monkeypatch.setattr(services.foundation_models, "audit_record", record_then_fail)
    events = AuditEvent.objects.count()
    with pytest.raises(RuntimeError):
        services.foundation_model_create(actor=engineer, name="M", provider="P", modality="text", access="api")
    assert not FoundationModel.objects.exists()
    assert AuditEvent.objects.count() == events
    monkeypatch.setattr(services.foundation_models, "audit_record", real)
    model = FoundationModelFactory(owner=engineer)
    monkeypatch.setattr(services.adaptations, "audit_record", record_then_fail)
    with pytest.raises(RuntimeError):
        services.adaptation_create(actor=engineer, name="A", kind="lora", derived_from_models=[model.pk])
    assert not Adaptation.objects.exists() and not AdaptationParent.objects.exists()
    assert not AuditEvent.objects.filter(action="adaptation.create").exists()


# --- adaptations and lineage -------------------------------------------------------


def test_adaptation_needs_a_parent(engineer):
    with pytest.raises(InvalidInput) as exc:
        services.adaptation_create(actor=engineer, name="orphan", kind="lora")
    assert set(exc.value.field_errors) == {"derived_from_models", "derived_from_adaptations"}
    assert not Adaptation.objects.exists()


def test_unknown_parents_are_named(engineer):
    with pytest.raises(InvalidInput) as exc:
        services.adaptation_create(
            actor=engineer, name="a", kind="lora", derived_from_models=[999], derived_from_adaptations=[998]
        )
    assert "999" in exc.value.field_errors["derived_from_models"][0]
    assert "998" in exc.value.field_errors["derived_from_adaptations"][0]


def test_create_records_parents(engineer):
    base = FoundationModelFactory(owner=engineer)
    other = AdaptationFactory(owner=engineer)
    adaptation = services.adaptation_create(
        actor=engineer,
        name="merged",
        kind="other",
        derived_from_models=[base.pk],
        derived_from_adaptations=[other.pk],
    )
    assert adaptation.derived_from_models == [base.pk]
    assert adaptation.derived_from_adaptations == [other.pk]
    after = {field: new for field, (_, new) in last_event("adaptation.create").changes.items()}
    assert after["derived_from_models"] == [base.pk] and after["derived_from_adaptations"] == [other.pk]


def test_a_cycle_is_refused_and_nothing_changes(engineer):
    _, (a, b, c) = chain(engineer, 3)
    edges_before = sorted(AdaptationParent.objects.values_list("child_id", "parent_model_id", "parent_adaptation_id"))
    for new_parent in (c, b, a):  # c and b are downstream of a; a itself is a self-loop
        with pytest.raises(InvalidInput) as exc:
            services.adaptation_update(adaptation=a, actor=engineer, derived_from_adaptations=[new_parent.pk])
        assert "acyclic" in exc.value.field_errors["derived_from_adaptations"][0]
    edges_after = sorted(AdaptationParent.objects.values_list("child_id", "parent_model_id", "parent_adaptation_id"))
    assert edges_after == edges_before
    assert not AuditEvent.objects.filter(action="adaptation.update").exists()


def test_reparenting_records_before_and_after(engineer):
    root, (a, b) = chain(engineer, 2)
    other = FoundationModelFactory(owner=engineer)
    services.adaptation_update(adaptation=b, actor=engineer, derived_from_models=[other.pk, root.pk])
    b.refresh_from_db()
    assert sorted(b.derived_from_models) == sorted([other.pk, root.pk]) and b.derived_from_adaptations == [a.pk]
    changes = last_event("adaptation.update").changes
    assert changes["derived_from_models"] == [[], sorted([other.pk, root.pk])]
    with pytest.raises(InvalidInput):  # removing every parent is refused
        services.adaptation_update(adaptation=b, actor=engineer, derived_from_models=[], derived_from_adaptations=[])


def test_edges_cannot_be_bulk_written_outside_a_service(engineer):
    adaptation = AdaptationFactory(owner=engineer)
    with pytest.raises(UnrecordedBulkWrite):
        AdaptationParent.objects.filter(child=adaptation).delete()


# --- deployments ---------------------------------------------------------------


def test_deployment_starts_proposed_and_is_audited(engineer):
    deployment = DeploymentFactory(owner=engineer)
    assert deployment.status == DeploymentStatus.PROPOSED and deployment.owner == engineer
    event = last_event("deployment.create")
    assert event.changes["status"] == [None, "proposed"] and event.changes["endpoint_credential"] == [None, None]


def test_deployment_needs_exactly_one_target(engineer):
    model, adaptation = FoundationModelFactory(owner=engineer), AdaptationFactory(owner=engineer)
    for targets in ({}, {"foundation_model": model, "adaptation": adaptation}):
        with pytest.raises(InvalidInput) as exc:
            services.deployment_create(actor=engineer, name="d", environment="staging", **targets)
        assert set(exc.value.field_errors) == {"foundation_model", "adaptation"}
    assert not Deployment.objects.exists()


def test_credentials_in_the_base_url_are_stored_redacted_and_the_event_says_what_kind(engineer):
    model = FoundationModelFactory(owner=engineer)
    secret = "sk-proj-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"
    deployment = services.deployment_create(
        actor=engineer,
        name="d",
        environment="staging",
        foundation_model=model,
        endpoint_adapter="openai_chat",
        endpoint_base_url=f"https://user:pw@llm.example.org/v1?api_key={secret}",
    )
    assert "pw@" not in deployment.endpoint_base_url and secret not in deployment.endpoint_base_url
    assert deployment.endpoint_base_url.startswith("https://") and "llm.example.org/v1" in deployment.endpoint_base_url
    event = last_event("deployment.create")
    assert set(event.context["redacted"]) == {"url_credentials", "openai"}
    assert secret not in str(event.changes) + str(event.context) and "pw@" not in str(event.changes)


def test_go_live_fails_loudly_when_nothing_answers_the_gate(engineer, no_reviews_app):
    """A missing reviews app is a configuration error, never a silently open (or silently closed) gate."""
    deployment = DeploymentFactory(owner=engineer)
    services.deployment_approve(deployment=deployment, actor=None, review=None, system="test")
    with pytest.raises(ImproperlyConfigured, match="fmgov.reviews must register"):
        services.deployment_go_live(deployment=deployment, actor=engineer)
    assert [e.id for e in check_every_hook_is_answered()] == ["fmgov.E001"]
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.APPROVED and deployment.went_live_at is None
    assert not AuditEvent.objects.filter(action="deployment.go_live").exists()


def test_go_live_is_refused_when_nothing_was_approved(engineer):
    """With whatever reviews app is installed: a new deployment has no approved review."""
    deployment = DeploymentFactory(owner=engineer)
    with pytest.raises(TransitionNotAllowed):
        services.deployment_go_live(deployment=deployment, actor=engineer)
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.PROPOSED


def test_go_live_follows_the_reviews_app_answer(engineer, reviews_say):
    deployment = DeploymentFactory(owner=engineer)
    services.deployment_approve(deployment=deployment, actor=None, review=None, system="test")
    reviews_say("The approval of risk review #7 expired on 2026-01-01; review again.")
    with pytest.raises(TransitionNotAllowed, match="expired"):
        services.deployment_go_live(deployment=deployment, actor=engineer)
    reviews_say(None)
    live = services.deployment_go_live(deployment=deployment, actor=engineer)
    assert live.status == DeploymentStatus.LIVE and live.went_live_at is not None
    event = last_event("deployment.go_live")
    assert event.actor == engineer
    assert event.changes["status"] == ["approved", "live"]


def test_proposed_cannot_go_live_even_if_reviews_allow(engineer, reviews_say):
    reviews_say(None)
    deployment = DeploymentFactory(owner=engineer)
    with pytest.raises(TransitionNotAllowed, match="cannot become live"):
        services.deployment_go_live(deployment=deployment, actor=engineer)


def test_the_workflow_and_its_events(engineer, reviews_say):
    reviews_say(None)
    deployment = DeploymentFactory(owner=engineer)
    services.deployment_approve(deployment=deployment, actor=None, review=None, system="reviews")
    assert last_event("deployment.approve").actor_system == "reviews"
    services.deployment_go_live(deployment=deployment, actor=engineer)
    services.deployment_suspend(deployment=deployment, actor=engineer, reason="latency regression")
    event = last_event("deployment.suspend")
    assert event.context["reason"] == "latency regression"
    assert event.changes["status"] == ["live", "suspended"]
    services.deployment_go_live(deployment=deployment, actor=engineer)  # resumes while the review holds
    services.deployment_retire(deployment=deployment, actor=engineer, reason="replaced")
    with pytest.raises(TransitionNotAllowed):
        services.deployment_go_live(deployment=deployment, actor=engineer)
    with pytest.raises(TransitionNotAllowed):
        services.deployment_update(deployment=deployment, actor=engineer, region="us-east-1")
    actions = list(
        AuditEvent.objects.filter(object_type="registry.deployment").order_by("seq").values_list("action", flat=True)
    )
    assert actions == [
        "deployment.create",
        "deployment.approve",
        "deployment.go_live",
        "deployment.suspend",
        "deployment.go_live",
        "deployment.retire",
    ]


def test_suspend_needs_a_live_deployment(engineer):
    deployment = DeploymentFactory(owner=engineer)
    with pytest.raises(TransitionNotAllowed, match="proposed deployment cannot become suspended"):
        services.deployment_suspend(deployment=deployment, actor=engineer)


def test_withdraw_approval(engineer, reviews_say):
    reviews_say(None)
    approved, live, proposed = (DeploymentFactory(owner=engineer) for _ in range(3))
    for d in (approved, live):
        services.deployment_approve(deployment=d, actor=None, review=None, system="t")
    services.deployment_go_live(deployment=live, actor=engineer)
    services.deployment_withdraw_approval(deployment=approved, actor=None, reason="revoked", system="reviews")
    services.deployment_withdraw_approval(deployment=live, actor=None, reason="breach", system="evaluations")
    count = AuditEvent.objects.count()
    services.deployment_withdraw_approval(deployment=proposed, actor=None, reason="no-op")
    assert AuditEvent.objects.count() == count
    approved.refresh_from_db(), live.refresh_from_db()
    assert approved.status == DeploymentStatus.PROPOSED and live.status == DeploymentStatus.SUSPENDED
    event = last_event("deployment.withdraw_approval")
    assert event.context["reason"] == "breach" and event.actor_system == "evaluations"


def test_approve_is_a_no_op_when_already_approved(engineer):
    deployment = DeploymentFactory(owner=engineer)
    services.deployment_approve(deployment=deployment, actor=None, system="t")
    count = AuditEvent.objects.count()
    services.deployment_approve(deployment=deployment, actor=None, system="t")
    assert AuditEvent.objects.count() == count


def test_only_the_owner_or_an_admin_moves_a_deployment(engineer, other_engineer, reviewer, admin_user, reviews_say):
    reviews_say(None)
    deployment = DeploymentFactory(owner=engineer)
    services.deployment_approve(deployment=deployment, actor=None, system="t")
    for outsider in (other_engineer, reviewer):
        with pytest.raises(NotAllowed):
            services.deployment_go_live(deployment=deployment, actor=outsider)
    services.deployment_go_live(deployment=deployment, actor=admin_user)
    assert last_event("deployment.go_live").actor == admin_user


def test_the_target_is_fixed_once_approved(engineer):
    deployment = DeploymentFactory(owner=engineer)
    other = FoundationModelFactory(owner=engineer)
    services.deployment_update(deployment=deployment, actor=engineer, foundation_model=other)
    assert last_event("deployment.update").changes == {"foundation_model": [deployment.foundation_model_id, other.pk]}
    services.deployment_approve(deployment=deployment, actor=None, system="t")
    with pytest.raises(Conflict, match="cannot change"):
        services.deployment_update(deployment=deployment, actor=engineer, foundation_model=FoundationModelFactory())
    # The region is governed too since issue 15 (it was editable on an approved deployment before).
    with pytest.raises(Conflict, match="revisions/"):
        services.deployment_update(deployment=deployment, actor=engineer, region="eu-north-1")
    services.deployment_update(deployment=deployment, actor=engineer, name="renamed")


def test_go_live_blocker_is_the_reviews_app_answer(engineer):
    """Registered at start-up: the real blocker answers, and a new deployment has no approved review."""
    from fmgov.reviews.selectors import deployment_approval_blocker

    assert hooks.deployment_approval_blocker._answer is deployment_approval_blocker
    assert check_every_hook_is_answered() == []
    deployment = DeploymentFactory(owner=engineer)
    assert selectors.deployment_go_live_blocker(deployment) == deployment_approval_blocker(deployment)


def test_factories_make_valid_audited_rows(engineer):
    model = FoundationModelFactory(owner=engineer, name="X", version="2")
    assert model.artifact_digest == sha256("X:2")
    assert AuditEvent.objects.filter(action="foundation_model.create", object_id=str(model.pk)).exists()


# --- demo data -----------------------------------------------------------------


def test_demo_seed_is_complete_and_idempotent():
    from io import StringIO

    from fmgov.accounts import demo as accounts_demo
    from fmgov.registry import demo

    accounts_demo.seed(StringIO())
    out = StringIO()
    demo.seed(out)
    assert "5 models, 11 adaptations, 11 deployments created" in out.getvalue()
    # The registry proposes every deployment; only the reviews demo takes them through the gate.
    statuses = set(Deployment.objects.values_list("status", flat=True))
    assert statuses == {DeploymentStatus.PROPOSED}
    llama = FoundationModel.objects.get(hf_repo_id="meta-llama/Llama-3.1-8B-Instruct")
    assert llama.parameter_count == 8_030_261_248 and llama.license == "llama3.1"
    assert max(depth for _, depth in selectors.adaptation_descendants(model_id=llama.pk)) == 3
    rag = Adaptation.objects.get(name="policy-rag")
    assert len(rag.derived_from_adaptations) == 2
    prompt = Adaptation.objects.get(name="policy-rag-prompt")
    assert max(a["depth"] for a in selectors.adaptation_ancestors(adaptation_id=prompt.pk)) == 3
    events = AuditEvent.objects.count()
    again = StringIO()
    demo.seed(again)
    assert "0 models, 0 adaptations, 0 deployments created" in again.getvalue()
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_edits_cannot_close_a_cycle_together(engineer, monkeypatch):
    """Each edit alone is fine; together they would close c -> a -> b -> c. The second waits and is refused."""
    import threading

    from django.db import connection

    root, (a, b) = chain(engineer, 2)
    c = AdaptationFactory(owner=engineer, derived_from_models=[root.pk])
    real = services.adaptations.audit_record
    first_has_written = threading.Event()

    def slow_record(**kwargs):
        event = real(**kwargs)
        if threading.current_thread().name == "first":
            first_has_written.set()
            threading.Event().wait(1.0)  # keep the first transaction open while the second starts
        return event

    monkeypatch.setattr(services.adaptations, "audit_record", slow_record)
    outcome: dict[str, object] = {}

    def run(name, adaptation, parent):
        try:
            services.adaptation_update(adaptation=adaptation, actor=engineer, derived_from_adaptations=[parent.pk])
            outcome[name] = "ok"
        except InvalidInput as exc:
            outcome[name] = exc.field_errors
        except Exception as exc:  # reported by the assertions below
            outcome[name] = repr(exc)
        finally:
            connection.close()

    first = threading.Thread(target=run, args=("first", a, c), name="first")
    second = threading.Thread(target=run, args=("second", c, b), name="second")
    first.start()
    assert first_has_written.wait(10)
    second.start()
    first.join(30), second.join(30)
    assert outcome["first"] == "ok"
    assert isinstance(outcome["second"], dict), outcome
    assert "acyclic" in outcome["second"]["derived_from_adaptations"][0]
    c.refresh_from_db()
    assert c.derived_from_adaptations == []


def test_only_admins_and_the_system_register_for_someone_else(engineer, other_engineer, admin_user):
    fields = {"name": "M", "provider": "P", "modality": "text", "access": "api"}
    with pytest.raises(NotAllowed):
        services.foundation_model_create(actor=engineer, owner=other_engineer, **fields)
    assert services.foundation_model_create(actor=admin_user, owner=engineer, **fields).owner == engineer
    system_made = services.foundation_model_create(actor=None, owner=engineer, **{**fields, "version": "2"})
    assert system_made.owner == engineer
    with pytest.raises(InvalidInput):
        services.foundation_model_create(actor=None, **{**fields, "version": "3"})
