import json

import numpy as np
import pytest

from csintel.classify.enricher import Enricher
from csintel.classify.heads import (
    SHIPPED_HEADS, Head, compatible, expected_calibration_error, installed_head, load_head, save_head, train_head,
)
from csintel.classify.sentiment import FEATURES
from csintel.classify.taxonomy import UNCERTAIN, load_taxonomy
from csintel.config import SHIPPED_MODELS, settings_from_dict

# Eight clearly different tickets per label, and three more each to test on.
TRAIN = {
    "billing": ["We were charged twice this month", "Please send the invoice with our VAT number",
                "Refund the duplicate payment please", "Why is our bill higher than last month",
                "Can we switch to annual billing", "The invoice lists too many seats",
                "Our card was charged for a plan we cancelled", "What does the enterprise plan cost"],
    "account_access": ["I cannot log in to my account", "The password reset email never arrives",
                       "SSO login with Okta fails", "I am locked out after too many 2FA attempts",
                       "How do I reset my password", "Login page keeps redirecting back",
                       "Two-factor codes are rejected", "My session expires every few minutes"],
    "mobile": ["The iPhone app crashes on launch", "Android app does not sync my tasks",
               "Push notifications stopped on my phone", "The mobile app is slow to open",
               "Can I use the app offline on my phone", "The iOS app shows a blank screen",
               "Mobile app logs me out all the time", "Is there an iPad version of the app"],
}
TEST = {"billing": ["Please refund the double charge on our card", "The invoice total is wrong",
                    "How much do extra seats cost per month"],
        "account_access": ["I can't sign in, my password is not accepted", "Our SAML single sign-on is broken",
                           "Please unlock my account"],
        "mobile": ["The Android app keeps crashing", "The phone app won't load my deals",
                   "Push alerts no longer arrive on iOS"]}


def _flat(data):
    return [t for ts in data.values() for t in ts], [lab for lab, ts in data.items() for _ in ts]


@pytest.fixture(scope="module")
def head(embedder):
    texts, labels = _flat(TRAIN)
    return train_head("category", texts, labels, embedder, trained_on="tiny")


def test_head_with_8_per_label_beats_chance(head, embedder):
    texts, labels = _flat(TEST)
    predicted = [p.label for p in head.predict(embedder.encode(texts), texts)]
    accuracy = np.mean([p == t for p, t in zip(predicted, labels)])
    assert accuracy >= 0.75, predicted    # chance is 1/3
    cv = head.card["cross_validation"]
    assert cv["folds"] == 5 and 0 < head.temperature and 0.0 <= cv["ece"] <= 1.0


def test_save_load_round_trip(head, embedder, tmp_path):
    path = save_head(head, tmp_path)
    assert path == tmp_path / "category.json"
    assert {p.name for p in tmp_path.iterdir()} == {"category.json", "category.npz", "category.md"}
    meta = json.loads(path.read_text())
    loaded = load_head(path)
    assert meta["version"] == loaded.version and loaded.labels == head.labels
    texts = TEST["mobile"]
    vectors = embedder.encode(texts)
    assert np.allclose(loaded.probabilities(vectors, texts), head.probabilities(vectors, texts), atol=1e-4)
    assert "tiny" in (tmp_path / "category.md").read_text()
    np.load(tmp_path / "category.npz", allow_pickle=False)   # plain arrays, no pickled objects


def test_load_rejects_a_broken_head(head, tmp_path):
    path = save_head(head, tmp_path)
    meta = json.loads(path.read_text())
    path.write_text(json.dumps(meta | {"labels": ["only", "two"]}))
    with pytest.raises(ValueError, match="do not match its 2 labels"):
        load_head(path)
    (tmp_path / "category.npz").unlink()
    with pytest.raises(ValueError, match="cannot read"):
        load_head(path)


def test_abstains_below_min_confidence(head, embedder):
    texts = ["hello", "thanks for the call yesterday", *TEST["billing"]]
    vectors = embedder.encode(texts)
    answered = head.predict(vectors, texts, min_confidence=0.0)
    assert UNCERTAIN not in {p.label for p in answered}
    top = head.probabilities(vectors, texts).max(axis=1)
    threshold = float(np.sort(top)[len(top) // 2])
    gated = head.predict(vectors, texts, min_confidence=threshold)
    for a, g, p in zip(answered, gated, top):
        # Below the threshold the label is withheld, but the confidence it fell short with is kept.
        assert g.label == (a.label if p >= threshold else UNCERTAIN) and g.confidence == a.confidence
    assert 0 < sum(g.label == UNCERTAIN for g in gated) < len(texts)


@pytest.mark.parametrize("labels,message", [
    (["billing"] * 4, "at least two labels"),
    (["billing", "billing", "uncertain", "uncertain"], "not a label to learn"),
    (["billing", "billing", "billing", "mobile"], "too few for mobile"),
])
def test_train_refuses_unusable_labels(embedder, labels, message):
    with pytest.raises(ValueError, match=message):
        train_head("category", ["a", "b", "c", "d"], labels, embedder, vectors=np.zeros((4, embedder.dim)))


def test_sentiment_head_reads_rule_features_and_refuses_other_labels(embedder):
    texts = ["Still broken, third time I report this!!", "This is unacceptable, we are cancelling",
             "How do I add a user?", "Where is the export button?",
             "Thanks, that fixed it!", "Love the new reports, great work"]
    labels = ["negative", "negative", "neutral", "neutral", "positive", "positive"]
    head = train_head("sentiment", texts, labels, embedder, cross_validate=False)
    assert head.coef.shape == (3, embedder.dim + len(FEATURES)) and head.dim == embedder.dim
    with pytest.raises(ValueError, match="sentiment labels must be"):
        train_head("sentiment", texts, ["bad", "bad", "good", "good", "ok", "ok"], embedder, cross_validate=False)


def test_taxonomy_prior_adds_the_labels_descriptions(embedder):
    taxonomy = load_taxonomy(SHIPPED_MODELS / "taxonomy.yaml")
    texts, labels = _flat(TRAIN)
    head = train_head("category", texts, labels, embedder, taxonomy=taxonomy, cross_validate=False)
    # Description + 3 examples for each of the three trained labels, none for the others.
    assert head.card["prior_examples"] == 12


def test_expected_calibration_error():
    assert expected_calibration_error(np.array([0.9, 0.9]), np.array([True, True])) == pytest.approx(0.1)
    assert expected_calibration_error(np.array([0.55, 0.95]), np.array([True, False])) == pytest.approx(0.7)


def test_shipped_heads_fit_the_shipped_taxonomy(embedder):
    taxonomy = load_taxonomy(SHIPPED_MODELS / "taxonomy.yaml")
    settings = settings_from_dict({"models": {"model_dir": "no-such-folder"}})
    for task in ("category", "root_cause"):
        shipped = load_head(SHIPPED_HEADS / f"{task}.json")
        assert set(shipped.labels) == {s.name for s in taxonomy.tasks[task]} and compatible(shipped, embedder)
        used = installed_head(task, settings, embedder, [s.name for s in taxonomy.tasks[task]])
        assert used is not None and used.version == shipped.version
        assert installed_head(task, settings, embedder, ["other", "labels"]) is None
    assert installed_head("sentiment", settings, embedder).labels == ("negative", "neutral", "positive")


def test_enricher_picks_up_an_installed_head_and_its_version_changes(head, embedder, tmp_path):
    plain = Enricher(settings_from_dict({"models": {"model_dir": str(tmp_path / "empty")}}), embedder)
    save_head(head, tmp_path / "models")
    trained = Enricher(settings_from_dict({"models": {"model_dir": str(tmp_path / "models")}}), embedder)
    assert trained.heads["category"].version == head.version != plain.heads["category"].version
    assert trained.version != plain.version and head.version in trained.versions["heads"]
    texts = TEST["billing"] + TEST["mobile"]
    tags, _ = trained.tag([str(i) for i in range(len(texts))], texts, embedder.encode(texts))
    assert {t.category.label for t in tags} <= set(head.labels) | {UNCERTAIN}
    assert [t.category.label for t in tags].count("billing") >= 2


def test_enricher_sentiment_head_keeps_the_rules_explanation(embedder, tmp_path):
    enricher = Enricher(settings_from_dict({"models": {"model_dir": str(tmp_path)}}), embedder)
    assert "sentiment" in enricher.heads
    texts = ["We will not be renewing, the sync has been broken for weeks.", "Thanks, that fixed it!"]
    tags, _ = enricher.tag(["1", "2"], texts, embedder.encode(texts))
    churn, thanks = (t.sentiment for t in tags)
    assert churn.label == "negative" and churn.churn_language and churn.cues and -1 <= churn.score < 0
    assert thanks.label == "positive" and 0 < thanks.score <= 1


def test_a_model_folder_head_for_another_embedding_is_an_error(head, embedder, tmp_path):
    other = Head(head.task, head.labels, head.coef, head.intercept, head.temperature, head.rule_scale,
                 "some-other-model", head.card)
    save_head(other, tmp_path)
    with pytest.raises(ValueError, match="retrain it with `csintel train --task category`"):
        Enricher(settings_from_dict({"models": {"model_dir": str(tmp_path)}}), embedder)
