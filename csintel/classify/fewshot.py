"""Few-shot training: with few labelled examples a label, fine-tune the encoder on them
(csintel.classify.tuned_encoder) and keep that head only where it beats the plain one on validation.

The rule: a category or root-cause file is few-shot when its median label has at most
FEW_SHOT_MAX (16) examples. Above that the frozen embedding plus TF-IDF has enough examples
(Banking77 with all 9,003 rows: 0.933), while fine-tuning's cost grows with the file.

A few-shot file is split once, seeded: VALIDATION_SHARE of each label's examples (at least one,
for labels with three or more) are held out. Both candidates are fitted on the rest, each with
its recipe, temperature and abstention threshold chosen on the held-out rows:
- plain: the hybrid head on the configured embedder's frozen vectors;
- fine-tuned: the encoder fine-tuned on the same rows (and each label's name as one more example),
  then the hybrid head on its vectors (the held-out rows are never seen by the fine-tuning, so its
  score is fair).
The fine-tuned head is kept when it is right on significantly more held-out rows than the plain one
(McNemar's exact test, p < MAX_P_VALUE); the encoder is then fine-tuned again on every row and the
head fitted on them, with the temperature and abstention of the held-out comparison, and saved
with its encoder. Otherwise the plain path runs exactly as for any file (all rows,
cross-validated), and the card says what the fine-tuned candidate scored. With a given validation
split (benchmarks) nothing is carved: both candidates are fitted on every row and compared on it.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from typing import Any, Callable, Sequence

import numpy as np

from csintel.classify.heads import SELECTED_TASKS, Head, base_model, train_head
from csintel.classify.taxonomy import Taxonomy
from csintel.classify.tuned_encoder import MAX_PASSES, TunedEncoder, fine_tune
from csintel.embed import Embedder, packaged_model_path

FEW_SHOT_MAX = 16
VALIDATION_SHARE = 0.25
# Below this many carved validation rows the comparison is noise (3 rows: a third of a point a
# row), so fine-tuning is not tried and the plain path runs.
MIN_VALIDATION = 10
# The fine-tuned head must win on validation beyond chance: on Banking77 (8 a label) it was ahead by
# one row of 154 carved ones, then 2.8 points behind the plain head on the test (benchmarks/bench_fewshot.json);
# with today's loss, ahead by 16 rows of val's 1,003 (draw 0, p 0.024), then 0.2 points behind on the test.
# It also costs minutes to train, a 90 MB encoder and a second encoding of every tagged ticket.
MAX_P_VALUE = 0.05
SEED = 0


def is_few_shot(task: str, labels: Sequence[str]) -> bool:
    """Whether `csintel train` should try fine-tuning: a category/root-cause file whose median
    label has at most FEW_SHOT_MAX examples."""
    counts = sorted(Counter(labels).values())
    return task in SELECTED_TASKS and bool(counts) and float(np.median(counts)) <= FEW_SHOT_MAX


def carve_validation(labels: Sequence[str], share: float = VALIDATION_SHARE,
                     seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """(fit rows, validation rows): `share` of each label's rows, at least one, held out, seeded;
    a label with fewer than three rows stays whole in the fit rows (a head needs two a label)."""
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    held: list[int] = []
    for label in sorted(by_label):
        rows = by_label[label]
        if len(rows) >= 3:
            held += rng.choice(rows, size=min(len(rows) - 2, max(1, round(len(rows) * share))), replace=False).tolist()
    val = np.array(sorted(held), dtype=int)
    return np.setdiff1d(np.arange(len(labels)), val), val


def train_best(task: str, texts: Sequence[str], labels: Sequence[str], embedder: Embedder, *,
               taxonomy: Taxonomy | None = None, trained_on: str = "", base_model_path: str = "",
               progress: Callable[[str], None] | None = None, fine_tune: bool = True,
               unlabelled: Sequence[str] = ()) -> Head:
    """What `csintel train` fits: the few-shot choice for a few-shot file, else `train_head` as always.
    `fine_tune=False` skips the fine-tuned candidate (minutes of CPU that rarely win: bench_fewshot.json).
    `unlabelled`: texts nobody labelled, tried as pseudo-labelled rows by the frozen-embedding head."""
    spare = _unlabelled(task, texts, unlabelled, embedder, progress)
    if fine_tune and is_few_shot(task, labels):
        return train_few_shot(task, texts, labels, embedder, taxonomy=taxonomy, trained_on=trained_on,
                              base_model_path=base_model_path, progress=progress, unlabelled=spare)
    return train_head(task, texts, labels, embedder, taxonomy=taxonomy, trained_on=trained_on, unlabelled=spare)


def _unlabelled(task: str, labelled: Sequence[str], texts: Sequence[str], embedder: Embedder,
                progress: Callable[[str], None] | None) -> tuple[list[str], np.ndarray] | None:
    """The usable unlabelled texts with their vectors, encoded once for every candidate; None when too few."""
    from csintel.classify.semi_supervised import MIN_UNLABELLED, usable_unlabelled

    if task not in SELECTED_TASKS:
        return None
    keep = usable_unlabelled(texts, labelled)
    if len(keep) < MIN_UNLABELLED:
        return None
    spare = [str(texts[i]) for i in keep]
    if progress:
        progress(f"encoding {len(spare)} unlabelled tickets (tried as pseudo-labelled rows)")
    return spare, embedder.encode(spare)


def train_few_shot(task: str, texts: Sequence[str], labels: Sequence[str], embedder: Embedder, *,
                   taxonomy: Taxonomy | None = None, trained_on: str = "", base_model_path: str = "",
                   max_passes: int = MAX_PASSES, min_validation: int = MIN_VALIDATION,
                   progress: Callable[[str], None] | None = None,
                   unlabelled: tuple[Sequence[str], np.ndarray | None] | None = None,
                   validation: tuple[Sequence[str], Sequence[str], np.ndarray | None] | None = None,
                   vectors: np.ndarray | None = None) -> Head:
    """Fit the plain and the fine-tuned candidate on a carved split and keep the better (module doc).

    Args:
        base_model_path: the sentence-transformers model to fine-tune ("" = the packaged MiniLM);
            it should be the model `embedder` runs.
        max_passes: the fine-tuning's budget of text passes (csintel.classify.tuned_encoder.MAX_PASSES).
        min_validation: the fewest carved validation rows worth comparing on (else the plain path).
        progress: called with a line now and then (fine-tuning takes minutes on a CPU).
        unlabelled: (texts, vectors or None) nobody labelled, offered to the frozen-embedding head
            (the fine-tuned candidate does not use them: it would re-encode them with its encoder).
        validation: (texts, labels, frozen vectors or None) of a given validation split: nothing is
            carved, both candidates are fitted on every row and compared on these (benchmarks).
        vectors: the texts' frozen embeddings when the caller has them.
    """
    texts, labels = list(texts), list(labels)
    say = progress or (lambda _: None)
    if validation is not None:
        return _given_validation(task, texts, labels, embedder, validation, taxonomy=taxonomy, trained_on=trained_on,
                                 base_model_path=base_model_path, max_passes=max_passes, say=say,
                                 unlabelled=unlabelled, vectors=vectors)
    fit, val = carve_validation(labels)
    if len(val) < max(1, min_validation):
        head = train_head(task, texts, labels, embedder, taxonomy=taxonomy, trained_on=trained_on,
                          unlabelled=unlabelled)
        head.card["few_shot"] = {"chosen": "plain", "decision": (
            f"frozen embedding: fine-tuning not tried, the file spares {len(val)} validation rows "
            f"(labels with three or more examples give {VALIDATION_SHARE:.0%}; at least {min_validation} "
            "are needed to compare)")}
        return head
    pick = lambda rows: ([texts[i] for i in rows], [labels[i] for i in rows])  # noqa: E731
    (fit_texts, fit_labels), (val_texts, val_labels) = pick(fit), pick(val)
    vectors = embedder.encode(texts) if vectors is None else vectors
    say(f"few-shot file ({len(texts)} examples, {len(set(labels))} labels): fine-tuning the encoder on "
        f"{len(fit)} of them, {len(val)} held out to compare (minutes on a CPU)")
    plain, tuned, _, tuned_val, fitting = _candidates(
        task, fit_texts, fit_labels, embedder, vectors[fit], (val_texts, val_labels, vectors[val]), taxonomy=taxonomy,
        trained_on=trained_on, base_model_path=base_model_path, max_passes=max_passes, say=say, unlabelled=unlabelled)
    record, versus = _compare(plain, tuned, val_texts, val_labels, vectors[val], tuned_val,
                              f"{len(val)} rows carved from the file ({VALIDATION_SHARE:.0%} of each label's, seed {SEED})")
    record |= fitting
    cost = fitting["fine_tune"]
    if record["p_value"] < MAX_P_VALUE:
        # The carved rows were only for the choice: fine-tune again on every row and fit the head on
        # them (its settings by cross-validation); its temperature and abstention come from the carved
        # comparison, the only rows the encoder had not seen.
        say(f"fine-tuning won on the held-out rows: fine-tuning again on all {len(texts)} rows")
        encoder, record["fine_tune_all_rows"] = _fine_tune(texts, labels, base_model_path, embedder, max_passes, say)
        final = train_head(task, texts, labels, encoder, taxonomy=taxonomy, trained_on=trained_on,
                           vectors=encoder.encode(texts))
        head = dataclasses.replace(final, encoder=encoder, temperature=tuned.temperature,
                                   min_confidence=tuned.min_confidence, min_energy=tuned.min_energy,
                                   card={**final.card, "abstention": tuned.card.get("abstention"),
                                         "calibration": "temperature and abstention from the carved validation rows"})
        record["chosen"] = "fine_tuned"
        record["decision"] = (f"fine-tuned encoder chosen: {versus}; then fine-tuned again on all {len(texts)} rows "
                              f"(in {record['fine_tune_all_rows']['seconds']} s, {cost['seconds']} s for the first)")
    else:
        head = train_head(task, texts, labels, embedder, taxonomy=taxonomy, trained_on=trained_on, vectors=vectors,
                          unlabelled=unlabelled)
        record["chosen"] = "plain"
        record["decision"] = (f"frozen embedding kept, fine-tuning did not win clearly (p >= {MAX_P_VALUE}): "
                              f"{versus}; the head is fitted on all {len(texts)} rows")
    head.card["few_shot"] = record
    say(record["decision"])
    return head


def _fine_tune(texts: Sequence[str], labels: Sequence[str], base_model_path: str, embedder: Embedder,
               max_passes: int, say: Callable[[str], None]) -> tuple[TunedEncoder, dict[str, Any]]:
    """The encoder fine-tuned on the labelled texts plus each label's name as one more example of it
    (as the plain head may use them; on Banking77's val split names helped the frozen head)."""
    names = sorted(set(labels))
    return fine_tune(list(texts) + [n.replace("_", " ") for n in names], list(labels) + names,
                     base_model_path or packaged_model_path(), base_model(embedder.name), max_passes=max_passes,
                     progress=say)


def _candidates(task: str, texts: list[str], labels: list[str], embedder: Embedder, vectors: np.ndarray | None,
                validation: tuple[list[str], list[str], np.ndarray], *, taxonomy: Taxonomy | None, trained_on: str,
                base_model_path: str, max_passes: int, say: Callable[[str], None],
                unlabelled: tuple[Sequence[str], np.ndarray | None] | None
                ) -> tuple[Head, Head, TunedEncoder, np.ndarray, dict[str, Any]]:
    """The plain head and the fine-tuned one, both fitted on `texts` and calibrated on `validation`:
    (plain, tuned, the tuned encoder, its vectors of the validation texts, the fitting's record)."""
    val_texts, val_labels, _ = validation
    started = time.perf_counter()
    plain = train_head(task, texts, labels, embedder, taxonomy=taxonomy, trained_on=trained_on, vectors=vectors,
                       validation=validation, unlabelled=unlabelled)
    plain_s = time.perf_counter() - started
    encoder, cost = _fine_tune(texts, labels, base_model_path, embedder, max_passes, say)
    started = time.perf_counter()
    tuned_val = encoder.encode(val_texts)
    tuned = train_head(task, texts, labels, encoder, taxonomy=taxonomy, trained_on=trained_on,
                       vectors=encoder.encode(texts), validation=(val_texts, val_labels, tuned_val))
    tuned_s = time.perf_counter() - started
    return plain, tuned, encoder, tuned_val, {"fine_tune": cost, "head_fit_s": {"plain": round(plain_s, 1),
                                                                                 "fine_tuned": round(tuned_s, 1)}}


def _compare(plain: Head, tuned: Head, val_texts: Sequence[str], val_labels: Sequence[str], plain_x: np.ndarray,
             tuned_x: np.ndarray, where: str) -> tuple[dict[str, Any], str]:
    """The two candidates on the same validation rows: the card record, and a sentence saying it."""
    right = {name: np.array([head.labels[k] for k in head.probabilities(x, val_texts).argmax(axis=1)]) ==
             np.array(val_labels) for name, head, x in (("plain", plain, plain_x), ("fine_tuned", tuned, tuned_x))}
    gained, lost = int((right["fine_tuned"] & ~right["plain"]).sum()), int((right["plain"] & ~right["fine_tuned"]).sum())
    p_value = paired_p_value(gained, lost)
    scores = {name: head.card["cross_validation"] for name, head in (("plain", plain), ("fine_tuned", tuned))}
    accuracy = {name: float(s["accuracy"]) for name, s in scores.items()}
    record: dict[str, Any] = {
        "rule": f"median examples a label <= {FEW_SHOT_MAX}", "validation": where,
        "validation_accuracy": accuracy, "validation_macro_f1": {n: s["macro_f1"] for n, s in scores.items()},
        "rows_fine_tuning_won": gained, "rows_it_lost": lost, "p_value": round(p_value, 4),
    }
    versus = (f"validation accuracy {accuracy['fine_tuned']} fine-tuned against {accuracy['plain']} frozen "
              f"({where}; fine-tuning right on {gained} rows the frozen head got wrong, wrong on "
              f"{lost} it got right, one-sided p {p_value:.3f})")
    return record, versus


def _given_validation(task: str, texts: list[str], labels: list[str], embedder: Embedder,
                      validation: tuple[Sequence[str], Sequence[str], np.ndarray | None], *,
                      taxonomy: Taxonomy | None, trained_on: str, base_model_path: str, max_passes: int,
                      say: Callable[[str], None], unlabelled: tuple[Sequence[str], np.ndarray | None] | None,
                      vectors: np.ndarray | None) -> Head:
    """train_few_shot with a given validation split: both candidates fitted on every row, the
    fine-tuned one kept when it wins on the split beyond chance (the same rule as on a carved split)."""
    val_texts, val_labels = list(validation[0]), list(validation[1])
    val_x = embedder.encode(val_texts) if validation[2] is None else validation[2]
    plain, tuned, encoder, tuned_val, fitting = _candidates(
        task, texts, labels, embedder, vectors, (val_texts, val_labels, val_x), taxonomy=taxonomy,
        trained_on=trained_on, base_model_path=base_model_path, max_passes=max_passes, say=say, unlabelled=unlabelled)
    in_scope = [i for i, lab in enumerate(val_labels) if lab in set(labels)]
    record, versus = _compare(plain, tuned, [val_texts[i] for i in in_scope], [val_labels[i] for i in in_scope],
                              np.asarray(val_x)[in_scope], tuned_val[in_scope],
                              f"the given validation split ({len(in_scope)} rows in scope)")
    record |= fitting
    chosen = record["p_value"] < MAX_P_VALUE
    head = dataclasses.replace(tuned, encoder=encoder) if chosen else plain
    record["chosen"] = "fine_tuned" if chosen else "plain"
    record["decision"] = (f"fine-tuned encoder chosen: {versus}" if chosen else
                          f"frozen embedding kept, fine-tuning did not win clearly (p >= {MAX_P_VALUE}): {versus}")
    head.card["few_shot"] = record
    say(record["decision"])
    return head


def paired_p_value(gained: int, lost: int) -> float:
    """McNemar's exact one-sided test: how likely fine-tuning wins `gained` of the `gained + lost`
    rows the two heads disagree on if neither is better (a fair coin per disagreement)."""
    from scipy.stats import binomtest

    return float(binomtest(gained, gained + lost, 0.5, alternative="greater").pvalue) if gained + lost else 1.0

