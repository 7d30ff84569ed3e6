"""Unlabelled tickets as pseudo-labelled rows (csintel.classify.semi_supervised): the kNN smoothing,
the head that keeps them only where they win on validation, and `csintel train`'s unlabelled rows."""

import numpy as np
import pytest

from csintel.classify import evaluation
from csintel.classify.head_selection import select_and_train
from csintel.classify.semi_supervised import knn_graph, pseudo_labels, usable_unlabelled

DIM = 384
LABELS = ("billing", "login", "shipping", "refund")


class TableEmbedder:
    """Vectors looked up by text (anything else: the zero vector), so a test sets the geometry."""

    name = "all-MiniLM-L6-v2"
    dim = DIM

    def __init__(self, table):
        self.table = table

    def encode(self, texts):
        return np.array([self.table.get(t, np.zeros(DIM)) for t in texts])


def _unit(rows):
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def blobs():
    """Four labels, each a tight cluster around its own direction; the few labelled tickets of a label
    sit on the side of its cluster that faces another label's, where a head fitted on them alone
    draws its boundaries badly. The unlabelled tickets fill the clusters."""
    rng = np.random.default_rng(3)
    centres = np.eye(DIM)[:len(LABELS)] * 3.0
    table, out = {}, {"labelled": ([], []), "val": ([], []), "unlabelled": []}
    for k, label in enumerate(LABELS):
        toward = centres[(k + 1) % len(LABELS)] - centres[k]
        for i in range(3):    # labelled: pulled 45% of the way toward the next label's centre
            text = f"{label} labelled {i}"
            table[text] = centres[k] + 0.45 * toward + rng.normal(0, 0.35, DIM) * (np.arange(DIM) < 8)
            out["labelled"][0].append(text)
            out["labelled"][1].append(label)
        for split, n in (("val", 30), ("unlabelled", 150)):
            for i in range(n):
                text = f"{label} {split} {i}"
                table[text] = centres[k] + rng.normal(0, 0.6, DIM) * (np.arange(DIM) < 8)
                if split == "val":
                    out["val"][0].append(text)
                    out["val"][1].append(label)
                else:
                    out["unlabelled"].append(text)
    table = dict(zip(table, _unit(np.array(list(table.values())))))
    return TableEmbedder(table), out


def test_smoothing_fixes_pseudo_labels_that_neighbours_outvote():
    # Two well-separated chains of tickets; the head's probabilities are wrong on one ticket of each.
    rng = np.random.default_rng(0)
    chains = np.vstack([np.eye(DIM)[0] + rng.normal(0, 0.05, (20, DIM)) * (np.arange(DIM) < 4),
                        np.eye(DIM)[1] + rng.normal(0, 0.05, (20, DIM)) * (np.arange(DIM) < 4)])
    chains = _unit(chains)
    truth = np.repeat([0, 1], 20)
    logits = np.where(truth[:, None] == np.arange(2), 2.0, 0.0)
    logits[[3, 27]] = logits[[3, 27]][:, ::-1]       # the head gets these two wrong, confidently
    assert (pseudo_labels(knn_graph(chains), logits) == truth).all()


def test_usable_unlabelled_drops_blanks_repeats_and_labelled_texts():
    keep = usable_unlabelled(["a new one", " ", "A  new one", "the labelled one", "another"], ["The labelled one"])
    assert keep.tolist() == [0, 4]
    assert len(usable_unlabelled([f"t{i}" for i in range(50)], [], cap=10)) == 10


def test_unlabelled_tickets_win_on_validation_and_are_recorded(blobs):
    embedder, data = blobs
    texts, labels = data["labelled"]
    val = (data["val"][0], data["val"][1], None)
    plain = select_and_train("category", texts, labels, embedder, validation=val, lexical_weights=(0.0,))
    semi = select_and_train("category", texts, labels, embedder, validation=val, lexical_weights=(0.0,),
                            unlabelled=(data["unlabelled"], None))
    assert plain.card["unlabelled"] is None and not plain.card["recipe"]["unlabelled"]
    trials = semi.card["selection"]["trials"]
    assert trials[-1]["unlabelled"] == len(data["unlabelled"])
    assert trials[-1]["accuracy"] > max(t["accuracy"] for t in trials[:-1])   # measured on val, not assumed
    assert semi.card["recipe"]["unlabelled"] and semi.card["unlabelled"]["used"]
    assert sum(semi.card["unlabelled"]["pseudo_labels"].values()) == len(data["unlabelled"])

    def accuracy(head):
        probs = head.probabilities(embedder.encode(val[0]), val[0])
        return float(np.mean([head.labels[i] == t for i, t in zip(probs.argmax(axis=1), val[1])]))
    assert accuracy(semi) > accuracy(plain)


def test_too_few_unlabelled_tickets_are_not_tried(blobs):
    embedder, data = blobs
    texts, labels = data["labelled"]
    head = select_and_train("category", texts, labels, embedder, lexical_weights=(0.0,),
                            validation=(data["val"][0], data["val"][1], None), unlabelled=(data["unlabelled"][:20], None))
    assert head.card["unlabelled"] is None
    assert all("unlabelled" not in t for t in head.card["selection"]["trials"])


def test_read_labeled_keeps_the_unlabelled_rows_texts(tmp_path):
    path = tmp_path / "tickets.csv"
    path.write_text("text,label\nrefund please,billing\nwhere is my parcel,\n,login\ncannot log in,login\n")
    data = evaluation.read_labeled(path, "category")
    assert data.texts == ["refund please", "cannot log in"] and data.unlabelled == ["where is my parcel"]
    more = tmp_path / "more.jsonl"
    more.write_text('{"text": "card declined"}\n{"text": ""}\n')
    assert evaluation.read_unlabelled(more) == ["card declined"]
    with pytest.raises(ValueError, match="text"):
        (tmp_path / "bad.csv").write_text("body\nx\n")
        evaluation.read_unlabelled(tmp_path / "bad.csv")


def test_csintel_train_offers_the_files_unlabelled_rows_and_a_second_file(blobs, tmp_path):
    from csintel.config import settings_from_dict

    embedder, data = blobs
    texts, labels = data["labelled"]
    half = len(data["unlabelled"]) // 2
    labelled = tmp_path / "labelled.csv"
    labelled.write_text("text,label\n" + "".join(f"{t},{lab}\n" for t, lab in zip(texts, labels))
                        + "".join(f"{t},\n" for t in data["unlabelled"][:half]))
    more = tmp_path / "more.csv"
    more.write_text("text\n" + "".join(f"{t}\n" for t in data["unlabelled"][half:]))
    settings = settings_from_dict({"models": {"model_dir": str(tmp_path / "models")}})
    head = evaluation.train("category", labelled, settings, embedder=embedder, fine_tune=False, unlabelled=more)
    assert head.card["examples"] == len(texts)
    assert head.card["unlabelled"]["offered"] == len(data["unlabelled"])
    # Tried in 3-fold cross-validation on the labelled rows (pseudo-labels from each fold's fitted rows),
    # used exactly when that candidate scored best there.
    trials = head.card["selection"]["trials"]
    assert trials[-1]["unlabelled"] == len(data["unlabelled"])
    won = all(trials[-1]["accuracy"] + trials[-1]["macro_f1"] > t["accuracy"] + t["macro_f1"] for t in trials[:-1])
    assert head.card["unlabelled"]["used"] == won == head.card["recipe"]["unlabelled"]


def test_the_card_says_what_the_unlabelled_tickets_did(blobs, tmp_path):
    from csintel.classify.heads import load_head, save_head

    embedder, data = blobs
    texts, labels = data["labelled"]
    head = select_and_train("category", texts, labels, embedder, lexical_weights=(0.0,),
                            validation=(data["val"][0], data["val"][1], None), unlabelled=(data["unlabelled"], None))
    path = save_head(head, tmp_path)
    card = (tmp_path / "category.md").read_text()
    assert f"{len(data['unlabelled'])} unlabelled tickets pseudo-labelled" in card
    assert f"unlabelled tickets: {len(data['unlabelled'])} offered, used with pseudo-labels" in card
    assert load_head(path).card["unlabelled"]["used"]
