"""Small files: no non-migration Python module of the project grows past 400 lines (tests past 500).

A file that grows past that wants splitting by concern, the way the registry's views became one module per entity.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT, TEST_LIMIT = 400, 500


def project_files() -> list[Path]:
    found = []
    for top in ("fmgov", "audits", "reports", "benchmarks", "tests"):
        found += [p for p in (ROOT / top).rglob("*.py") if "migrations" not in p.parts]
    return sorted(found)


def test_no_module_is_too_long() -> None:
    too_long = []
    for path in project_files():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        is_test = "tests" in path.relative_to(ROOT).parts
        if lines > (TEST_LIMIT if is_test else LIMIT):
            too_long.append(f"{path.relative_to(ROOT)}: {lines} lines")
    assert not too_long, "split these by concern:\n" + "\n".join(too_long)
