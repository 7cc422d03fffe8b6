"""CycloneDX schema validation of an imported ML-BOM: fmgov's validator against the library's, same run.

``cyclonedx-python-lib``'s ``JsonValidator`` uses jsonschema as it is: ``uniqueItems`` compares every pair
of items (quadratic in the list) and ``iri-reference`` runs an Earley parser (seconds for one long URL).
fmgov validates against the same bundled schema with a linear ``uniqueItems`` and a bounded IRI check
(``fmgov.interop.bom``). Three figures: a BOM of ``MAX_COMPONENTS`` model components (ratio against the
library), one component with a long URL (ratio against the library), and the worst shape the import
accepts (``MAX_JSON_VALUES`` values of dependencies, seconds, fmgov only). No database.

    python benchmarks/ml_bom_validation.py [--url-length 1500]
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fmgov.settings.test")

import django  # noqa: E402

django.setup()

from cyclonedx.schema import SchemaVersion  # noqa: E402
from cyclonedx.validation.json import JsonValidator  # noqa: E402

from fmgov.interop.bom import schema_errors  # noqa: E402
from fmgov.interop.reading import MAX_COMPONENTS, MAX_JSON_VALUES  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import emit  # noqa: E402

BASE = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1}


def components(count: int) -> dict:
    items = [
        {"type": "machine-learning-model", "bom-ref": f"c{i}", "name": f"m{i}", "supplier": {"name": "lab"}}
        for i in range(count)
    ]
    return {**BASE, "components": items}


def long_url(length: int) -> dict:
    reference = {"type": "website", "url": "https://example.org/" + "a" * length}
    return {**BASE, "components": [{"type": "machine-learning-model", "name": "m", "externalReferences": [reference]}]}


def dependencies(values: int) -> dict:
    return {**BASE, "dependencies": [{"ref": f"r{i}", "dependsOn": ["a"]} for i in range(values // 4)]}


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url-length", type=int, default=1500)
    args = parser.parse_args()
    library = JsonValidator(SchemaVersion.V1_6)
    schema_errors(BASE, strict=False)  # build both validators before timing
    library.validate_str(json.dumps(BASE))
    for name, document in (
        (f"ML-BOM validation, {MAX_COMPONENTS} components", components(MAX_COMPONENTS)),
        (f"ML-BOM validation, one {args.url_length}-character URL", long_url(args.url_length)),
    ):
        ours = timed(lambda d=document: schema_errors(d, strict=False))
        theirs = timed(lambda d=document: library.validate_str(json.dumps(d)))
        print(f"{name}: fmgov {ours:.3f} s, cyclonedx-python-lib {theirs:.3f} s")
        emit(f"{name} (fmgov / library)", ours, baseline=theirs, goal=0.5, unit="s")
    worst = timed(lambda: schema_errors(dependencies(MAX_JSON_VALUES), strict=False))
    print(f"worst accepted shape ({MAX_JSON_VALUES} values of dependencies): {worst:.3f} s")
    emit("ML-BOM validation, worst accepted shape", worst, goal=5.0, unit="s")


if __name__ == "__main__":
    main()
