"""A sentence encoder fine-tuned on a team's few labelled tickets (SetFit's first stage), and the
fine-tuned encoder a head carries with it.

SetFit (Tunstall et al. 2022) fine-tunes a sentence-transformer contrastively before fitting a
classifier on its embeddings: pairs of labelled examples, the same label pulled together (cosine
1) and different labels pushed apart (cosine 0). With 8 examples a label the frozen embedding
puts many labels' tickets close together; a few hundred steps move them apart. It is done here
with sentence-transformers' own CosineSimilarityLoss in a plain torch loop (its trainer needs
`datasets` and `accelerate`, which csintel does not install), offline, from the configured model
(the packaged all-MiniLM-L6-v2 by default). csintel.classify.fewshot decides when it is used.

A fine-tuned encoder is saved as a sentence-transformers folder beside its head; the head records
a digest of its weights, so the head's version (and with it the tags version) changes when the
encoder does, and a folder that no longer matches is refused.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

log = logging.getLogger(__name__)

# SetFit's recipe (20 iterations of one positive and one negative pair per example, batches of
# 16 pairs, one epoch) under a pair budget that keeps CPU training to minutes.
ITERATIONS = 20
# Pairs per fine-tune at most (each pair is two forward and backward passes): 77 x 8 examples
# would make 24,640 pairs at 20 iterations, hours on 2 shared CPU cores; the cap makes it two
# iterations there (154 steps of 16 pairs; cost in benchmarks/bench_fewshot.json), 20 for 4 x 8.
MAX_PAIRS = 2560
BATCH_SIZE = 16
# Above SetFit's 2e-5: the pair budget allows ~150 steps, not thousands.
LEARNING_RATE = 5e-5
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


def contrastive_pairs(labels: Sequence[str], iterations: int = ITERATIONS, max_pairs: int = MAX_PAIRS,
                      seed: int = SEED) -> list[tuple[int, int, float]]:
    """SetFit's pairs: per iteration and example, one other example of its label (target 1.0) and
    one of another label (0.0); fewer iterations when the pairs would pass `max_pairs`.

    Returns (row, row, target) triples in a shuffled order.
    """
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    rows = np.arange(len(labels))
    others = {label: rows[np.array([lab != label for lab in labels])] for label in by_label}
    iterations = max(1, min(iterations, max_pairs // max(1, 2 * len(labels))))
    pairs: list[tuple[int, int, float]] = []
    for _ in range(iterations):
        for i in rng.permutation(rows):
            same = [j for j in by_label[labels[i]] if j != i]
            if same:
                pairs.append((int(i), int(rng.choice(same)), 1.0))
            other = others[labels[i]]
            if len(other):
                pairs.append((int(i), int(rng.choice(other)), 0.0))
    order = rng.permutation(len(pairs))
    return [pairs[k] for k in order[:max_pairs]]


def fine_tune(texts: Sequence[str], labels: Sequence[str], base_path: str | Path, base_name: str, *,
              iterations: int = ITERATIONS, max_pairs: int = MAX_PAIRS, seed: int = SEED,
              progress: Callable[[str], None] | None = None) -> tuple[TunedEncoder, dict[str, Any]]:
    """Fine-tune the model at `base_path` contrastively on labelled texts (one epoch over SetFit's pairs).

    Returns the encoder and a record of what it cost (pairs, steps, seconds, threads).
    """
    import torch
    from sentence_transformers.sentence_transformer.losses import CosineSimilarityLoss

    started = time.perf_counter()
    torch.manual_seed(seed)
    model = _load(str(base_path))
    pairs = contrastive_pairs(labels, iterations, max_pairs, seed)
    loss_fn = CosineSimilarityLoss(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    steps = math.ceil(len(pairs) / BATCH_SIZE)
    warmup = max(1, int(steps * WARMUP_SHARE))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup))))
    limit = model.max_seq_length
    model.max_seq_length = min(limit, TRAIN_MAX_TOKENS)
    model.train()
    texts = list(texts)
    for step in range(steps):
        batch = pairs[step * BATCH_SIZE:(step + 1) * BATCH_SIZE]
        features = [model.preprocess([texts[a] for a, _, _ in batch]), model.preprocess([texts[b] for _, b, _ in batch])]
        loss = loss_fn(features, torch.tensor([t for _, _, t in batch], dtype=torch.float32))
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
    cost = {"examples": len(texts), "pairs": len(pairs), "steps": steps, "batch_size": BATCH_SIZE,
            "learning_rate": LEARNING_RATE, "max_tokens": min(limit, TRAIN_MAX_TOKENS),
            "seconds": round(time.perf_counter() - started, 1), "torch_threads": torch.get_num_threads()}
    log.info("fine-tuned %s on %d examples: %s", base_name, len(texts), cost)
    return encoder, cost
