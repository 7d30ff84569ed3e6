"""Few-shot training: SetFit-style pairs, the carved validation split, a head that carries its own
fine-tuned encoder (saved, loaded, versioned, used), and the choice `csintel train` makes."""

import dataclasses
import json
from collections import Counter

import numpy as np
import pytest

from csintel.classify.fewshot import (
    FEW_SHOT_MAX, MAX_P_VALUE, carve_validation, is_few_shot, paired_p_value, train_few_shot,
)
from csintel.classify.heads import compatible, load_head, save_head, train_head
from csintel.classify.tuned_encoder import fine_tune, training_order
from csintel.embed import packaged_model_path

# Four labels, four examples each: the smallest file the few-shot path handles.
TRAIN = {
    "billing": ["We were charged twice this month", "Please send the invoice with our VAT number",
                "Refund the duplicate payment please", "Why is our bill higher than last month"],
    "account_access": ["I cannot log in to my account", "The password reset email never arrives",
                       "SSO login with Okta fails", "I am locked out after too many 2FA attempts"],
    "mobile": ["The iPhone app crashes on launch", "Android app does not sync my tasks",
               "Push notifications stopped on my phone", "The mobile app is slow to open"],
    "export": ["The CSV export is missing columns", "Exporting a report to PDF times out",
               "Scheduled exports stopped arriving", "Excel export garbles accented names"],
}
TEXTS = [t for ts in TRAIN.values() for t in ts]
LABELS = [lab for lab, ts in TRAIN.items() for _ in ts]


def test_training_order_is_whole_shuffled_epochs_under_a_budget():
    batches = training_order(10, epochs=3, max_passes=1000, batch_size=4)
    rows = np.concatenate(batches)
    assert len(rows) == 30 and all(sorted(rows[i:i + 10].tolist()) == list(range(10)) for i in (0, 10, 20))
    assert [len(b) for b in batches] == [4] * 7 + [2]
    assert all((a == b).all() for a, b in zip(training_order(10, 3, 1000, 4), batches))      # seeded
    assert len(np.concatenate(training_order(10, epochs=3, max_passes=25))) == 20    # the budget cuts epochs
    assert len(np.concatenate(training_order(10, epochs=3, max_passes=5))) == 10     # but never below one


def test_validation_is_carved_per_label_and_keeps_two_to_fit():
    labels = ["a"] * 8 + ["b"] * 4 + ["c"] * 2
    fit, val = carve_validation(labels)
    assert sorted(np.concatenate([fit, val]).tolist()) == list(range(len(labels)))
    assert Counter(labels[i] for i in val) == {"a": 2, "b": 1}     # 25% each; "c" cannot spare one
    assert (carve_validation(labels)[1] == val).all()


def test_fine_tuning_must_win_beyond_chance():
    assert paired_p_value(0, 0) == 1.0 and paired_p_value(1, 0) == 0.5       # one row ahead is a coin flip
    assert paired_p_value(10, 0) < 0.01 and paired_p_value(12, 10) > MAX_P_VALUE


def test_few_shot_rule_is_the_median_label():
    assert is_few_shot("category", ["a"] * FEW_SHOT_MAX + ["b"] * 3)
    assert not is_few_shot("category", ["a"] * (FEW_SHOT_MAX + 1) + ["b"] * (FEW_SHOT_MAX + 1))
    assert not is_few_shot("sentiment", ["positive"] * 4 + ["negative"] * 4)


@pytest.fixture(scope="module")
def tuned():
    encoder, cost = fine_tune(TEXTS, LABELS, packaged_model_path(), "all-MiniLM-L6-v2", max_passes=64)
    assert cost["epochs"] == 4 and cost["steps"] == 2 and cost["labels"] == 4
    return encoder


def test_a_head_with_its_own_encoder_round_trips_and_reads_its_own_vectors(tuned, embedder, tmp_path):
    assert not np.allclose(tuned.encode(TEXTS[:2]), embedder.encode(TEXTS[:2]), atol=1e-3)   # it did move
    plain = train_head("category", TEXTS, LABELS, tuned, vectors=tuned.encode(TEXTS), cross_validate=False)
    head = dataclasses.replace(plain, encoder=tuned)
    assert head.version != plain.version        # a new encoder is a new head (and tags) version
    assert compatible(head, embedder)
    path = save_head(head, tmp_path)
    meta = json.loads(path.read_text())
    assert meta["format"] == 3 and meta["encoder"]["digest"] == tuned.digest
    assert (tmp_path / "category-encoder" / "modules.json").is_file()
    assert "fine-tuned" in (tmp_path / "category.md").read_text()

    loaded = load_head(path)
    assert loaded.version == meta["version"] and loaded.encoder is not None
    texts = ["My card was charged twice", "The Android app crashes"]
    ignored = np.zeros((2, embedder.dim), dtype=np.float32)     # the configured embedder's vectors are not read
    assert np.allclose(loaded.probabilities(ignored, texts), head.probabilities(embedder.encode(texts), texts),
                       atol=1e-4)

    meta["encoder"]["digest"] = "0" * 40        # an encoder folder that is not the one trained with
    path.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="not the one its head was trained with"):
        load_head(path).probabilities(ignored, texts)


def test_train_few_shot_records_its_choice(embedder):
    head = train_few_shot("category", TEXTS, LABELS, embedder, trained_on="tiny", max_passes=32, min_validation=4)
    record = head.card["few_shot"]
    # fine-tuned on the 12 fitted rows and the 4 label names
    assert set(record["validation_accuracy"]) == {"plain", "fine_tuned"} and record["fine_tune"]["examples"] == 16
    if record["p_value"] < MAX_P_VALUE:   # then fine-tuned again on every row
        assert record["chosen"] == "fine_tuned" and head.encoder is not None and head.card["examples"] == 16
        assert record["fine_tune_all_rows"]["examples"] == 20
    else:   # the plain path, on every row
        assert record["chosen"] == "plain" and head.encoder is None and head.card["examples"] == 16
    assert record["decision"].startswith("fine-tuned encoder chosen" if head.encoder else "frozen embedding kept")


def test_a_winning_fine_tune_is_redone_on_every_row(embedder, monkeypatch):
    import csintel.classify.fewshot as fewshot

    monkeypatch.setattr(fewshot, "paired_p_value", lambda gained, lost: 0.0)    # as if it won clearly
    head = train_few_shot("category", TEXTS, LABELS, embedder, max_passes=16, min_validation=4)
    record = head.card["few_shot"]
    assert record["chosen"] == "fine_tuned" and head.encoder is not None
    assert record["fine_tune"]["examples"] == 16 and record["fine_tune_all_rows"]["examples"] == 20
    assert head.card["examples"] == 16 and head.card["calibration"].startswith("temperature and abstention from")
    assert head.predict(embedder.encode(TEXTS[:2]), TEXTS[:2])[0].label in TRAIN


def test_a_given_validation_split_compares_on_it(embedder, monkeypatch):
    import csintel.classify.fewshot as fewshot

    monkeypatch.setattr(fewshot, "carve_validation", lambda *a: pytest.fail("a given split is not carved"))
    val_texts = ["I was billed for a plan we cancelled", "My login code never comes", "The app freezes on my phone",
                 "The export file is empty", "Where is my invoice"]
    val_labels = ["billing", "account_access", "mobile", "export", "billing"]
    head = train_few_shot("category", TEXTS, LABELS, embedder, max_passes=32, validation=(val_texts, val_labels, None))
    record = head.card["few_shot"]
    assert record["validation"] == "the given validation split (5 rows in scope)"
    assert record["fine_tune"]["examples"] == 20 and head.card["examples"] == 16      # every row, both candidates
    assert (head.encoder is not None) == (record["chosen"] == "fine_tuned") == (record["p_value"] < MAX_P_VALUE)
    assert record["rows_fine_tuning_won"] + record["rows_it_lost"] <= 5


def test_too_few_validation_rows_keep_the_plain_path(embedder):
    head = train_few_shot("category", TEXTS, LABELS, embedder)     # 4 carved rows < MIN_VALIDATION
    assert head.encoder is None and head.card["examples"] == 16
    assert head.card["few_shot"]["decision"].startswith("frozen embedding: fine-tuning not tried, the file spares 4")


def test_fine_tuning_can_be_turned_off(embedder, monkeypatch):
    import csintel.classify.fewshot as fewshot

    monkeypatch.setattr(fewshot, "train_few_shot", lambda *a, **k: pytest.fail("fine-tuning was tried"))
    head = fewshot.train_best("category", TEXTS, LABELS, embedder, fine_tune=False)
    assert head.encoder is None and "few_shot" not in head.card and head.card["examples"] == 16


def test_csintel_train_has_a_switch_for_it():
    from csintel.cli import _parser as build_parser

    args = build_parser().parse_args(["train", "--task", "category", "--labeled", "x.csv", "--no-fine-tune"])
    assert args.fine_tune is False
    assert build_parser().parse_args(["train", "--task", "category", "--labeled", "x.csv"]).fine_tune is True
