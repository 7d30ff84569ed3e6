"""`csintel train` and `csintel eval` through the real command line (tiny files, the session model)."""

import csv
import json

import pytest

from csintel.classify import evaluation
from csintel.classify.evaluation import read_labeled, score
from csintel.cli import main

TRAIN = [
    ("We were charged twice this month", "billing", "negative"),
    ("Please send the invoice with our VAT number", "billing", "neutral"),
    ("Refund the duplicate payment please, this is the third time", "billing", "negative"),
    ("Thanks for sorting out the invoice so quickly!", "billing", "positive"),
    ("I cannot log in to my account, so frustrating", "account_access", "negative"),
    ("How do I reset my password?", "account_access", "neutral"),
    ("Where do I turn on two-factor authentication?", "account_access", "neutral"),
    ("SSO works again, thank you so much!", "account_access", "positive"),
    ("The iPhone app crashes on launch, unacceptable", "mobile", "negative"),
    ("Can I use the app offline on my phone?", "mobile", "neutral"),
    ("Love the new mobile app, great work", "mobile", "positive"),
    ("The Android app is brilliant now, thanks", "mobile", "positive"),
]
TEST = [
    ("Please refund the double charge on our card", "billing", "negative", "0"),
    ("How much do extra seats cost per month?", "billing", "neutral", "1"),
    ("I can't sign in, my password is not accepted", "account_access", "negative", "0"),
    ("Thanks, the login works again!", "account_access", "positive", "1"),
    ("The Android app keeps crashing", "mobile", "negative", "0"),
    ("Great job on the mobile app update", "mobile", "positive", "0"),
]


@pytest.fixture(autouse=True)
def session_model(embedder, monkeypatch):
    # The configured model is the packaged one the session fixture already loaded.
    monkeypatch.setattr(evaluation, "configured_embedder", lambda settings: embedder)


@pytest.fixture
def files(tmp_path):
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    with train.open("w", newline="") as fh:
        csv.writer(fh).writerows([("text", "category", "sentiment"), *TRAIN])
    with test.open("w", newline="") as fh:
        csv.writer(fh).writerows([("text", "category", "sentiment", "hard"), *TEST])
    config = tmp_path / "csintel.toml"
    config.write_text('[models]\nmodel_dir = "heads"\n')
    return train, test, config


def run_json(capsys, *argv):
    assert main(list(argv)) == 0
    out = capsys.readouterr().out.strip()
    assert "\n" not in out   # one JSON object
    return json.loads(out)


def test_eval_json_with_train_has_the_contract_keys(files, capsys):
    train, test, config = files
    result = run_json(capsys, "eval", "--task", "category", "--train", str(train), "--test", str(test), "--json",
                      "--config", str(config))
    assert {"accuracy", "macro_f1", "macro_recall", "macro_precision", "n", "per_label", "confusion",
            "baseline", "hard", "ece"} <= result.keys()
    assert result["n"] == 6 and result["hard"]["n"] == 2 and result["accuracy"] >= 0.5
    assert result["baseline"]["name"] == "zero-shot" and "trained in memory" in result["model_origin"]
    assert result["confusion"]["rows"] == ["account_access", "billing", "mobile"]
    assert sum(map(sum, result["confusion"]["matrix"])) == 6
    assert not (config.parent / "heads").exists()   # --train is in memory only


def test_sentiment_eval_reports_the_vader_baseline(files, capsys):
    _, test, config = files
    result = run_json(capsys, "eval", "--task", "sentiment", "--test", str(test), "--json", "--config", str(config))
    assert result["baseline"]["name"] == "vader"
    assert {"accuracy", "macro_recall", "macro_f1"} <= result["baseline"].keys()
    assert result["model"].startswith("sentiment-head-") and "macro_recall" in result["rules"]


def test_train_saves_to_the_model_folder_and_eval_uses_it(files, capsys):
    train, test, config = files
    assert main(["train", "--task", "category", "--labeled", str(train), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "cross-validated accuracy" in out and "saved category head" in out
    saved = json.loads((config.parent / "heads" / "category.json").read_text())
    # The text report: the installed head by version, headline and per-label figures, the confusion matrix.
    assert main(["eval", "--task", "category", "--test", str(test), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert f"model      {saved['version']} (installed)" in out
    assert "macro F1" in out and "zero-shot" in out and "confusion (rows: true" in out and "account_access" in out


def test_uncertain_rows_are_right_only_when_the_model_abstains(files, capsys):
    _, test, config = files
    rows = test.read_text().splitlines() + ["hello there,uncertain,neutral,0"]
    test.write_text("\n".join(rows) + "\n")
    config.write_text('[models]\nmodel_dir = "heads"\ncategory_min_confidence = 0.9999\n')
    result = run_json(capsys, "eval", "--task", "category", "--test", str(test), "--json", "--config", str(config))
    assert result["abstained"] == 7 and result["accuracy"] == round(1 / 7, 4)
    assert result["per_label"]["uncertain"]["recall"] == 1.0


def test_scoring_semantics():
    result = score(["a", "a", "b", "uncertain"], ["a", "uncertain", "b", "uncertain"], per_label=True)
    assert result["accuracy"] == 0.75 and result["abstained"] == 2 and result["coverage"] == 0.5
    assert result["per_label"]["a"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2, "predicted": 1}
    assert result["macro_recall"] == round((0.5 + 1 + 1) / 3, 4)   # over the labels in the truth


def test_read_labeled_takes_label_or_the_task_column(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("text,label\nhello,billing\n,billing\nbye,\n")
    assert read_labeled(path, "category").texts == ["hello"]
    path.write_text("text,category,root_cause\nhi,billing,\nyo,mobile,product_bug\n")
    assert read_labeled(path, "root_cause").labels == ["product_bug"]
    path.write_text("body,label\nhi,x\n")
    with pytest.raises(ValueError, match="needs a `text` column"):
        read_labeled(path, "category")


def test_extraction_tasks_dispatch_to_their_evaluator(files, capsys, tmp_path):
    _, _, config = files
    test = tmp_path / "errors.csv"
    test.write_text('text,label\n"Saving fails with HTTP 500",HTTP 500\n"All good now, thanks",\n')
    result = run_json(capsys, "eval", "--task", "errors", "--test", str(test), "--json", "--config", str(config))
    assert result["n"] == 2 and result["accuracy"] == 1.0 and {"macro_f1", "macro_recall"} <= result.keys()
    assert main(["eval", "--task", "errors", "--train", str(test), "--test", str(test), "--config", str(config)]) == 2
    assert "does not apply" in capsys.readouterr().err
