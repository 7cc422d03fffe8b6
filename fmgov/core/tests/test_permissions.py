"""API permission classes: defined once in ``fmgov.core.api.permissions``, never copied into an app."""

import ast
from pathlib import Path

import pytest
from rest_framework.test import APIRequestFactory

from fmgov.core.api import permissions
from fmgov.core.roles import Role

REPO_ROOT = Path(__file__).resolve().parents[3]
HOME = REPO_ROOT / "fmgov" / "core" / "api" / "permissions.py"
PERMISSION_BASES = {"BasePermission", *permissions.__all__}


def _request(method: str, user):
    request = getattr(APIRequestFactory(), method.lower())("/api/v1/anything/")
    request.user = user
    return request


@pytest.mark.django_db
@pytest.mark.parametrize("role", Role.values)
def test_any_role_lets_every_role_in(make_user, role):
    user = make_user(f"user-{role}", role)
    assert permissions.AnyRole().has_permission(_request("POST", user), view=None)


@pytest.mark.django_db
def test_any_role_refuses_a_user_without_a_role(make_user):
    permission = permissions.AnyRole()
    assert not permission.has_permission(_request("GET", make_user("nobody")), view=None)
    assert "ask an admin" in permission.message


@pytest.mark.django_db
def test_read_any_write_engineer(make_user):
    auditor, engineer = make_user("aud", Role.AUDITOR), make_user("eng", Role.ENGINEER)
    permission = permissions.ReadAnyWriteEngineer()
    assert permission.has_permission(_request("GET", auditor), view=None)
    assert not permission.has_permission(_request("POST", auditor), view=None)
    assert permission.has_permission(_request("POST", engineer), view=None)


def _permission_classes_outside_home() -> list[str]:
    found = []
    for root in ("fmgov", "audits", "reports"):
        for path in (REPO_ROOT / root).rglob("*.py"):
            if path == HOME or "tests" in path.parts or "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.ClassDef):
                    continue
                bases = {getattr(b, "id", None) or getattr(b, "attr", None) for b in node.bases}
                if bases & PERMISSION_BASES:
                    found.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno} {node.name}")
    return found


def test_permission_classes_are_defined_only_in_core():
    assert _permission_classes_outside_home() == []
