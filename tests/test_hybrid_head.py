"""The hybrid category head: lexical features where they decide, its own abstention threshold,
and `csintel eval`'s choice of baseline."""

import csv

import numpy as np
import pytest

from csintel.classify import evaluation
from csintel.classify.enricher import Enricher
from csintel.classify.head_selection import choose_abstention, choose_threshold, select_and_train
from csintel.classify.heads import Head, energy, load_head, save_head, train_head
from csintel.classify.taxonomy import UNCERTAIN
from csintel.config import settings_from_dict

# The same complaints, routed by the system code they name: only the code tells the queues apart,
# and a sentence embedding barely sees it.
COMPLAINTS = ["{} is down again since this morning", "cannot open {} after the update",
              "error when I start {} on my laptop", "{} keeps freezing during month end",
              "please reinstall {} for me", "{} asks for my password every time",
              "{} is very slow today", "access to {} was removed by mistake",
              "{} crashes when I print", "how do I reset {}"]
QUEUES = {"sap_team": "ZX41", "crm_team": "QP77", "mail_team": "KV09"}


class NoiseEmbedder:
    """One and the same vector for every text: the embedding says nothing, so whatever a head
    learns from these tickets it must learn from the words."""

    name = "all-MiniLM-L6-v2"
    dim = 384

    def encode(self, texts):
        return np.tile(np.full(self.dim, 1 / np.sqrt(self.dim)), (len(texts), 1))


SIGN_OFFS = ("", " thanks", " - urgent", " (second time)")


def _tickets(templates, sign_offs=("",)):
    texts = [t.format(code) + s for code in QUEUES.values() for t in templates for s in sign_offs]
    labels = [q for q in QUEUES for _ in templates for _ in sign_offs]
    return texts, labels


@pytest.fixture(scope="module")
def coded(embedder):
    texts, labels = _tickets(COMPLAINTS[:8], SIGN_OFFS)
    test_texts, test_labels = _tickets(COMPLAINTS[8:])
    return texts, labels, test_texts, test_labels


def _accuracy(head, embedder, texts, labels):
    probs = head.probabilities(embedder.encode(texts), texts)
    return float(np.mean([head.labels[i] == t for i, t in zip(probs.argmax(axis=1), labels)]))


def test_lexical_features_decide_where_the_embedding_blurs(coded):
    texts, labels, test_texts, test_labels = coded
    embedder = NoiseEmbedder()
    hybrid = select_and_train("category", texts, labels, embedder)
    plain = select_and_train("category", texts, labels, embedder, lexical_weights=(0.0,))
    assert hybrid.card["recipe"]["lexical"] > 0 and hybrid.lexicon is not None
    assert plain.lexicon is None
    # Chosen on validation folds, not by looking at the test rows; every trial is recorded.
    assert {t["lexical"] for t in hybrid.card["selection"]["trials"]} >= {0.0, 0.5, 1.0}
    assert _accuracy(hybrid, embedder, test_texts, test_labels) == 1.0
    assert _accuracy(plain, embedder, test_texts, test_labels) < 0.8     # chance is 1/3


def test_hybrid_head_round_trips_without_pickles(coded, tmp_path):
    texts, labels, test_texts, _ = coded
    embedder = NoiseEmbedder()
    head = select_and_train("category", texts, labels, embedder)
    path = save_head(head, tmp_path)
    np.load(tmp_path / "category.npz", allow_pickle=False)
    loaded = load_head(path)
    assert loaded.version == load_head(save_head(loaded, tmp_path / "again")).version
    assert loaded.lexicon is not None and len(loaded.lexicon) == len(head.lexicon)
    assert loaded.min_confidence == head.min_confidence
    vectors = embedder.encode(test_texts)
    assert np.allclose(loaded.probabilities(vectors, test_texts), head.probabilities(vectors, test_texts), atol=1e-4)
    assert "lexical" in (tmp_path / "category.md").read_text()


def test_choose_threshold_catches_out_of_scope_within_the_loss_limit():
    rng = np.random.default_rng(0)
    in_conf = rng.uniform(0.5, 1.0, 200)
    in_correct = in_conf > 0.55          # the least confident in-scope answers are the wrong ones
    oos_conf = rng.uniform(0.2, 0.6, 100)
    threshold, figures = choose_threshold(in_conf, in_correct, oos_conf, max_loss=0.03)
    assert 0.5 < threshold <= 0.6 and threshold < 1.0
    assert figures["inscope_accuracy_top1"] - figures["inscope_accuracy"] <= 0.03 + 1e-9
    assert figures["oos_recall"] > 0.5
    # Without out-of-scope evidence, abstaining can only lose: no threshold.
    assert choose_threshold(in_conf, in_correct, np.zeros(0))[0] == 0.0


def test_default_abstention_comes_from_validation_and_reaches_the_tagger(coded, embedder, tmp_path):
    texts, labels, test_texts, test_labels = coded
    # Validation rows with a label the head never learns stand for out-of-scope tickets.
    other = ["what time is the canteen open", "who won the football yesterday", "happy birthday to the team",
             "the coffee machine on floor 3", "parking spaces for visitors", "is friday a holiday"]
    validation = (test_texts + other, test_labels + ["other"] * len(other), None)
    head = train_head("category", texts, labels, embedder, validation=validation)
    abstention = head.card["abstention"]
    assert abstention["oos_source"].startswith("validation rows") and abstention["validation_oos_rows"] == 6
    if abstention["rule"] == "energy":
        assert head.min_energy == abstention["threshold"] and head.min_confidence == 0.0
    else:
        assert head.min_confidence == abstention["threshold"] > 0 and head.min_energy is None
    assert head.abstain_below(0.99999) == 0.99999
    save_head(head, tmp_path / "models")
    enricher = Enricher(settings_from_dict({"models": {"model_dir": str(tmp_path / "models"),
                                                       "category_min_confidence": 0.0}}), embedder)
    probe = test_texts + other
    tags, _ = enricher.tag([str(i) for i in range(len(probe))], probe, embedder.encode(probe))
    said = [t.category.label for t in tags]
    assert said[:len(test_texts)].count(UNCERTAIN) <= 1          # in scope: answered
    assert said[len(test_texts):].count(UNCERTAIN) >= 4          # out of scope: mostly abstained


def test_held_out_classes_stand_in_for_out_of_scope_when_validation_has_none(coded, embedder):
    texts, labels, _, _ = coded
    head = train_head("category", texts, labels, embedder)
    assert head.card["abstention"]["oos_source"].startswith("held-out classes")
    assert head.card["abstention"]["validation_oos_rows"] > 0


@pytest.fixture
def files(tmp_path, embedder, monkeypatch, coded):
    monkeypatch.setattr(evaluation, "configured_embedder", lambda settings: embedder)
    texts, labels, test_texts, test_labels = coded
    paths = {}
    for name, rows in (("train", zip(texts, labels)), ("test", zip(test_texts, test_labels)),
                       ("taxonomy_test", [("We were charged twice this month", "billing"),
                                          ("The iPhone app crashes on launch", "mobile")])):
        paths[name] = tmp_path / f"{name}.csv"
        with paths[name].open("w", newline="") as fh:
            csv.writer(fh).writerows([("text", "label"), *rows])
    return paths


def test_eval_baseline_is_tfidf_when_the_labels_are_not_the_taxonomys(files):
    settings = settings_from_dict({"models": {"model_dir": "no-such-folder"}})
    result = evaluation.evaluate("category", files["test"], settings, train_file=files["train"])
    assert result["baseline"]["name"] == "tf-idf + logistic regression"
    assert result["baseline"]["accuracy"] > 0.5          # it learned the codes: a real baseline, not 0.0
    assert "tf-idf" in evaluation.format_report(result)


def test_eval_baseline_is_zero_shot_for_taxonomy_labels_and_absent_without_training_data(files):
    settings = settings_from_dict({"models": {"model_dir": "no-such-folder"}})
    result = evaluation.evaluate("category", files["taxonomy_test"], settings)
    assert result["baseline"]["name"] == "zero-shot"
    installed = evaluation.evaluate("category", files["test"], settings)   # shipped head, foreign labels
    assert "baseline" not in installed and "--train" in installed["baseline_note"]


def _peaked(rows, top, rest, labels=4):
    """Logits with one label at `top` and the others at `rest`: softmax-confident whatever the level."""
    z = np.full((rows, labels), float(rest))
    z[np.arange(rows), np.arange(rows) % labels] = top
    return z


def test_energy_abstention_catches_out_of_scope_texts_the_top_probability_misses(tmp_path):
    # In scope: one label fits strongly. Out of scope: one label fits a little better than the
    # rest, all weakly: the softmax is as sure as in scope (5 logits apart), the energy is not.
    in_logits = np.vstack([_peaked(40, 10.0, 5.0), _peaked(4, 6.0, 5.5)])    # the last 4: unsure and wrong
    in_correct = np.r_[np.ones(40, bool), np.zeros(4, bool)]
    oos_logits = _peaked(20, 2.0, -3.0)
    rule, threshold, card = choose_abstention(in_logits, in_correct, oos_logits, temperature=1.0, max_loss=0.03)
    assert rule == "energy" and card["oos_recall"] == 1.0 and card["inscope_accuracy"] == card["inscope_accuracy_top1"]
    assert card["candidates"]["confidence"]["oos_recall"] < 0.5
    # A head carrying that rule says `uncertain` on such texts, and keeps it through save and load.
    head = Head("category", ("a", "b", "c", "d"), np.eye(4), np.zeros(4), 1.0, 0.0, "all-MiniLM-L6-v2",
                min_energy=threshold)
    loaded = load_head(save_head(head, tmp_path))
    assert loaded.min_energy == threshold and loaded.version == head.version
    assert '"format": 4' in (tmp_path / "category.json").read_text()
    texts = [""] * 8
    said = loaded.predict(np.vstack([_peaked(4, 10.0, 5.0), _peaked(4, 2.0, -3.0)]), texts)
    assert [p.label for p in said] == ["a", "b", "c", "d"] + [UNCERTAIN] * 4
    assert min(p.confidence for p in said[4:]) > 0.95          # sure by the softmax, out of scope by energy
    assert np.allclose(energy(np.array([[0.0, 0.0]]), 1.0), np.log(2))
