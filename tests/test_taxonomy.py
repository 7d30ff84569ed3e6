import pytest

from csintel.classify.taxonomy import UNCERTAIN, TaxonomyError, ZeroShotClassifier, load_taxonomy
from csintel.config import SHIPPED_MODELS


@pytest.fixture(scope="module")
def classifier(embedder):
    return ZeroShotClassifier(load_taxonomy(SHIPPED_MODELS / "taxonomy.yaml"), embedder,
                              {"category": 0.3, "root_cause": 0.3})


@pytest.mark.parametrize("text,category", [
    ("We were billed twice for March, please refund the duplicate charge", "billing"),
    ("I can't sign in with Okta since this morning, SAML error", "account_access"),
    ("The iOS app crashes whenever I open a deal", "mobile"),
    ("Exporting our deals to CSV never completes", "data_import_export"),
])
def test_zero_shot_category(classifier, embedder, text, category):
    (pred,) = classifier.predict("category", embedder.encode([text]))
    assert pred.label == category and 0.3 <= pred.confidence <= 1.0


def test_abstains_below_threshold(embedder):
    strict = ZeroShotClassifier(load_taxonomy(SHIPPED_MODELS / "taxonomy.yaml"), embedder, {"category": 0.999})
    preds = strict.predict("category", embedder.encode(["hello", "The app is slow and billing is wrong"]))
    assert UNCERTAIN in {p.label for p in preds}


def test_bad_taxonomy_file(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text("category:\n  billing: {description: money}\nroot_cause: {}\n")
    with pytest.raises(TaxonomyError, match="'category' must map at least two labels"):
        load_taxonomy(p)
    with pytest.raises(TaxonomyError, match="not found"):
        load_taxonomy(tmp_path / "missing.yaml")


def test_probabilities_match_predictions(classifier, embedder):
    vectors = embedder.encode(["We were billed twice", "hello"])
    probs = classifier.probabilities("root_cause", vectors)
    assert probs.shape == (2, len(classifier.labels("root_cause"))) and probs.sum(axis=1) == pytest.approx([1, 1])
    for row, pred in zip(probs, classifier.predict("root_cause", vectors)):
        best = classifier.labels("root_cause")[row.argmax()]
        assert pred.confidence == round(row.max(), 4) and pred.label in (best, UNCERTAIN)
    assert classifier.prototypes("root_cause").shape == (len(classifier.labels("root_cause")), embedder.dim)
