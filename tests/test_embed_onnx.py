"""The ONNX embedding backends: same vectors as torch, exported once, and clean fallbacks."""

from __future__ import annotations

import json
import logging
import sys

import numpy as np
import pytest

from csintel import embed, embed_onnx
from csintel.config import ConfigError, settings_from_dict
from csintel.embed import embed_cached, load_embedder, packaged_model_path
from csintel.embed_onnx import OnnxEmbedder, UnsupportedModel, int8_supported, read_pipeline
from csintel.warehouse import connect

SENTENCES = [
    "I was charged twice for the annual plan, please refund the second payment.",
    "The CSV export fails with HTTP 500 since this morning.",
    "We are evaluating HubSpot because your reporting is too limited for our sales team and the "
    "dashboards time out whenever we filter by more than one region, which blocks our weekly review.",
    "Could you add dark mode?",
    "thanks",
]


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx")


@pytest.fixture(scope="session")
def onnx_fp32(onnx_cache):
    return OnnxEmbedder(packaged_model_path(), "all-MiniLM-L6-v2", onnx_cache)


@pytest.fixture(scope="session")
def onnx_int8(onnx_cache):
    return OnnxEmbedder(packaged_model_path(), "all-MiniLM-L6-v2+int8", onnx_cache, int8=True)


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)


def test_fp32_matches_torch(embedder, onnx_fp32):
    got = onnx_fp32.encode(SENTENCES)
    assert got.shape == (len(SENTENCES), embedder.dim) and got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert cosines(got, embedder.encode(SENTENCES)).min() >= 0.9999


def test_fp32_keeps_input_order_across_batches(embedder, onnx_cache):
    # Texts are sorted by length into batches of 2: the vectors must come back in input order.
    small_batches = OnnxEmbedder(packaged_model_path(), "m", onnx_cache, batch_size=2)
    assert cosines(small_batches.encode(SENTENCES), embedder.encode(SENTENCES)).min() >= 0.9999
    assert small_batches.encode([]).shape == (0, embedder.dim)


@pytest.mark.skipif(not int8_supported(), reason="int8 is used only on CPUs with VNNI; elsewhere it falls back")
def test_int8_close_to_torch(embedder, onnx_int8):
    # Ticket-like texts; a one-word text ("thanks") lands lower (~0.96): int8 error averages out
    # over more tokens.
    tickets = SENTENCES[:4]
    assert cosines(onnx_int8.encode(tickets), embedder.encode(tickets)).min() >= 0.98


def test_export_is_cached(onnx_cache, onnx_fp32, monkeypatch):
    stamp = onnx_fp32.path.stat().st_mtime_ns

    def no_export(*args, **kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr(embed_onnx, "export", no_export)
    again = OnnxEmbedder(packaged_model_path(), "all-MiniLM-L6-v2", onnx_cache)
    assert again.path == onnx_fp32.path and again.path.stat().st_mtime_ns == stamp


def test_falls_back_to_torch_without_onnxruntime(embedder, onnx_cache, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)   # makes `import onnxruntime` fail
    monkeypatch.setattr(embed, "SentenceTransformerEmbedder", lambda *a, **k: embedder)
    with caplog.at_level(logging.WARNING, logger="csintel.embed"):
        got = load_embedder.__wrapped__("", "cpu", 32, "onnx-int8", str(onnx_cache))
    assert got is embedder
    assert len(caplog.records) == 1 and "using torch" in caplog.text and "onnx" in caplog.text


def test_int8_falls_back_to_fp32_without_vnni(onnx_cache, onnx_fp32, monkeypatch, caplog):
    monkeypatch.setattr(embed_onnx, "int8_supported", lambda: False)
    with caplog.at_level(logging.WARNING, logger="csintel.embed"):
        got = load_embedder.__wrapped__("", "cpu", 32, "onnx-int8", str(onnx_cache))
    assert got.backend == "onnx" and got.name == "all-MiniLM-L6-v2"   # fp32 shares torch's vectors
    assert len(caplog.records) == 1 and "VNNI" in caplog.text


def test_unsupported_pipeline_is_refused_then_torch(embedder, tmp_path, monkeypatch, caplog):
    (tmp_path / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"},
    ]))
    with pytest.raises(UnsupportedModel, match="Dense"):
        read_pipeline(tmp_path)
    monkeypatch.setattr(embed, "SentenceTransformerEmbedder", lambda *a, **k: embedder)
    with caplog.at_level(logging.WARNING, logger="csintel.embed"):
        assert load_embedder.__wrapped__(str(tmp_path), "cpu", 32, "onnx", str(tmp_path / "c")) is embedder
    assert "Dense" in caplog.text


def test_cls_pooling_is_refused(tmp_path):
    (tmp_path / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]))
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    with pytest.raises(UnsupportedModel, match="cls"):
        read_pipeline(tmp_path)


@pytest.mark.skipif(not int8_supported(), reason="int8 is used only on CPUs with VNNI; elsewhere it falls back")
def test_int8_vectors_are_cached_apart_from_torch(embedder, onnx_int8):
    assert onnx_int8.name != embedder.name
    con = connect(None)
    hashes, texts = ["h1", "h2"], SENTENCES[:2]
    torch_vectors = embed_cached(con, embedder, hashes, texts)
    int8_vectors = embed_cached(con, onnx_int8, hashes, texts)
    assert not np.array_equal(torch_vectors, int8_vectors)   # encoded anew, not read back from torch's
    assert con.execute("SELECT count(*) FROM store.embeddings").fetchone()[0] == 4


def test_backend_config_validated():
    assert settings_from_dict({"models": {"backend": "torch"}}).models.backend == "torch"
    with pytest.raises(ConfigError, match="torch, onnx, onnx-int8"):
        settings_from_dict({"models": {"backend": "tensorrt"}})
    with pytest.raises(ValueError, match="onnx-int8"):
        load_embedder.__wrapped__("", "cpu", 32, "int4")


# The int8 export patches the model's Linear layers for torch's ONNX exporter (embed_onnx's
# _with_int8_linears); a torch upgrade could make it export plain fp32 matmuls, or fail and fall
# back to torch with only a warning. Either would halve the tagging speed silently: these fail instead.
# MiniLM-L6 has 6 layers x 6 Linear layers (query, key, value, attention output, intermediate, output).
INT8_MATMULS = 36


@pytest.mark.skipif(not int8_supported(), reason="int8 is used only on CPUs with VNNI; elsewhere it falls back")
def test_configured_int8_really_runs_int8(onnx_cache, onnx_int8, onnx_fp32, caplog):
    from csintel.embed import planned_backend

    models = settings_from_dict({"models": {"backend": "onnx-int8"}}).models
    assert planned_backend(models) == "onnx-int8"
    with caplog.at_level(logging.WARNING, logger="csintel.embed"):
        got = load_embedder.__wrapped__("", "cpu", 32, "onnx-int8", str(onnx_cache))
    assert not caplog.records, caplog.text                    # no fallback, not even a warned one
    assert got.backend == "onnx-int8" and got.name.endswith("+int8")
    graph = got.path.read_bytes()
    # Every Linear is an integer matmul in the graph onnxruntime runs; the fp32 export has none.
    assert graph.count(b"MatMulInteger") >= INT8_MATMULS and graph.count(b"DynamicQuantizeLinear") >= 1
    assert onnx_fp32.path.read_bytes().count(b"MatMulInteger") == 0
    # int8 Linear weights take a quarter of the bytes (the fp32 word embeddings, 47 MB, stay): 59 MB vs 90 MB.
    assert got.path.stat().st_size < 0.7 * onnx_fp32.path.stat().st_size


def test_planned_backend_follows_what_the_machine_can_do(monkeypatch):
    from csintel.embed import planned_backend

    def models(**kw):
        return settings_from_dict({"models": kw}).models

    assert planned_backend(models(backend="torch")) == "torch"
    assert planned_backend(models(backend="onnx-int8", device="cuda")) == "torch"
    monkeypatch.setattr(embed_onnx, "int8_supported", lambda: False)
    assert planned_backend(models(backend="onnx-int8")) == "onnx"
    monkeypatch.setattr(embed.importlib.util, "find_spec", lambda name: None)
    assert planned_backend(models(backend="onnx")) == "torch"
