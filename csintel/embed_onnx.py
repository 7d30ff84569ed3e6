"""Sentence embeddings with onnxruntime: the model's transformer exported once to ONNX (fp32, or
with int8 weights), run with the model's own tokenizer, pooling and normalisation.

Encoding is the ceiling of the tagging stage, and on a 2-core CPU onnxruntime with int8 weights
encodes about twice as fast as torch (benchmarks/bench_tagging.py). The export is done here with
`torch.onnx.export` rather than `optimum` or the `onnx` package (neither is a dependency:
sentence-transformers' `[onnx]` extra downgrades transformers); the int8 graph is written at export
time with the same operators `onnxruntime.quantization.quantize_dynamic` would emit.

Only pipelines made of a Transformer, mean Pooling and an optional Normalize are supported (the
common sentence-transformers layout); anything else raises `UnsupportedModel` and the caller falls
back to torch. Every export is checked against torch before it is cached.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

log = logging.getLogger(__name__)

# Bump when the exported graph changes, so old cached files are not reused.
EXPORT_VERSION = "2"
SUPPORTED_MODULES = ("Transformer", "Pooling", "Normalize")   # in this order; Normalize optional
# An fp32 export must reproduce torch's token embeddings almost exactly; an int8 one only closely
# (its sentence vectors are checked by cosine: ticket-like texts measured 0.988-0.999).
FP32_MAX_ABS_DIFF = 1e-3
INT8_MIN_COSINE = 0.98
_CHECK_TEXTS = (
    "The invoice total is wrong after the plan upgrade.",
    "Export to CSV fails with HTTP 500 every time I try it from the reports page, since Monday.",
    "Please add dark mode to the mobile app.",
)


class UnsupportedModel(RuntimeError):
    """The model folder holds something this backend cannot reproduce exactly."""


@dataclass(frozen=True)
class Pipeline:
    """What a sentence-transformers folder asks for, as far as this backend supports it."""

    model_dir: Path          # the folder with modules.json
    transformer_dir: Path    # the Transformer module's folder (usually the same)
    max_seq_length: int
    do_lower_case: bool


def read_pipeline(model_dir: Path) -> Pipeline:
    """Read modules.json and the module configs; refuse anything but Transformer + mean Pooling (+ Normalize).

    Raises:
        UnsupportedModel: not a local sentence-transformers folder, or a module or pooling mode
            this backend does not implement.
    """
    modules_file = model_dir / "modules.json"
    if not modules_file.is_file():
        raise UnsupportedModel(f"{model_dir} is not a local sentence-transformers folder (no modules.json)")
    modules = json.loads(modules_file.read_text(encoding="utf-8"))
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    if kinds not in (list(SUPPORTED_MODULES[:2]), list(SUPPORTED_MODULES)):
        raise UnsupportedModel(f"{model_dir}: modules {kinds} are not supported (only Transformer, mean "
                               f"Pooling and an optional Normalize)")
    transformer_dir = model_dir / str(modules[0].get("path") or "")
    pooling = json.loads((model_dir / str(modules[1]["path"]) / "config.json").read_text(encoding="utf-8"))
    if _pooling_modes(pooling) != ("mean",):
        raise UnsupportedModel(f"{model_dir}: pooling {_pooling_modes(pooling)} is not supported (only mean)")
    config_file = transformer_dir / "sentence_bert_config.json"
    st_config = json.loads(config_file.read_text(encoding="utf-8")) if config_file.is_file() else {}
    max_len = st_config.get("max_seq_length")
    if not max_len:
        raise UnsupportedModel(f"{transformer_dir}: no max_seq_length in sentence_bert_config.json")
    return Pipeline(model_dir=model_dir, transformer_dir=transformer_dir, max_seq_length=int(max_len),
                    do_lower_case=bool(st_config.get("do_lower_case", False)))


def _pooling_modes(config: dict[str, Any]) -> tuple[str, ...]:
    """Active pooling modes in either config style (`pooling_mode` or the older boolean keys)."""
    if "pooling_mode" in config:
        mode = config["pooling_mode"]
        return (mode,) if isinstance(mode, str) else tuple(mode)
    legacy = {"pooling_mode_cls_token": "cls", "pooling_mode_max_tokens": "max", "pooling_mode_mean_tokens": "mean",
              "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
              "pooling_mode_weightedmean_tokens": "weightedmean", "pooling_mode_lasttoken": "lasttoken"}
    return tuple(mode for key, mode in legacy.items() if config.get(key)) or ("mean",)


def int8_supported() -> bool:
    """Whether this CPU runs onnxruntime's u8 x s8 kernels exactly: it needs VNNI.

    Without VNNI, x86 falls back to an instruction that saturates on u8 x s8 products and
    silently degrades the vectors; elsewhere we have not measured, so we do not assume.
    """
    if platform.machine().lower() not in {"x86_64", "amd64"}:
        return False
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    flags = set(cpuinfo.split())
    return bool(flags & {"avx512_vnni", "avx_vnni"})


def onnx_cache_path(pipeline: Pipeline, cache_dir: Path, *, int8: bool) -> Path:
    """Where this model's export lives: keyed by the model's path, its files' sizes and dates, and the export code."""
    stamp = [EXPORT_VERSION, str(pipeline.model_dir.resolve())]
    for f in sorted(pipeline.transformer_dir.iterdir()):
        if f.is_file():
            st = f.stat()
            stamp.append(f"{f.name}:{st.st_size}:{st.st_mtime_ns}")
    key = hashlib.sha1("\n".join(stamp).encode()).hexdigest()[:12]
    return cache_dir / f"{pipeline.model_dir.name}-{key}" / ("model-int8.onnx" if int8 else "model.onnx")


class OnnxEmbedder:
    """A sentence-transformers model run by onnxruntime; same vectors (fp32) or close ones (int8)."""

    def __init__(self, model_dir: Path, name: str, cache_dir: Path, *, int8: bool = False,
                 batch_size: int = 32) -> None:
        import onnxruntime as ort   # ImportError reaches the caller, which falls back to torch

        self.pipeline = read_pipeline(model_dir)
        self.name = name
        self.batch_size = batch_size
        self.backend = "onnx-int8" if int8 else "onnx"
        self.path = onnx_cache_path(self.pipeline, cache_dir, int8=int8)
        self._tokenizer = _runtime_tokenizer(self.pipeline)
        if not self.path.is_file():
            export(self.pipeline, self.path, int8=int8)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        # Idle onnxruntime threads spin by default, taking a core from the rules that run between
        # batches (and from anything else on a small machine): measured 80 -> 117 texts/s and the
        # rules 10% faster on 2 shared cores with spinning off.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        self._inputs = [i.name for i in self._session.get_inputs()]
        self.dim = int(self._session.get_outputs()[0].shape[-1])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.pipeline.do_lower_case:
            texts = [t.lower() for t in texts]
        encodings = self._tokenizer.encode_batch(list(texts))
        # Longest first, like sentence-transformers: batches of similar length waste little on padding.
        order = np.argsort([-len(e.ids) for e in encodings], kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            out[rows] = self._encode_batch([encodings[i] for i in rows])
        return out

    def _encode_batch(self, encodings: list[Any]) -> np.ndarray:
        features = _features(encodings)
        tokens = self._session.run(None, {name: features[name] for name in self._inputs})[0]
        return mean_pool_normalize(tokens, features["attention_mask"])


def mean_pool_normalize(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' mean Pooling then L2 Normalize (the pipeline always normalises: the
    Embedder contract promises unit vectors)."""
    m = mask[:, :, None].astype(np.float32)
    pooled = (tokens * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
    norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    return (pooled / norms).astype(np.float32)


def _runtime_tokenizer(pipeline: Pipeline) -> Any:
    """The tokenizer for encoding: read straight from the model's tokenizer.json when it has one
    (the `tokenizers` library loads in milliseconds; `transformers` takes seconds to import, most
    of a cold `csintel tag`), set up as `_load_tokenizer` sets it up. The export, which runs once,
    checks the graph against torch with `_load_tokenizer`'s tokenizer, and the tests compare the
    vectors encoded this way with torch's."""
    path = pipeline.transformer_dir / "tokenizer.json"
    if not path.is_file():
        return _load_tokenizer(pipeline)[0]
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=pipeline.max_seq_length)
    return tokenizer


def _load_tokenizer(pipeline: Pipeline) -> tuple[Any, list[str]]:
    """The model's fast tokenizer, truncating where sentence-transformers does and never padding
    (tokenizer.json files often carry their own fixed padding and a shorter truncation), and the
    names of the features the model takes."""
    from transformers import AutoTokenizer

    loaded = AutoTokenizer.from_pretrained(str(pipeline.transformer_dir))
    tokenizer = loaded.backend_tokenizer
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=pipeline.max_seq_length)
    return tokenizer, list(loaded.model_input_names)


def export(pipeline: Pipeline, path: Path, *, int8: bool) -> None:
    """Export the transformer to `path` (atomically), checked against torch first.

    Raises:
        UnsupportedModel: the export does not reproduce torch's output.
    """
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(pipeline.transformer_dir), attn_implementation="eager").eval()
    tokenizer, names = _load_tokenizer(pipeline)
    reference = _token_embeddings_module(model, names)
    graph_model = _token_embeddings_module(_with_int8_linears(model) if int8 else model, names)
    sample = _features(tokenizer.encode_batch(["a short one", "a somewhat longer sentence to pad the first"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".onnx", dir=path.parent)
    os.close(fd)
    try:
        with _without_onnx_package(), torch.no_grad():
            torch.onnx.export(
                graph_model, tuple(torch.from_numpy(sample[n]) for n in names), tmp, dynamo=False,
                input_names=names, output_names=["token_embeddings"], opset_version=17,
                dynamic_axes={n: {0: "batch", 1: "sequence"} for n in [*names, "token_embeddings"]},
            )
        _check_export(tmp, reference, names, tokenizer, pipeline, int8=int8)
        os.chmod(tmp, 0o644)   # mkstemp makes it private; the cache is for every user of the model folder
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    log.info("exported %s to %s", pipeline.model_dir, path)


def _features(encodings: Sequence[Any]) -> dict[str, np.ndarray]:
    """Tokenizer encodings as right-padded arrays of every feature a transformer may take."""
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for row, e in enumerate(encodings):
        n = len(e.ids)
        ids[row, :n], mask[row, :n], types[row, :n] = e.ids, 1, e.type_ids
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def _check_export(path: str, reference: Any, names: list[str], tokenizer: Any, pipeline: Pipeline, *,
                  int8: bool) -> None:
    """Run the exported graph on texts of other lengths than the trace's and compare with torch."""
    import onnxruntime as ort
    import torch

    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feats = _features(tokenizer.encode_batch(list(_CHECK_TEXTS)))
    got = session.run(None, {n: feats[n] for n in names})[0]
    with torch.no_grad():
        want = reference(*(torch.from_numpy(feats[n]) for n in names)).numpy()
    if int8:
        cosine = (mean_pool_normalize(got, feats["attention_mask"])
                  * mean_pool_normalize(want, feats["attention_mask"])).sum(axis=1)
        if cosine.min() < INT8_MIN_COSINE:
            raise UnsupportedModel(f"{pipeline.model_dir}: the int8 export agrees with torch only to cosine "
                                   f"{cosine.min():.3f}")
        return
    live = feats["attention_mask"].astype(bool)
    diff = float(np.abs(got - want)[live].max())
    if diff > FP32_MAX_ABS_DIFF:
        raise UnsupportedModel(f"{pipeline.model_dir}: the ONNX export differs from torch by {diff:.2g}")


def _token_embeddings_module(model: Any, names: Sequence[str]) -> Any:
    """The transformer as a module of the tokenizer's features (positional, in `names` order)
    returning token embeddings.

    The padding mask goes in as an additive 4-D mask: transformers' own mask helpers branch in
    Python on the mask's contents, which a trace would freeze to the sample's shape.
    """
    import torch

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *features: Any) -> Any:
            kwargs = dict(zip(names, features))
            mask = kwargs.pop("attention_mask")
            additive = (1.0 - mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
            return self.model(attention_mask=additive, **kwargs).last_hidden_state

    return TokenEmbeddings().eval()


def _with_int8_linears(model: Any) -> Any:
    """A copy of the model whose Linear layers export as dynamically quantized int8 matmuls.

    Each becomes DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul -> Add, the graph
    `onnxruntime.quantization.quantize_dynamic` writes (weights int8, symmetric, per output
    channel), which onnxruntime fuses into its VNNI kernels. Embeddings, attention scores and
    layer norms stay fp32.
    """
    import copy

    import torch

    class Int8MatMul(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any, weight_q: Any, scale: Any, zero: Any, bias: Any) -> Any:
            return x @ (weight_q.to(x.dtype) * scale) + bias   # only traced for shapes

        @staticmethod
        def symbolic(g: Any, x: Any, weight_q: Any, scale: Any, zero: Any, bias: Any) -> Any:
            x_q, x_scale, x_zero = g.op("DynamicQuantizeLinear", x, outputs=3)
            product = g.op("MatMulInteger", x_q, weight_q, x_zero, zero)
            rescale = g.op("Mul", x_scale, scale)
            return g.op("Add", g.op("Mul", g.op("Cast", product, to_i=1), rescale), bias)

    class Int8Linear(torch.nn.Module):
        def __init__(self, linear: torch.nn.Linear) -> None:
            super().__init__()
            weight = linear.weight.detach().t().contiguous()               # (in, out), as MatMul wants
            scale = weight.abs().amax(dim=0).clamp(min=1e-8) / 127.0
            self.register_buffer("weight_q", torch.round(weight / scale).clamp(-127, 127).to(torch.int8))
            self.register_buffer("scale", scale.to(torch.float32))
            self.register_buffer("zero", torch.zeros(weight.shape[1], dtype=torch.int8))
            bias = linear.bias if linear.bias is not None else torch.zeros(weight.shape[1])
            self.register_buffer("bias", bias.detach().to(torch.float32))

        def forward(self, x: Any) -> Any:
            return Int8MatMul.apply(x, self.weight_q, self.scale, self.zero, self.bias)

    quantized = copy.deepcopy(model)
    for module in list(quantized.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, torch.nn.Linear):
                setattr(module, child_name, Int8Linear(child))
    return quantized


class _without_onnx_package:
    """Let torch's TorchScript exporter run without the `onnx` package.

    Its last step loads the finished model with `onnx` only to splice in onnxscript functions,
    which a plain transformer export never has; skipping it writes the same bytes. (The `onnx`
    package is not a dependency; if torch moves this hook, export fails and we fall back.)
    """

    def __enter__(self) -> None:
        from torch.onnx._internal.torchscript_exporter import onnx_proto_utils

        self._module = onnx_proto_utils
        self._saved = onnx_proto_utils._add_onnxscript_fn
        try:
            import onnx  # noqa: F401  (present: nothing to work around)
        except ImportError:
            onnx_proto_utils._add_onnxscript_fn = lambda proto, custom_opsets: proto

    def __exit__(self, *exc: object) -> None:
        self._module._add_onnxscript_fn = self._saved
