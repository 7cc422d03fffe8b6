"""Hostile input never gets a 500: oversized, malformed, mistyped, deeply nested and odd Unicode bodies.

The foundation endpoints are tested by name; every collection endpoint that
accepts a JSON body is discovered from the OpenAPI schema, so registry,
reviews, evaluations and reports endpoints are covered as they land.
Rejected input must leave nothing behind: the audit trail does not grow.
"""

import json

import pytest
from django.conf import settings
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from audits.models import AuditEvent

LIMIT = settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _openapi() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


SCHEMA = _openapi()


def _resolve(node: dict) -> dict:
    while "$ref" in node:
        node = SCHEMA["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _json_collection_posts() -> list[tuple[str, dict]]:
    found = []
    for path, operations in SCHEMA["paths"].items():
        post = operations.get("post")
        if "{" in path or not post:
            continue
        content = (post.get("requestBody") or {}).get("content", {})
        if "application/json" in content:
            found.append((path, _resolve(content["application/json"]["schema"])))
    return sorted(found, key=lambda item: item[0])


JSON_POSTS = _json_collection_posts()
JSON_POST_PATHS = [path for path, _ in JSON_POSTS]


@pytest.fixture
def admin_client(make_user):
    from fmgov.accounts.services import token_create

    user = make_user("hostile-admin", "admin", "engineer", "reviewer", "auditor")
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    _, key = token_create(user=user, name="hostile")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _message(response) -> str:
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert isinstance(body, dict | list) and body, f"no message in {body!r}"
    return json.dumps(body)


def _post_raw(client, path, body: bytes, content_type: str):
    return client.generic("POST", path, data=body, content_type=content_type)


def _events() -> int:
    return AuditEvent.objects.count()


def test_schema_discovery_finds_the_foundation_and_app_endpoints():
    assert "/api/v1/auth/token/" in JSON_POST_PATHS
    assert len(JSON_POST_PATHS) >= 5, JSON_POST_PATHS


# --- every JSON collection endpoint ----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", JSON_POST_PATHS)
def test_oversized_body_is_413_with_a_message(admin_client, path):
    before = _events()
    body = json.dumps({"name": "x" * (LIMIT + 1024)}).encode()
    response = _post_raw(admin_client, path, body, "application/json")
    assert response.status_code == 413, response.content[:500]
    assert "larger" in _message(response)
    assert _events() == before


@pytest.mark.django_db
@pytest.mark.parametrize("path", JSON_POST_PATHS)
@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"name": "unterminated', b"\xff\xfe\x00binary", b"", b"[1, 2,]", b"NaN"],
    ids=["broken", "unterminated", "binary", "empty", "trailing-comma", "nan"],
)
def test_malformed_json_is_400_with_a_message(admin_client, path, body):
    before = _events()
    response = _post_raw(admin_client, path, body, "application/json")
    assert response.status_code == 400, (response.status_code, response.content[:500])
    _message(response)
    assert _events() == before


@pytest.mark.django_db
@pytest.mark.parametrize("path", JSON_POST_PATHS)
@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/x-yaml", "image/png"])
def test_wrong_content_type_is_415_with_a_message(admin_client, path, content_type):
    before = _events()
    response = _post_raw(admin_client, path, b'{"name": "x"}', content_type)
    assert response.status_code == 415, (response.status_code, response.content[:500])
    assert "Unsupported media type" in _message(response)
    assert _events() == before


@pytest.mark.django_db
@pytest.mark.parametrize("path", JSON_POST_PATHS)
@pytest.mark.parametrize("depth", [2_000, 100_000])
def test_deeply_nested_json_is_400(admin_client, path, depth):
    before = _events()
    body = ('{"name": ' + "[" * depth + "]" * depth + "}").encode()
    response = _post_raw(admin_client, path, body, "application/json")
    assert response.status_code == 400, (response.status_code, response.content[:500])
    _message(response)
    assert _events() == before


HOSTILE_STRINGS = {
    "nul": "model\x00name",
    "lone-surrogate": "model\ud800name",
    "rtl-override": "gpt\u202etxt.exe",
    "zero-width-and-bom": "\ufeffmo\u200bdel\u2060",
    "combining-flood": "e" + "\u0301" * 500,
    "astral": "\U0001f916\U0001d54f\U00010348",
    "nfc-nfd": "caf\u00e9 / cafe\u0301",
    "newlines-and-controls": "line1\r\nline2\x1b[31m\x7f",
}


def _body(schema: dict, value: str) -> dict:
    """A body that is valid apart from its free-text fields, which all carry ``value``."""
    body = {}
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        if prop.get("readOnly"):
            continue
        prop = _resolve(prop)
        if "enum" in prop:
            if name in required:
                body[name] = next(v for v in prop["enum"] if v not in (None, ""))
        elif prop.get("type") == "string" and not prop.get("format") and not prop.get("pattern"):
            body[name] = value
        elif name in required:
            body[name] = {"integer": 1, "number": 1.0, "boolean": False, "array": [], "object": {}}.get(
                prop.get("type"), value
            )
    return body


def _json_bytes(body: dict) -> bytes:
    # json.dumps escapes a lone surrogate as \ud800, exactly as a hostile client would send it.
    return json.dumps(body, ensure_ascii=True).encode()


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(HOSTILE_STRINGS))
@pytest.mark.parametrize(("path", "schema"), JSON_POSTS, ids=[p for p, _ in JSON_POSTS])
def test_unicode_edge_cases_are_rejected_or_stored_intact(admin_client, path, schema, kind):
    value = HOSTILE_STRINGS[kind]
    before = _events()
    body = _body(schema, value)
    response = _post_raw(admin_client, path, _json_bytes(body), "application/json")
    assert response.status_code < 500, (response.status_code, response.content[:2000])
    if response.status_code >= 400:
        _message(response)
        if path != "/api/v1/auth/token/":  # a failed login is itself audited, by design
            assert _events() == before, "a refused request left an audit event behind"
        return
    if response.status_code == 201:
        data = response.json()
        for name, sent in body.items():
            if isinstance(sent, str) and name in data and sent == value:
                assert data[name] == value, f"{name} was altered: {data[name]!r} != {value!r}"
        detail = response.get("Location") or (f"{path}{data['id']}/" if "id" in data else None)
        if detail:
            stored = admin_client.get(detail)
            assert stored.status_code == 200
            for name, sent in body.items():
                if isinstance(sent, str) and name in stored.json() and sent == value:
                    assert stored.json()[name] == value, f"{name} read back altered"


# --- the foundation endpoints by name --------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(HOSTILE_STRINGS))
def test_token_endpoint_hostile_credentials(api_client, make_user, kind):
    make_user("legit")
    value = HOSTILE_STRINGS[kind]
    response = _post_raw(
        api_client, "/api/v1/auth/token/", _json_bytes({"username": value, "password": value}), "application/json"
    )
    assert response.status_code in (400, 403, 429), (response.status_code, response.content[:2000])
    _message(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    [
        "Token \x00\x00",
        "Token " + "a" * 10_000,
        "Token caf\u00e9",
        "Token",
        "Token a b",
        "Bearer x",
        "Token \xed\xa0\x80",
    ],
    ids=["nul", "huge", "latin1", "no-key", "two-keys", "bearer", "surrogate-bytes"],
)
def test_me_with_hostile_authorization_header_is_401(api_client, header):
    api_client.credentials(HTTP_AUTHORIZATION=header)
    response = api_client.get("/api/v1/me/")
    assert response.status_code in (401, 403), (response.status_code, response.content[:500])
    _message(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "search=%00",
        "search=%ED%A0%80",  # a UTF-8-encoded lone surrogate, as a raw client can send it
        "search=%E2%80%AEtxt",
        "search=" + "x" * 100_000,
        "search=" + "%25" * 2_000,
        "action=%00",
        "ordering=-password",
        "ordering=%00",
        "page=-1",
        "page=99999999999999999999",
        "page_size=100000000",
        "seq=1e309",
        "timestamp__gte=not-a-date",
    ],
    ids=[
        "search-nul", "search-surrogate", "search-rtl", "search-100k", "search-percent-flood", "action-nul",
        "ordering-password", "ordering-nul", "page-negative", "page-huge", "page-size-huge", "seq-inf", "bad-date",
    ],
)  # fmt: skip
def test_audit_event_list_hostile_query_parameters(admin_client, query):
    response = admin_client.get("/api/v1/audit-events/", QUERY_STRING=query)
    assert response.status_code in (200, 400, 404), (response.status_code, response.content[:2000])
    _message(response)


@pytest.mark.django_db
@pytest.mark.parametrize("seq", ["0", "-1", "99999999999999999999999", "abc", "%00", "1;DROP TABLE x"])
def test_audit_event_detail_hostile_keys(admin_client, seq):
    response = admin_client.get(f"/api/v1/audit-events/{seq}/")
    assert response.status_code in (400, 404), (response.status_code, response.content[:2000])


@pytest.mark.django_db
def test_huge_markdown_model_card_is_refused_or_stored_intact(admin_client):
    path = "/api/v1/foundation-models/"
    if path not in JSON_POST_PATHS:
        pytest.fail("the foundation-models endpoint is gone from the schema")
    card = ("# Title\n\n" + "| a | b |\n|---|---|\n" + "| x | y |\n" * 150_000)[: LIMIT - 200_000]
    nested = "> " * 5000 + "quote\n" + "- " * 5000 + "item\n"
    for model_card in (card, nested):
        before = _events()
        body = {"name": "huge-card", "provider": "p", "modality": "text", "access": "open_weights"}
        body["model_card"] = model_card
        response = _post_raw(admin_client, path, json.dumps(body).encode(), "application/json")
        assert response.status_code < 500, (response.status_code, response.content[:2000])
        if response.status_code == 201:
            stored = admin_client.get(f"{path}{response.json()['id']}/").json()
            # DRF trims surrounding whitespace of every CharField; the content itself is intact.
            assert stored["model_card"] == model_card.strip()
            admin_client.get(f"{path}{response.json()['id']}/model-card/")
        else:
            _message(response)
            assert _events() == before
