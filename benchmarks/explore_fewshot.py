"""How csintel.classify.tuned_encoder's fine-tuning was chosen, and what was tried before it:
Banking77's `val` split only (1,003 queries); the test split is never read.

Run: .venv/bin/python benchmarks/explore_fewshot.py --seed 0 [--loss proto|supcon] [--epochs 4] [--lr 5e-5]
     .venv/bin/python benchmarks/explore_fewshot.py --seed 0 --post   (frozen-embedding variants)
Prints one JSON line (not committed; the figures are in docs/categories.md).

Each draw (seed) is eval_categories.per_label's 8 labelled queries an intent; every label's name is
one more example of it, as the head may use them. `--post`: the plain head (logistic regression,
balanced) on the cached frozen vectors at several C, and the same after post-processing fitted on
the labelled rows and names only: centring and removing the top principal directions
("all-but-the-top"), shrunk whitening, standardising. Otherwise: MiniLM (torch) fine-tuned on those
rows, then the same head on its vectors, against the head on the frozen torch vectors:
- proto: cross-entropy of each text's cosine (x 20) to one learnt direction per label, started at
  the labels' mean frozen embedding (what csintel ships);
- supcon: supervised contrastive loss within each batch (same-label texts are the positives).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import public_data  # noqa: E402
from eval_categories import per_label  # noqa: E402


def main() -> None:
    from sklearn.linear_model import LogisticRegression

    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--post", action="store_true")
    ap.add_argument("--loss", default="proto", choices=("proto", "supcon"))
    ap.add_argument("--epochs", type=float, default=4)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    d = public_data.banking77()
    train, val = d["train"], d["val"]
    labels = sorted(set(train.labels))
    draw = per_label(train, 8, args.seed)
    texts = draw.texts + [lab.replace("_", " ") for lab in labels]
    y = np.array([labels.index(lab) for lab in draw.labels] + list(range(len(labels))))
    yv = np.array([labels.index(lab) for lab in val.labels])

    def head_accuracy(x: np.ndarray, xv: np.ndarray, c: float) -> float:
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=3000, tol=1e-3).fit(x, y)
        return round(float((model.predict(xv) == yv).mean()), 4)

    out: dict[str, object] = {"seed": args.seed}
    if args.post:
        x, xv = public_data.embed(texts).astype(np.float64), public_data.embed(val.texts).astype(np.float64)
        unit = lambda z: z / np.linalg.norm(z, axis=1, keepdims=True)  # noqa: E731
        mu = x.mean(axis=0)
        top = np.linalg.svd(x - mu, full_matrices=False)[2]
        for c in (8, 16, 32, 64):
            out[f"plain_c{c}"] = head_accuracy(x, xv, c)
        for k in (1, 2, 4, 8):
            drop = lambda z: unit((z - mu) - (z - mu) @ top[:k].T @ top[:k])  # noqa: E731
            out[f"all_but_top{k}_c16"] = head_accuracy(drop(x), drop(xv), 16)
        cov = np.cov((x - mu).T)
        for shrink in (0.5, 0.9):
            values, vecs = np.linalg.eigh((1 - shrink) * cov + shrink * np.trace(cov) / len(cov) * np.eye(len(cov)))
            white = vecs @ np.diag(values ** -0.5) @ vecs.T
            out[f"whitened{shrink}_c16"] = head_accuracy(unit((x - mu) @ white), unit((xv - mu) @ white), 16)
        sd = x.std(axis=0)
        out["standardised_c0.25"] = head_accuracy((x - mu) / sd, (xv - mu) / sd, 0.25)
        print(json.dumps(out), flush=True)
        return

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from sentence_transformers import SentenceTransformer

    from csintel.embed import packaged_model_path

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = SentenceTransformer(str(packaged_model_path()), device="cpu")
    encode = lambda t: model.encode(list(t), batch_size=64, normalize_embeddings=True,  # noqa: E731
                                    show_progress_bar=False).astype(np.float64)
    x0 = encode(texts)
    out["frozen"] = {c: head_accuracy(x0, encode(val.texts), c) for c in (16, 64)}
    centres = np.stack([x0[y == k].mean(axis=0) for k in range(len(labels))])
    directions = torch.nn.Parameter(torch.tensor(centres / np.linalg.norm(centres, axis=1, keepdims=True),
                                                 dtype=torch.float32))
    optimizer = torch.optim.AdamW([{"params": model.parameters(), "lr": args.lr}, {"params": [directions], "lr": 1e-3}])
    batch_size, scale = 32, 20.0
    steps = int(round(args.epochs * math.ceil(len(texts) / batch_size)))
    warm = max(1, steps // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))
    rng = np.random.default_rng(args.seed)
    order = np.zeros(0, dtype=int)
    model.max_seq_length = 64
    model.train()
    started = time.process_time()
    for _ in range(steps):
        if len(order) < batch_size:
            order = np.r_[order, rng.permutation(len(texts))]
        batch, order = order[:batch_size], order[batch_size:]
        emb = torch.nn.functional.normalize(model(model.preprocess([texts[i] for i in batch]))["sentence_embedding"],
                                            dim=-1)
        target = torch.tensor(y[batch])
        if args.loss == "proto":
            loss = torch.nn.functional.cross_entropy(scale * emb @ torch.nn.functional.normalize(directions, dim=-1).T,
                                                     target)
        else:
            sim, eye = scale * emb @ emb.T, torch.eye(len(batch))
            positives = (target[:, None] == target[None, :]).float() - eye
            log_p = sim - torch.logsumexp(sim - 1e9 * eye, dim=1, keepdim=True)
            has = positives.sum(1) > 0
            loss = -((log_p * positives).sum(1)[has] / positives.sum(1)[has]).mean()
        loss.backward()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
    model.eval()
    out |= {"loss": args.loss, "epochs": args.epochs, "lr": args.lr, "steps": steps,
            "fine_tune_cpu_s": round(time.process_time() - started),
            "fine_tuned": {c: head_accuracy(encode(texts), encode(val.texts), c) for c in (4, 16, 64)}}
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
