"""The tags version: derived from every input's content, the same for the tagger and for readers,
and cheap (no model loads), so a changed rule, head, list or threshold retags and nothing else does."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from csintel import tags_version as tv
from csintel.config import settings_from_dict
from csintel.resources import shipped
from csintel.tags_version import tags_version, tags_versions


@pytest.fixture
def models(tmp_path, monkeypatch):
    """A copy of the shipped models folder that the version reads instead of the real one."""
    folder = tmp_path / "models"
    shutil.copytree(shipped("models"), folder)
    monkeypatch.setattr(tv, "shipped", lambda kind: folder if kind == "models" else shipped(kind))
    return folder


def settings(tmp_path, **models):
    return settings_from_dict({"models": {"model_dir": str(tmp_path / "own"), **models}})


def test_same_inputs_same_version_and_its_form(tmp_path, models):
    assert tags_version(settings(tmp_path)) == tags_version(settings(tmp_path))
    assert tags_version(settings(tmp_path)).startswith("tags-") and len(tags_version(settings(tmp_path))) == 13


def test_every_rules_file_counts(tmp_path, models):
    before = tags_version(settings(tmp_path))
    (models / "rules").mkdir(exist_ok=True)
    (models / "rules" / "errors.yaml").write_text("patterns: [ERR-\\d+]\n", encoding="utf-8")
    added = tags_version(settings(tmp_path))
    (models / "rules" / "errors.yaml").write_text("patterns: [E-\\d+]\n", encoding="utf-8")
    edited = tags_version(settings(tmp_path))
    assert len({before, added, edited}) == 3


def test_heads_taxonomy_competitors_thresholds_and_backend_count(tmp_path, models):
    base = tags_version(settings(tmp_path))
    # A shipped head retrained in place.
    head = models / "heads" / "sentiment.npz"
    head.write_bytes(head.read_bytes() + b"\0")
    shipped_head = tags_version(settings(tmp_path))
    # A head of one's own (`csintel train`) wins over the shipped one.
    (tmp_path / "own").mkdir()
    for suffix in (".json", ".npz"):
        shutil.copy(models / "heads" / f"category{suffix}", tmp_path / "own" / f"category{suffix}")
    (tmp_path / "own" / "category.npz").write_bytes(b"other weights")
    own_head = tags_version(settings(tmp_path))
    taxonomy = tmp_path / "taxonomy.yaml"
    taxonomy.write_text((models / "taxonomy.yaml").read_text() + "\n# edited\n", encoding="utf-8")
    versions = {base, shipped_head, own_head,
                tags_version(settings(tmp_path, taxonomy=str(taxonomy))),
                tags_version(settings(tmp_path, category_min_confidence=0.4)),
                tags_version(settings(tmp_path, backend="torch"))}
    inline = settings_from_dict({"models": {"model_dir": str(tmp_path / "own")},
                                 "competitors": [{"name": "Acme CRM", "aliases": ["acme"]}]})
    versions.add(tags_version(inline))
    assert len(versions) == 7


def test_the_tagger_stamps_the_same_version_readers_compute(embedder, tmp_path):
    from csintel.classify.enricher import Enricher

    s = settings(tmp_path, backend="torch")
    enricher = Enricher(s, embedder)
    assert enricher.version == tags_version(s) == enricher.versions["tags"]
    # What actually ran is recorded beside it (a fallback from the configured backend shows here).
    assert enricher.versions["backend"] == "torch" and enricher.versions["embedding"] == embedder.name
    assert tags_versions(s)["embedding"] == "all-MiniLM-L6-v2/torch"


def test_computing_it_loads_no_model():
    code = ("import sys; from csintel.config import load_settings; from csintel.tags_version import tags_version; "
            "print(tags_version(load_settings(None))); "
            "print(sorted(m for m in ('torch', 'spacy', 'sentence_transformers', 'onnxruntime', 'prefect') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0].startswith("tags-") and out[1] == "[]"
