"""A sentence encoder fine-tuned on a team's few labelled tickets (SetFit's idea: fine-tune the
sentence-transformer, then fit a classifier on its embeddings), and the fine-tuned encoder a head
carries with it.

With 8 examples a label the frozen embedding puts many labels' tickets close together; a few
minutes of fine-tuning move them apart. The loss is a cosine classifier's: each text's cosine to
one learnt direction per label (x SCALE), softmax cross-entropy; the directions start at the labels'
mean frozen embeddings and are thrown away afterwards. Each step thus sees every label, where
SetFit's pairs (CosineSimilarityLoss, one positive and one negative a text) see two: with 77 labels
and a CPU budget of ~150 steps those pairs made the encoder worse (0.824 against 0.843 frozen on
Banking77's test, benchmarks/bench_fewshot.json); this loss did better on Banking77's val split
(benchmarks/explore_fewshot.py, docs/categories.md). A plain torch loop over sentence-transformers'
model (its trainer needs `datasets` and `accelerate`, which csintel does not install), offline,
from the configured model (the packaged all-MiniLM-L6-v2 by default). csintel.classify.fewshot
decides when it is used.

A fine-tuned encoder is saved as a sentence-transformers folder beside its head; the head records
a digest of its weights, so the head's version (and with it the tags version) changes when the
encoder does, and a folder that no longer matches is refused.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

log = logging.getLogger(__name__)

# How the encoder is fine-tuned (chosen on Banking77's val split only, 8 examples a label:
# benchmarks/explore_fewshot.py). Each text is scored against one learnt direction per label
# (cosine x SCALE, softmax cross-entropy; the directions start at the labels' mean frozen
# embeddings): every step sees every label, where SetFit's pairs see two. SetFit's pairs
# (CosineSimilarityLoss, 2,464 pairs) lost to the frozen encoder there: 0.824 against 0.843 on the
# test (benchmarks/bench_fewshot.json).
EPOCHS = 4
# Text passes at most (forward and backward through the encoder): fewer epochs for a larger file,
# so CPU training stays a few minutes (616 + 77 texts x 4 epochs: 88 steps).
MAX_PASSES = 3000
BATCH_SIZE = 32
LEARNING_RATE = 5e-5
HEAD_LEARNING_RATE = 1e-3   # the label directions: they start where the frozen encoder puts the labels
SCALE = 20.0                # cosine -> logit
WARMUP_SHARE = 0.1
# Fine-tuning reads at most this many tokens a text: the cost grows with length, and the opening
# of a ticket carries its topic. Encoding afterwards uses the model's own limit.
TRAIN_MAX_TOKENS = 128
SEED = 0
TUNED_MARK = "+tuned-"   # the encoder's name: "<base model>+tuned-<digest>"


class TunedEncoder:
    """A fine-tuned sentence-transformers model (the Embedder interface), loaded when first used.

    `digest` identifies its weights (see `weights_digest`); a saved encoder is checked against it
    when it loads.
    """

    backend = "torch"

    def __init__(self, base: str, digest: str, dim: int, *, model: Any = None, path: Path | None = None) -> None:
        self.base = base
        self.digest = digest
        self.dim = dim
        self.name = f"{base}{TUNED_MARK}{digest[:8]}"
        self.path = path
        self._model = model

    def _loaded(self) -> Any:
        if self._model is None:
            assert self.path is not None
            model = _load(str(self.path))
            found = weights_digest(model)
            if found != self.digest:
                raise ValueError(f"the fine-tuned encoder in {self.path} is not the one its head was trained "
                                 f"with (weights {found[:8]}, expected {self.digest[:8]}); retrain with "
                                 "`csintel train`")
            self._model = model
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._loaded().encode(list(texts), batch_size=32, normalize_embeddings=True,
                                        show_progress_bar=False, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)

    def save(self, folder: Path) -> None:
        """Write the model as a sentence-transformers folder (and read it from there from now on)."""
        self._loaded().save(str(folder))
        self.path = folder


def _load(path: str) -> Any:
    # Never reach a hub: the base model and saved encoders are local folders.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    return SentenceTransformer(path, device="cpu")


def weights_digest(model: Any) -> str:
    """SHA-1 over the model's parameter names and values (float32): the same weights, the same digest."""
    h = hashlib.sha1()
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode() + b"\0")
        h.update(tensor.detach().cpu().float().contiguous().numpy().tobytes())
    return h.hexdigest()


def training_order(n: int, epochs: int = EPOCHS, max_passes: int = MAX_PASSES, batch_size: int = BATCH_SIZE,
                   seed: int = SEED) -> list[np.ndarray]:
    """The batches of row indices: `epochs` shuffled passes over `n` rows, fewer when the passes would
    pass `max_passes` (at least one epoch, whatever the budget)."""
    rng = np.random.default_rng(seed)
    epochs = max(1, min(epochs, max_passes // max(1, n)))
    order = np.concatenate([rng.permutation(n) for _ in range(epochs)]) if n else np.zeros(0, dtype=int)
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def fine_tune(texts: Sequence[str], labels: Sequence[str], base_path: str | Path, base_name: str, *,
              epochs: int = EPOCHS, max_passes: int = MAX_PASSES, seed: int = SEED,
              progress: Callable[[str], None] | None = None) -> tuple[TunedEncoder, dict[str, Any]]:
    """Fine-tune the model at `base_path` on labelled texts: cross-entropy of each text's cosine to
    one learnt direction per label (module constants; the directions are discarded afterwards, a
    head is fitted on the new embeddings).

    Returns the encoder and a record of what it cost (texts, steps, seconds, threads).
    """
    import torch

    started = time.perf_counter()
    cpu_started = time.process_time()
    torch.manual_seed(seed)
    model = _load(str(base_path))
    texts = list(texts)
    order = sorted(set(labels))
    y = torch.tensor([order.index(lab) for lab in labels])
    with torch.no_grad():
        frozen = torch.tensor(model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                                           show_progress_bar=False))
    centres = torch.stack([frozen[y == k].mean(dim=0) for k in range(len(order))])
    directions = torch.nn.Parameter(torch.nn.functional.normalize(centres, dim=-1))
    optimizer = torch.optim.AdamW([{"params": model.parameters(), "lr": LEARNING_RATE},
                                   {"params": [directions], "lr": HEAD_LEARNING_RATE}])
    batches = training_order(len(texts), epochs, max_passes, BATCH_SIZE, seed)
    steps = len(batches)
    warmup = max(1, int(steps * WARMUP_SHARE))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup))))
    limit = model.max_seq_length
    model.max_seq_length = min(limit, TRAIN_MAX_TOKENS)
    model.train()
    for step, batch in enumerate(batches):
        embedded = model(model.preprocess([texts[i] for i in batch]))["sentence_embedding"]
        logits = SCALE * torch.nn.functional.normalize(embedded, dim=-1) @ \
            torch.nn.functional.normalize(directions, dim=-1).T
        loss = torch.nn.functional.cross_entropy(logits, y[torch.as_tensor(batch)])
        loss.backward()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        if progress is not None and (step + 1) % max(1, steps // 5) == 0:
            progress(f"fine-tuning the encoder: step {step + 1}/{steps} ({time.perf_counter() - started:.0f} s)")
    model.eval()
    model.max_seq_length = limit
    dim = int(model.get_embedding_dimension() if hasattr(model, "get_embedding_dimension")
              else model.get_sentence_embedding_dimension())
    encoder = TunedEncoder(base_name, weights_digest(model), dim, model=model)
    cost = {"examples": len(texts), "labels": len(order), "epochs": round(sum(map(len, batches)) / max(1, len(texts)), 2),
            "steps": steps, "batch_size": BATCH_SIZE, "learning_rate": LEARNING_RATE,
            "max_tokens": min(limit, TRAIN_MAX_TOKENS), "seconds": round(time.perf_counter() - started, 1),
            "cpu_seconds": round(time.process_time() - cpu_started, 1), "torch_threads": torch.get_num_threads()}
    log.info("fine-tuned %s on %d examples: %s", base_name, len(texts), cost)
    return encoder, cost
