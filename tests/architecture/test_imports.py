"""The apps' dependencies point one way: an app imports only from itself and the apps below it.

The order is the one in style.md and issue 21: a lower app that needs something from a higher one gets it through
a hook the higher app registers at start-up, never through an import (or an ``importlib`` call that hides one).
Tests are outside the graph (an audit test may exercise a registry write). ``fmgov/urls.py``, the settings and the
Celery app wire everything together and are exempt.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Lowest first. Apps on one line (a tuple) are siblings: neither may import the other.
LAYERS: list[tuple[str, ...]] = [
    ("fmgov.core",),
    ("audits",),
    ("fmgov.accounts", "fmgov.notifications"),
    ("fmgov.findings",),
    ("fmgov.registry",),
    ("fmgov.reviews",),
    ("fmgov.evaluations",),
    # Incidents read the registry, reviews and findings; evaluations stay free to be read by them.
    ("fmgov.portfolio", "fmgov.incidents"),
    # Model documentation reads the registry and opens findings; reports render it (issue 19).
    ("fmgov.documentation",),
    # Evidence files hang on reviews, their items, incidents and documentation fields; reports embed them.
    ("fmgov.evidence",),
    # What carries the record out (reports, ML-BOM, webhooks): nothing below imports them;
    # webhooks hear the trail through audits.events, connected in their AppConfig.ready().
    ("reports", "fmgov.interop", "fmgov.webhooks"),
    # Retention deletes runs, reports and attachments past their period, and reads what approvals bind.
    ("fmgov.retention",),
    ("fmgov.dashboard",),
]
RANK = {app: rank for rank, apps in enumerate(LAYERS) for app in apps}
EXEMPT = {"fmgov.urls", "fmgov.celery", "fmgov.wsgi", "fmgov.asgi"}
#: Computed imports that reach no project app, each with the reason.
DYNAMIC_IMPORT_ALLOWED = {
    "fmgov/evaluations/adapters/local_sentence_transformers.py": "loads an admin-registered model package",
}


def app_of(module: str) -> str | None:
    for app in sorted(RANK, key=len, reverse=True):
        if module == app or module.startswith(app + "."):
            return app
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> list[Path]:
    files = [*ROOT.glob("fmgov/**/*.py"), *ROOT.glob("audits/**/*.py"), *ROOT.glob("reports/**/*.py")]
    return sorted(p for p in files if not {"migrations", "tests"} & set(p.parts))


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module the file imports, at any depth (imports inside functions count too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if app_of(node.module) is not None:
                found.append((node.lineno, node.module))
            else:  # ``from fmgov import reviews``
                found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def dynamic_imports(path: Path) -> list[tuple[int, str]]:
    """``importlib.import_module("<project module>")`` and ``__import__`` calls naming a project app."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name not in {"import_module", "__import__"}:
            continue
        for arg in node.args[:1]:
            target = arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else "<computed>"
            found.append((node.lineno, target))
    return found


def violations() -> list[str]:
    problems = []
    for path in project_modules():
        module = module_name(path)
        if module in EXEMPT or module.startswith("fmgov.settings"):
            continue
        own = app_of(module)
        if own is None:
            continue
        for lineno, target in imported_modules(path):
            other = app_of(target)
            if other is None or other == own:
                continue
            if RANK[other] >= RANK[own]:
                problems.append(f"{path.relative_to(ROOT)}:{lineno} ({own}) imports {target} ({other})")
        allowed = str(path.relative_to(ROOT)) in DYNAMIC_IMPORT_ALLOWED
        for lineno, target in dynamic_imports(path):
            other = app_of(target)
            if (target == "<computed>" and not allowed) or (other is not None and other != own):
                problems.append(f"{path.relative_to(ROOT)}:{lineno} ({own}) uses importlib to reach {target}")
    return sorted(set(problems))


def test_every_app_imports_only_from_below() -> None:
    problems = violations()
    assert not problems, "imports against the dependency order:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from fmgov.reviews.selectors import x\n", "imports fmgov.reviews.selectors"),
        ("import importlib\nimportlib.import_module('fmgov.reviews.selectors')\n", "uses importlib"),
        ("def f():\n    from reports.models import Report\n", "imports reports.models"),
    ],
)
def test_the_check_catches_an_upward_import(tmp_path, monkeypatch, source: str, expected: str) -> None:
    """The test above can fail: a registry module importing upwards is reported."""
    fake = ROOT / "fmgov" / "registry" / "_upward_import_probe.py"
    monkeypatch.setattr("tests.architecture.test_imports.project_modules", lambda: [fake])
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: source if self == fake else "")
    assert any(expected in line for line in violations())
