"""The webhook API: admins only; the secret shown once; the URL's path and the secret never echoed or audited."""

import json

import pytest

from audits.models import AuditEvent
from fmgov.webhooks.models import WebhookDelivery, WebhookEndpoint
from fmgov.webhooks.tests.factories import make_endpoint

pytestmark = pytest.mark.django_db

WEBHOOKS = "/api/v1/webhooks/"
SLACK_URL = "https://hooks.slack.example/services/T0001/B0002/Zx9TopSecretPathToken"
PATH_TOKEN = "Zx9TopSecretPathToken"


def _audit_text() -> str:
    return json.dumps([[e.action, e.changes, e.context, e.object_repr] for e in AuditEvent.objects.all()])


def test_create_shows_the_secret_once_and_never_again(client_for, admin_user):
    client = client_for(admin_user)
    created = client.post(WEBHOOKS, {"url": SLACK_URL, "events": ["*"], "format": "slack"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    secret = body["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert body["origin"] == "https://hooks.slack.example" and "url" not in body
    assert body["events"] == ["*"] and body["format"] == "slack" and body["active"] is True
    later = [client.get(WEBHOOKS).content, client.get(f"{WEBHOOKS}{body['id']}/").content]
    for text in [*later, _audit_text()]:
        assert secret.encode() not in (text if isinstance(text, bytes) else text.encode())
        assert PATH_TOKEN.encode() not in (text if isinstance(text, bytes) else text.encode())
    stored = WebhookEndpoint.objects.get()
    assert secret not in stored.sealed_secret and PATH_TOKEN not in stored.sealed_url
    event = AuditEvent.objects.get(action="webhook.create")
    assert event.actor_username == admin_user.username
    assert event.changes["origin"] == [None, "https://hooks.slack.example"]
    assert event.changes["secret"] == [None, "set"]


@pytest.mark.parametrize("role", ["engineer", "reviewer", "auditor"])
def test_only_admins_read_or_write_webhooks(make_user, client_for, admin_user, role):
    endpoint, _ = make_endpoint(admin_user, "https://receiver.example/hook")
    client = client_for(make_user(f"someone-{role}", role))
    detail = f"{WEBHOOKS}{endpoint.pk}/"
    calls = [
        client.get(WEBHOOKS),
        client.post(WEBHOOKS, {"url": "https://evil.example/", "events": ["*"]}, format="json"),
        client.get(detail),
        client.patch(detail, {"active": False}, format="json"),
        client.post(f"{detail}rotate-secret/"),
        client.get(f"{detail}deliveries/"),
        client.post(f"{detail}redeliver/", {"delivery": "00000000-0000-0000-0000-000000000000"}, format="json"),
    ]
    assert [c.status_code for c in calls] == [403] * len(calls)
    assert WebhookEndpoint.objects.count() == 1 and WebhookEndpoint.objects.get().active


def test_anonymous_calls_are_refused(api_client):
    assert api_client.get(WEBHOOKS).status_code in (401, 403)
    assert api_client.post(WEBHOOKS, {"url": "https://a.example/", "events": ["*"]}, format="json").status_code in (
        401,
        403,
    )


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"events": ["*"]}, "url"),
        ({"url": "", "events": ["*"]}, "url"),
        ({"url": "ftp://files.example/hook", "events": ["*"]}, "url"),
        ({"url": "file:///etc/passwd", "events": ["*"]}, "url"),
        ({"url": "javascript:alert(1)", "events": ["*"]}, "url"),
        ({"url": "https://user:pw@receiver.example/hook", "events": ["*"]}, "url"),
        ({"url": "https:///no-host", "events": ["*"]}, "url"),
        ({"url": "https://receiver.example/" + "a" * 2000, "events": ["*"]}, "url"),
        ({"url": ["https://receiver.example/"], "events": ["*"]}, "url"),
        ({"url": "https://receiver.example/"}, "events"),
        ({"url": "https://receiver.example/", "events": []}, "events"),
        ({"url": "https://receiver.example/", "events": "review.approved"}, "events"),
        ({"url": "https://receiver.example/", "events": ["review.approve"]}, "events"),
        ({"url": "https://receiver.example/", "events": ["*", "review.approved"]}, "events"),
        ({"url": "https://receiver.example/", "events": [{"x": 1}]}, "events"),
        ({"url": "https://receiver.example/", "events": ["*"], "format": "teams"}, "format"),
        ({"url": "https://receiver.example/", "events": ["*"], "active": "perhaps"}, "active"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client_for, admin_user, payload, field):
    response = client_for(admin_user).post(WEBHOOKS, payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not WebhookEndpoint.objects.exists()
    assert not AuditEvent.objects.filter(action="webhook.create").exists()


def test_update_is_audited_and_checked_like_create(client_for, admin_user):
    endpoint, _ = make_endpoint(admin_user, "https://receiver.example/a", ["review.approved"])
    client = client_for(admin_user)
    detail = f"{WEBHOOKS}{endpoint.pk}/"
    bad = client.patch(detail, {"url": "gopher://x.example/", "events": ["nope"]}, format="json")
    assert bad.status_code == 400 and {"url", "events"} <= set(bad.json())
    response = client.patch(
        detail, {"events": ["deployment.live", "deployment.live"], "url": "https://other.example/b"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["events"] == ["deployment.live"] and response.json()["origin"] == "https://other.example"
    event = AuditEvent.objects.filter(action="webhook.update").get()
    assert event.changes == {
        "events": [["review.approved"], ["deployment.live"]],
        "origin": ["https://receiver.example", "https://other.example"],
    }
    assert event.context["url_changed"] is True
    # A new path on the same origin is still an audited change, though the path itself is not recorded.
    assert client.patch(detail, {"url": "https://other.example/c"}, format="json").status_code == 200
    assert AuditEvent.objects.filter(action="webhook.update").count() == 2
    disabled = client.patch(detail, {"active": False}, format="json").json()
    assert disabled["active"] is False and disabled["disabled_reason"] == f"Disabled by {admin_user.username}."
    assert AuditEvent.objects.filter(action="webhook.update").last().changes == {"active": [True, False]}
    assert client.patch(detail, {}, format="json").status_code == 200
    assert AuditEvent.objects.filter(action="webhook.update").count() == 3  # nothing changed, nothing recorded


def test_rotating_the_secret_answers_a_new_one_once_and_audits_without_it(client_for, admin_user):
    endpoint, first = make_endpoint(admin_user, "https://receiver.example/a")
    response = client_for(admin_user).post(f"{WEBHOOKS}{endpoint.pk}/rotate-secret/")
    assert response.status_code == 200
    second = response.json()["secret"]
    assert second.startswith("whsec_") and second != first
    event = AuditEvent.objects.get(action="webhook.rotate_secret")
    assert event.context["secret_rotated"] is True
    assert first not in _audit_text() and second not in _audit_text()


def test_the_delivery_log_and_redelivery(client_for, admin_user, django_assert_max_num_queries):
    from django.db import transaction

    from audits.services import audit_record

    endpoint, _ = make_endpoint(admin_user, "https://receiver.example/a", ["finding.opened"])
    other, _ = make_endpoint(admin_user, "https://other.example/a", ["finding.opened"])
    for _ in range(3):
        with transaction.atomic():
            audit_record(action="finding.open", system="test", object_type="findings.finding", object_id=1)
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 3
    client = client_for(admin_user)
    with django_assert_max_num_queries(8):
        log = client.get(f"{WEBHOOKS}{endpoint.pk}/deliveries/")
    assert log.status_code == 200
    rows = log.json()["results"]
    assert len(rows) == 3 and {r["endpoint"] for r in rows} == {endpoint.pk}
    assert rows[0]["status"] == "pending" and rows[0]["event_type"] == "finding.opened"
    assert "payload" not in rows[0] and "response_body" not in rows[0]
    assert client.get(f"{WEBHOOKS}{endpoint.pk}/deliveries/?status=bogus").status_code == 400
    assert client.get(f"{WEBHOOKS}999999/deliveries/").status_code == 404

    delivery = WebhookDelivery.objects.filter(endpoint=endpoint).first()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=8)
    redo = client.post(f"{WEBHOOKS}{endpoint.pk}/redeliver/", {"delivery": str(delivery.pk)}, format="json")
    assert redo.status_code == 202, redo.content
    assert redo.json()["id"] == str(delivery.pk) and redo.json()["status"] == "pending"
    assert redo.json()["attempts"] == 0
    again = client.post(f"{WEBHOOKS}{endpoint.pk}/redeliver/", {"delivery": str(delivery.pk)}, format="json")
    assert again.status_code == 409  # still pending: a second round could race the first
    event = AuditEvent.objects.get(action="webhook.redeliver")
    assert event.changes == {"attempts": [8, 0], "status": ["failed", "pending"]}
    foreign = WebhookDelivery.objects.filter(endpoint=other).first()
    wrong = client.post(f"{WEBHOOKS}{endpoint.pk}/redeliver/", {"delivery": str(foreign.pk)}, format="json")
    assert wrong.status_code == 400 and "delivery" in wrong.json()
    assert client.post(f"{WEBHOOKS}{endpoint.pk}/redeliver/", {"delivery": "x"}, format="json").status_code == 400
    client.patch(f"{WEBHOOKS}{endpoint.pk}/", {"active": False}, format="json")
    off = client.post(f"{WEBHOOKS}{endpoint.pk}/redeliver/", {"delivery": str(delivery.pk)}, format="json")
    assert off.status_code == 409


def test_the_endpoint_list_is_one_query_set_whatever_its_length(client_for, admin_user, django_assert_max_num_queries):
    for n in range(5):
        make_endpoint(admin_user, f"https://receiver{n}.example/hook")
    client = client_for(admin_user)
    with django_assert_max_num_queries(8):
        response = client.get(WEBHOOKS)
    assert response.status_code == 200 and response.json()["count"] == 5
