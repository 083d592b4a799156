"""Turn text into vectors: the Embedder protocol and the ONNX embedder."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from paperfeed.config import Settings

MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT = 1
# BERT-style models have 512 positions; two of them hold [CLS] and [SEP].
MAX_POSITIONS = 512
# Texts are tokenized in chunks of this many, so a huge call never holds every Encoding at once.
_TOKENIZE_CHUNK = 1024
# A token covers ~4-5 characters of English; past this many characters per token a text is
# certainly longer than the cap, so only its head is tokenized (see _head).
_CHARS_PER_TOKEN_BOUND = 16

Vectors = npt.NDArray[np.float32]


class EmbedderUnavailable(Exception):
    """The exported model, or the packages that run it, are not there."""


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors of a fixed size."""

    model_id: str
    """Model, variant and token cap, e.g. "all-MiniLM-L6-v2/onnx-int8/256"; a new id means
    stored vectors must be recomputed."""
    dimensions: int

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Return an array of shape (len(texts), dimensions), one unit-length row per text."""
        ...


# The cosine from which a paper matches a short topic, per model (the part of model_id before
# the first "/"). all-MiniLM-L6-v2: below 0.30 a digest topic's "matches" were mostly noise.
MATCH_SIMILARITY = {"all-MiniLM-L6-v2": 0.30}
DEFAULT_MATCH_SIMILARITY = 0.30


# The cosine from which a paper is a clear semantic match for a short query, per model: search
# keeps the vector side's best such papers in the first page (search/rerank.py). MiniLM: on the
# bundled sample, the papers at or above 0.45 for plain-language queries were on topic.
STRONG_SIMILARITY = {"all-MiniLM-L6-v2": 0.45}
DEFAULT_STRONG_SIMILARITY = 0.45


def min_similarity(model_id: str) -> float:
    """The cosine from which a paper counts as matching a topic, for the model `model_id`."""
    return MATCH_SIMILARITY.get(model_id.split("/", 1)[0], DEFAULT_MATCH_SIMILARITY)


def strong_similarity(model_id: str) -> float:
    """The cosine from which a paper is a clear match for a short query, for `model_id`."""
    return STRONG_SIMILARITY.get(model_id.split("/", 1)[0], DEFAULT_STRONG_SIMILARITY)


def paper_text(title: str, abstract: str) -> str:
    """The text a paper is embedded by: "title. abstract" (the format the model was tuned on)."""
    title, abstract = title.strip(), abstract.strip()
    if not title or not abstract:
        return title or abstract
    return f"{title}. {abstract}"


def content_hash(text: str) -> str:
    """A stable digest of `text`, so unchanged papers are not embedded again."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class ModelManifest:
    """What `manifest.json` in an exported model folder says about the model."""

    model: str
    variant: str
    dimensions: int
    onnx_file: str
    onnx_bytes: int
    onnx_sha256: str
    tokenizer_file: str
    raw: dict[str, Any]


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(model_dir: Path, verify_checksum: bool = False) -> ModelManifest:
    """Read and check the manifest of an exported model folder.

    Raises EmbedderUnavailable when the folder is missing or incomplete. Files are checked by
    size; `verify_checksum` also hashes the ONNX file (~0.1 s per 50 MB).
    """
    manifest_path = model_dir / MANIFEST_FILE
    if not model_dir.is_dir():
        raise _unavailable(model_dir, "the folder does not exist")
    if not manifest_path.is_file():
        raise _unavailable(model_dir, f"it has no {MANIFEST_FILE}")
    try:
        raw = json.loads(manifest_path.read_text(encoding="utf-8"))
        if raw.get("format") != MANIFEST_FORMAT:
            raise _unavailable(model_dir, f"manifest format {raw.get('format')!r} is not supported")
        manifest = ModelManifest(
            model=str(raw["model"]),
            variant=str(raw["variant"]),
            dimensions=int(raw["dimensions"]),
            onnx_file=str(raw["onnx_file"]),
            onnx_bytes=int(raw["onnx_bytes"]),
            onnx_sha256=str(raw["onnx_sha256"]),
            tokenizer_file=str(raw["tokenizer_file"]),
            raw=raw,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise _unavailable(model_dir, f"{MANIFEST_FILE} is unreadable ({e!r})") from e
    onnx_path = model_dir / manifest.onnx_file
    if not onnx_path.is_file() or onnx_path.stat().st_size != manifest.onnx_bytes:
        raise _unavailable(model_dir, f"{manifest.onnx_file} is missing or has the wrong size")
    if not (model_dir / manifest.tokenizer_file).is_file():
        raise _unavailable(model_dir, f"{manifest.tokenizer_file} is missing")
    if verify_checksum and file_sha256(onnx_path) != manifest.onnx_sha256:
        raise _unavailable(model_dir, f"{manifest.onnx_file} does not match its checksum")
    return manifest


def _unavailable(model_dir: Path, reason: str) -> EmbedderUnavailable:
    return EmbedderUnavailable(
        f"no usable embedding model in {model_dir}: {reason}. "
        "Run `paperfeed model export` (or `make model`) to export it."
    )


class OnnxEmbedder:
    """Sentence embeddings from an exported transformer, run by ONNX Runtime.

    Mean pooling over the attention mask, then L2 normalisation, as sentence-transformers does
    for all-MiniLM-L6-v2. Texts longer than `max_tokens` (counting [CLS] and [SEP]) are cut.
    `threads` is ONNX Runtime's intra-op thread count (0: one per core).

    `embed` may be called from several threads at once: InferenceSession.run is thread-safe,
    and the tokenizer's settings are fixed here and never changed afterwards.

    With the int8 variant, activations are quantized per model call, so a text's vector varies
    slightly with the other texts in its batch (cosine 0.995 on average, 0.987 at worst, to
    the same text embedded alone).
    """

    def __init__(
        self, model_dir: Path, max_tokens: int = 256, batch_size: int = 32, threads: int = 0
    ) -> None:
        if not 2 <= max_tokens <= MAX_POSITIONS:
            raise ValueError(f"max_tokens must be between 2 and {MAX_POSITIONS}, not {max_tokens}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        if threads < 0:
            raise ValueError(f"threads must not be negative, not {threads}")
        manifest = read_manifest(model_dir)
        try:
            import onnxruntime  # type: ignore[import-untyped]
            from tokenizers import Tokenizer
        except ImportError as e:
            raise EmbedderUnavailable(
                f"the embedding runtime is not installed ({e}); "
                "install paperfeed with its dependencies (onnxruntime, tokenizers)"
            ) from e

        self.model_dir = model_dir
        self.manifest = manifest
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.dimensions = manifest.dimensions
        self.model_id = f"{manifest.model}/{manifest.variant}/{max_tokens}"

        tokenizer = Tokenizer.from_file(str(model_dir / manifest.tokenizer_file))
        # tokenizer.json pads every text to 128 tokens; batches are padded here instead.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=max_tokens)
        self._tokenizer = tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        # Worker threads spin between calls (ONNX Runtime's default). Turning that off cost 7 %
        # of batch throughput here, and query latency under load stays far below budget with it.
        self._session = onnxruntime.InferenceSession(
            str(model_dir / manifest.onnx_file), options, providers=["CPUExecutionProvider"]
        )
        self._input_names = {i.name for i in self._session.get_inputs()}
        self._output_name = self._session.get_outputs()[0].name
        self._head_chars = max_tokens * _CHARS_PER_TOKEN_BOUND

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed `texts`; rows are unit-length float32 vectors, in the order of `texts`."""
        vectors = np.empty((len(texts), self.dimensions), dtype=np.float32)
        for start in range(0, len(texts), _TOKENIZE_CHUNK):
            chunk = texts[start : start + _TOKENIZE_CHUNK]
            vectors[start : start + len(chunk)] = self._embed_chunk(chunk)
        return vectors

    def _embed_chunk(self, texts: Sequence[str]) -> Vectors:
        token_ids = self.token_ids(texts)
        # Longest first, so each batch is padded only to its own longest text: 1.8x faster on a
        # mix of titles and abstracts, no slower on abstracts alone (measured).
        order = sorted(range(len(texts)), key=lambda i: -len(token_ids[i]))
        vectors = np.empty((len(texts), self.dimensions), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            vectors[batch] = self._embed_batch([token_ids[i] for i in batch])
        return vectors

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """The token ids the model reads for each text: [CLS] ... [SEP], at most max_tokens."""
        heads = [self._head(text) for text in texts]
        encodings = self._tokenizer.encode_batch(heads)
        ids = [encoding.ids for encoding in encodings]
        # A head that did not fill the cap might have lost tokens that fit: tokenize it whole.
        short = [
            i
            for i, (text, head) in enumerate(zip(texts, heads, strict=True))
            if len(head) < len(text) and len(ids[i]) < self.max_tokens
        ]
        if short:
            for i, encoding in zip(
                short, self._tokenizer.encode_batch([texts[i] for i in short]), strict=True
            ):
                ids[i] = encoding.ids
        return ids

    def _head(self, text: str) -> str:
        """The text up to a space well past the token cap: tokenizing 1 MB takes 0.7 s.

        Cut at a space, every word in the head is whole, so when the head fills the cap its
        first tokens are exactly those of the whole text.
        """
        if len(text) <= self._head_chars:
            return text
        cut = text.rfind(" ", 0, self._head_chars)
        return text[:cut] if cut > 0 else text

    def _embed_batch(self, token_ids: list[list[int]]) -> Vectors:
        width = max(len(ids) for ids in token_ids)
        input_ids = np.zeros((len(token_ids), width), dtype=np.int64)
        mask = np.zeros((len(token_ids), width), dtype=np.int64)
        for row, ids in enumerate(token_ids):
            input_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1
        feed = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feed["token_type_ids"] = np.zeros_like(input_ids)
        (hidden,) = self._session.run([self._output_name], feed)
        return _mean_pool_normalize(hidden, mask)


def _mean_pool_normalize(hidden: npt.NDArray[np.float32], mask: npt.NDArray[np.int64]) -> Vectors:
    """sentence-transformers' Pooling(mean) then Normalize, with the same epsilons."""
    weights = mask[:, :, None].astype(np.float32)
    summed = (hidden.astype(np.float32) * weights).sum(axis=1)
    pooled = summed / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


def load_embedder(settings: Settings) -> OnnxEmbedder:
    """The embedder the settings describe; EmbedderUnavailable says how to export a missing one."""
    return OnnxEmbedder(
        Path(settings.model_dir),
        max_tokens=settings.embedding_max_tokens,
        batch_size=settings.embedding_batch_size,
        threads=settings.embedding_threads,
    )
