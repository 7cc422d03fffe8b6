"""The names fmgov gives things in a CycloneDX BOM, read the same way on export and on import.

Registry facts that CycloneDX has no field for travel as ``fmgov:*`` properties
of the component; the tables below are the one list of them, so the exporter
writes and the importer reads exactly the same names.
"""

__all__ = [
    "MEDIA_TYPE",
    "SPEC_VERSION",
    "IMPORT_SPEC_VERSIONS",
    "RECORD_PROPERTY",
    "FOUNDATION_MODEL",
    "ADAPTATION",
    "MODEL_PROPERTIES",
    "ADAPTATION_PROPERTIES",
    "model_ref",
    "adaptation_ref",
    "deployment_ref",
    "service_ref",
]

MEDIA_TYPE = "application/vnd.cyclonedx+json"
SPEC_VERSION = "1.6"
# modelCard and machine-learning-model components exist since 1.5.
IMPORT_SPEC_VERSIONS = ("1.5", "1.6")

RECORD_PROPERTY = "fmgov:record"
FOUNDATION_MODEL = "foundation_model"
ADAPTATION = "adaptation"

# registry field -> property name, for the facts CycloneDX has no place for.
MODEL_PROPERTIES = {
    "modality": "fmgov:modality",
    "access": "fmgov:access",
    "parameter_count": "fmgov:parameter_count",
    "release_date": "fmgov:release_date",
    "hf_repo_id": "fmgov:hf_repo_id",
    "training_compute_flop": "fmgov:training_compute_flop",
}
ADAPTATION_PROPERTIES = {
    "kind": "fmgov:adaptation_kind",
    "hf_repo_id": "fmgov:hf_repo_id",
}


def model_ref(pk: int) -> str:
    return f"fmgov:foundation-model:{pk}"


def adaptation_ref(pk: int) -> str:
    return f"fmgov:adaptation:{pk}"


def deployment_ref(pk: int) -> str:
    return f"fmgov:deployment:{pk}"


def service_ref(pk: int) -> str:
    return f"fmgov:deployment:{pk}:endpoint"
