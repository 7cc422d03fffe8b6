"""Writes to the local-model allow-list, and the one check of where a local model may come from.

Workers load a local model only if an admin registered it: an installed
package (``package:<module>``) or a directory that resolves, symlinks
followed, under ``LOCAL_MODELS_DIR``. ``local_model_location`` is used both
here, when registering, and by the adapter, when loading, because a symlink
can change in between.
"""

import importlib.util
import os
import re
from pathlib import Path

from django.conf import settings
from django.db import transaction

from audits.services import audit_record, created, diff
from fmgov.core.actors import Actor
from fmgov.core.exceptions import InvalidInput
from fmgov.registry.models import LocalModel
from fmgov.registry.services._common import _deactivate, _ensure_admin, _full_clean

__all__ = [
    "LOCAL_MODEL_FIELDS",
    "LocalModelRefused",
    "local_model_location",
    "local_model_create",
    "local_model_update",
    "local_model_deactivate",
]

#: What an admin writes on a local model (create).
LOCAL_MODEL_FIELDS = ("name", "source", "description")

PACKAGE_PREFIX = "package:"
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_AUDIT_FIELDS = ("name", "source", "description", "active")


class LocalModelRefused(ValueError):
    """The source is not a package or a path under LOCAL_MODELS_DIR."""


def local_model_location(source: str) -> tuple[str, str]:
    """("package", module) or ("path", real path under LOCAL_MODELS_DIR); anything else is refused."""
    if source.startswith(PACKAGE_PREFIX):
        module = source[len(PACKAGE_PREFIX) :]
        if not _MODULE.match(module):
            raise LocalModelRefused(f"{module!r} is not a Python module name.")
        return "package", module
    root = os.path.realpath(settings.LOCAL_MODELS_DIR)
    if not source:
        raise LocalModelRefused("Give package:<module> or a path under LOCAL_MODELS_DIR.")
    real = os.path.realpath(os.path.join(root, source))
    if os.path.commonpath([root, real]) != root or real == root:
        raise LocalModelRefused("The path does not resolve under LOCAL_MODELS_DIR (symlinks followed).")
    return "path", real


def _validate_source(source: str) -> None:
    try:
        kind, where = local_model_location(source)
    except LocalModelRefused as exc:
        raise InvalidInput(str(exc), field_errors={"source": [str(exc)]})
    if kind == "package" and importlib.util.find_spec(where.split(".")[0]) is None:
        message = f"The package {where!r} is not installed."
        raise InvalidInput(message, field_errors={"source": [message]})
    if kind == "path" and not Path(where).is_dir():
        message = "The path is not a directory under LOCAL_MODELS_DIR."
        raise InvalidInput(message, field_errors={"source": [message]})


def _view(obj: LocalModel) -> dict:
    return {field: getattr(obj, field) for field in _AUDIT_FIELDS}


@transaction.atomic
def local_model_create(*, actor: Actor, name: str, source: str, description: str = "") -> LocalModel:
    """Allow workers to load this model, under this name."""
    _ensure_admin(actor, "local models")
    obj = LocalModel(name=name, source=source.strip(), description=description, created_by=actor)
    _full_clean(obj, exclude=["created_by"])
    _validate_source(obj.source)
    obj.save()
    audit_record(action="local_model.create", actor=actor, obj=obj, changes=created(_view(obj)))
    return obj


@transaction.atomic
def local_model_update(
    *, local_model: LocalModel, actor: Actor, source: str | None = None, description: str | None = None
) -> LocalModel:
    """Point the name at another source, or describe it; deployments keep naming it."""
    _ensure_admin(actor, "local models")
    obj = LocalModel.objects.select_for_update().get(pk=local_model.pk)
    before = _view(obj)
    if source is not None:
        obj.source = source.strip()
        _validate_source(obj.source)
    if description is not None:
        obj.description = description
    _full_clean(obj, exclude=["created_by"])
    after = _view(obj)
    changed = sorted(k for k in after if before[k] != after[k])
    if changed:
        obj.save()
        audit_record(
            action="local_model.update",
            actor=actor,
            obj=obj,
            changes=diff(before, after),
        )
    return obj


@transaction.atomic
def local_model_deactivate(*, local_model: LocalModel, actor: Actor) -> LocalModel:
    """Workers stop loading it; deployments naming it cannot run."""
    _ensure_admin(actor, "local models")
    return _deactivate(LocalModel, local_model.pk, actor=actor, action="local_model.deactivate")
